"""The composition root: the start-up checks that say in the log whether each forge's
credentials work (each asks its forge once, never raises), and the worker's dispatch table that
the services register."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.errors import SettingsError
from bot.platforms.gitee.client import GiteePlatform
from bot.platforms.gitee.client import GiteeSettings as GiteeClientSettings
from bot.platforms.gitee.forge import report_gitee_token
from bot.platforms.github.client import GitHubPlatform
from bot.platforms.github.client import GitHubSettings as GitHubClientSettings
from bot.platforms.github.forge import report_github_app
from bot.runtime import build_runtime
from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import FakeGitHub, generate_app_keypair
from bot.services.jobs import ClaimedJob, RetryLater
from bot.services.mail.outbox import MailService
from bot.storage.communities import add_community, add_link, get_community
from bot.storage.db import create_engine, session_factory
from bot.storage.models import JobKind

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub() as fake:
        yield fake
    assert fake.violations == [], "requests outside GitHub's OpenAPI description"


@pytest.fixture
async def gitee() -> AsyncIterator[FakeGitee]:
    async with FakeGitee() as fake:
        yield fake


@pytest.mark.parametrize(
    ("token", "level", "line"),
    [
        (None, logging.INFO, "Gitee: the token works; the bot acts on Gitee as @cla-robot"),
        (
            "not-a-token-at-all",
            logging.WARNING,
            "Gitee: CLA_GITEE_TOKEN does not work: Gitee refused it (HTTP 401); it is wrong, "
            "expired or revoked (README: Gitee, a bot account)",
        ),
    ],
)
async def test_the_gitee_token_is_checked_once_at_start_up(
    gitee: FakeGitee,
    caplog: pytest.LogCaptureFixture,
    token: str | None,
    level: int,
    line: str,
) -> None:
    async with aiohttp.ClientSession() as http:
        platform = GiteePlatform(
            session=http,
            settings=GiteeClientSettings(token=token or gitee.token, api_url=gitee.url),
        )
        with caplog.at_level(logging.INFO, logger="bot.setup"):
            await report_gitee_token(platform)
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.setup"] == [
        (level, line)
    ]
    assert gitee.count("GET", "/user") == 1
    assert gitee.token not in caplog.text


async def test_an_unreachable_gitee_is_reported_without_stopping_the_bot(
    caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    async with aiohttp.ClientSession() as http:
        platform = GiteePlatform(
            session=http,
            settings=GiteeClientSettings(
                token="t" * 20, api_url=f"http://127.0.0.1:{unused_tcp_port}/api/v5", get_retries=0
            ),
        )
        with caplog.at_level(logging.INFO, logger="bot.setup"):
            await report_gitee_token(platform, timeout_s=5)
    (record,) = [r for r in caplog.records if r.name == "bot.setup"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("Gitee: could not check CLA_GITEE_TOKEN now: ")


async def test_the_github_apps_bot_account_is_asked_once_at_start_up(
    github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    keys = generate_app_keypair()
    github.public_key_pem = keys.public_pem
    async with aiohttp.ClientSession() as http:
        platform = GitHubPlatform(
            session=http,
            settings=GitHubClientSettings(
                app_id=github.app_id, private_key=keys.private_pem, api_url=github.url
            ),
        )
        with caplog.at_level(logging.INFO):
            await report_github_app(platform)
            assert await platform.app_login.get() == "cla-bot[bot]"
        assert "GitHub: the App's bot account is cla-bot[bot]" in caplog.text
        assert github.count("GET", "/app") == 1
        github.inject("GET", "/app", status=503)
        broken = GitHubPlatform(session=http, settings=platform.settings)
        with caplog.at_level(logging.WARNING):
            await report_github_app(broken)  # logged, never raised: asked again when needed
        assert "GitHub: could not ask GET /app now" in caplog.text


async def test_the_worker_dispatches_through_the_table_the_services_register(
    db_url: str, make_settings: Any
) -> None:
    runtime = await build_runtime(make_settings(db_url), clients={})
    try:
        assert set(runtime.handlers) == {
            JobKind.CHECK,
            JobKind.COMMAND,
            JobKind.MERGE_GROUP,
            JobKind.MAIL,
        }
        merge_group = runtime.handlers[JobKind.MERGE_GROUP]
        assert merge_group.run == runtime.checks.run_merge_group
        assert merge_group.on_dead is None
        check, command = runtime.handlers[JobKind.CHECK], runtime.handlers[JobKind.COMMAND]
        assert check.run == runtime.checks.run_job
        assert check.on_dead == runtime.checks.report_failure
        assert command.run == runtime.commands.handle_job
        assert command.on_dead is None
        assert runtime.handler("check") is check
        assert runtime.handler("bookkeeping") is None
        assert runtime.handler("installation") is None
        assert runtime.handler("a-kind-this-version-does-not-know") is None
    finally:
        await runtime.close()


async def test_mail_is_sent_when_smtp_is_set_and_kept_waiting_when_not(
    db_url: str, make_settings: Any
) -> None:
    mail = {"CLA_SMTP_URL": "smtp://127.0.0.1:2525", "CLA_MAIL_FROM": "cla@example.org"}
    runtime = await build_runtime(make_settings(db_url, **mail), clients={})
    try:
        sender = runtime.handlers[JobKind.MAIL].run
        assert isinstance(getattr(sender, "__self__", None), MailService)
    finally:
        await runtime.close()
    runtime = await build_runtime(make_settings(db_url), clients={})
    try:
        job = ClaimedJob(1, "mail", "mail", "code", "mail", {}, None, None, 1)
        with pytest.raises(RetryLater) as info:
            await runtime.handle(job)
        assert info.value.reason == "no SMTP server is configured (CLA_SMTP_URL)"
    finally:
        await runtime.close()


async def test_incomplete_mail_templates_stop_start_up(
    db_url: str, make_settings: Any, tmp_path: Any
) -> None:
    import shutil

    from bot.errors import SettingsError

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "mail" / "code.zh.html").unlink()
    env = {
        "CLA_SMTP_URL": "smtp://127.0.0.1:2525",
        "CLA_MAIL_FROM": "cla@example.org",
        "CLA_TEMPLATES_DIR": str(templates),
    }
    with pytest.raises(SettingsError) as info:
        await build_runtime(make_settings(db_url, **env), clients={})
    assert str(info.value) == "CLA_TEMPLATES_DIR: mail templates missing: code.zh.html"


@pytest.mark.parametrize("kind", ["bookkeeping", "a-kind-this-version-does-not-know"])
async def test_a_job_without_a_handler_is_done_at_once(
    kind: str, db_url: str, make_settings: Any
) -> None:
    runtime = await build_runtime(make_settings(db_url), clients={})
    try:
        job = ClaimedJob(
            id=1,
            platform="github",
            event="pull_request",
            action="closed",
            kind=kind,
            payload={},
            pr_key=None,
            installation_id=None,
            attempts=1,
        )
        await runtime.handle(job)
        await runtime.report_dead(job, "boom")
        assert runtime.metrics.value("cla_jobs_total", kind=kind, outcome="done") == 1
    finally:
        await runtime.close()


async def test_a_bad_key_file_stops_start_up_naming_the_file(tmp_path: Any) -> None:
    from bot import settings as settings_module
    from bot.errors import SettingsError
    from bot.runtime import _cipher

    var = tmp_path / "var: odd"
    var.mkdir()
    (var / "keys.json").write_text("not json", encoding="utf-8")
    (var / "keys.json").chmod(0o600)
    conf = settings_module.load({"CLA_VAR_DIR": str(var)}, cwd=tmp_path)
    with pytest.raises(SettingsError) as info:
        _cipher(conf)
    assert (info.value.name, info.value.problem) == (
        str(var / "keys.json"),
        "key file is not valid JSON",
    )


async def test_a_file_link_the_console_gave_another_community_stops_start_up(
    db_url: str, make_settings: Any, tmp_path: Path
) -> None:
    """app.yaml links github:acme to 'widgets' while the console linked it to 'tools': one
    line naming both, and nothing of the file stored."""
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    raw["communities"] = [{"id": "widgets", "links": ["github:acme"]}]
    config = tmp_path / "communities.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    settings = make_settings(db_url, CLA_CONFIG=str(config))
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await add_community(s, "tools", "Tools")
            await add_link(s, "tools", "github", "acme")
    finally:
        await engine.dispose()
    with pytest.raises(SettingsError) as refused:
        await build_runtime(settings, clients={})
    assert str(refused.value) == (
        "app.yaml communities: github:acme is linked to community 'widgets' (in app.yaml) and "
        "to community 'tools' (in the console); remove one of them"
    )
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            assert await get_community(s, "widgets") is None
    finally:
        await engine.dispose()
