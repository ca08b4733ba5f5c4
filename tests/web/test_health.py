"""Health, readiness, metrics and the home page of a bot with no forge connected."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot import runtime
from bot.web import app as app_module
from bot.web.app import create_app
from bot.web.keys import ENGINE


async def test_unconfigured_bot_serves_and_says_what_is_missing(
    aiohttp_client: Any, db_url: str, make_settings: Any
) -> None:
    client = await aiohttp_client(create_app(make_settings(db_url), run_worker=False, clients={}))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["database"] == "ok"
    home = await client.get("/")
    text = await home.text()
    assert "GitHub is not connected" in text and "Gitee is not connected" in text
    # The settings to set are named as code, as everywhere else on the page.
    for name in (
        "CLA_GITHUB_APP_ID",
        "CLA_GITHUB_PRIVATE_KEY_PATH",
        "CLA_GITHUB_PRIVATE_KEY",
        "CLA_GITHUB_WEBHOOK_SECRET",
        "app.yaml",
        "CLA_GITEE_TOKEN",
        "CLA_GITEE_WEBHOOK_SECRET",
    ):
        assert f"<code>{name}</code>" in text, name
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    assert home.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Set CLA_TOY_TOKEN.", "Set <code>CLA_TOY_TOKEN</code>."),
        ("from app.yaml, or <b>", "from <code>app.yaml</code>, or &lt;b&gt;"),
        ("the toy's secret", "the toy&#x27;s secret"),
    ],
)
def test_what_connecting_takes_names_settings_as_code(text: str, html: str) -> None:
    assert app_module.with_code(text) == html


async def test_readyz_fails_when_the_database_is_gone(
    aiohttp_client: Any, sqlite_url: str, make_settings: Any
) -> None:
    app = create_app(make_settings(sqlite_url), run_worker=False, clients={})
    client = await aiohttp_client(app)
    engine = app[ENGINE]
    engine.sync_engine.pool.dispose()
    real_connect = engine.sync_engine.pool._creator  # type: ignore[attr-defined]

    def broken() -> Any:
        raise OSError("database host unreachable")

    engine.sync_engine.pool._creator = broken  # type: ignore[attr-defined]
    try:
        resp = await client.get("/readyz")
        assert resp.status == 503
    finally:
        engine.sync_engine.pool._creator = real_connect  # type: ignore[attr-defined]
    assert (await client.get("/readyz")).status == 200


async def test_metrics_count_deliveries(
    aiohttp_client: Any,
    sqlite_url: str,
    make_settings: Any,
    github_env: dict[str, str],
    delivery: Callable[..., Any],
) -> None:
    client = await aiohttp_client(
        create_app(make_settings(sqlite_url, **github_env), run_worker=False, clients={})
    )
    body, headers = delivery("watch", {"action": "started"})
    await client.post("/webhooks/github", data=body, headers=headers)
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    await client.post("/webhooks/github", data=body, headers=headers)
    text = await (await client.get("/metrics")).text()
    assert (
        'cla_webhook_deliveries_total{event="watch",outcome="ignored",platform="github"} 1' in text
    )
    assert 'outcome="bad_signature"' in text
    assert "cla_queue_depth 0" in text


@pytest.mark.parametrize(
    ("public_url", "warned"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("https://cla.example.org", False),
    ],
)
async def test_a_loopback_public_url_is_warned_about_once_a_forge_is_connected(
    public_url: str,
    warned: bool,
    aiohttp_client: Any,
    sqlite_url: str,
    make_settings: Any,
    github_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    conf = make_settings(sqlite_url, CLA_PUBLIC_URL=public_url, **github_env)
    caplog.set_level(logging.WARNING, logger="bot.app")
    runtime.describe(conf)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    expected = (
        f"CLA_PUBLIC_URL is {public_url}, a loopback address: the links the bot posts on pull "
        "requests and the forges' webhooks reach only this machine; set CLA_PUBLIC_URL to the "
        "address people and the forge use (in the environment, or in var/github-app.env)"
    )
    assert warnings == ([expected] if warned else [])
    client = await aiohttp_client(create_app(conf, run_worker=False, clients={}))
    home = await (await client.get("/")).text()
    assert ('id="loopback-warning"' in home) is warned
    if warned:
        assert f"<code>CLA_PUBLIC_URL</code> is <code>{public_url}</code>" in home


async def test_no_loopback_warning_without_a_forge(
    sqlite_url: str, make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The sandbox-less first run: the home page already says what is missing."""
    conf = make_settings(sqlite_url, CLA_PUBLIC_URL="http://127.0.0.1:8080")
    caplog.set_level(logging.WARNING, logger="bot.app")
    runtime.describe(conf)
    assert [r.getMessage() for r in caplog.records if "loopback" in r.getMessage()] == []
