"""Health, readiness, metrics and the home page of a bot with no forge connected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    assert "GitHub is not connected" in text and "CLA_GITHUB_APP_ID" in text
    assert "Gitee is not connected" in text and "CLA_GITEE_TOKEN" in text
    assert "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    assert home.headers["X-Content-Type-Options"] == "nosniff"


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
