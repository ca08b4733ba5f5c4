"""The whole bot against the fake GitHub: a real app, a real database, real HTTP on loopback."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import settings
from bot.runtime import Runtime
from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub, generate_app_keypair
from bot.sandbox.outbox import Outbox, serve
from bot.web.app import RUNTIME, create_app
from tests.helpers import WEBHOOK_SECRET, sign

OAUTH_CLIENT_ID = "Iv1.fakeclientid"
OAUTH_CLIENT_SECRET = "fake-oauth-client-secret"


@pytest.fixture(scope="session")
def e2e_app_keys() -> AppKeyPair:
    return generate_app_keypair()


@pytest.fixture
async def github(e2e_app_keys: AppKeyPair) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(app_id="4242", public_key_pem=e2e_app_keys.public_pem) as fake:
        yield fake
    assert fake.violations == [], "the bot sent requests outside GitHub's OpenAPI description"


@pytest.fixture
def bot_env(
    github: FakeGitHub,
    e2e_app_keys: AppKeyPair,
    tmp_path: Path,
    make_env: Callable[..., dict[str, str]],
) -> Callable[[str], dict[str, str]]:
    pem = tmp_path / "app.pem"
    pem.write_text(e2e_app_keys.private_pem)

    def env(db_url: str, **extra: str) -> dict[str, str]:
        values = {
            "CLA_GITHUB_APP_ID": github.app_id,
            "CLA_GITHUB_PRIVATE_KEY_PATH": str(pem),
            "CLA_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CLA_GITHUB_API_URL": github.url,
            "CLA_GITHUB_URL": github.web_url,
            "CLA_GITHUB_CLIENT_ID": OAUTH_CLIENT_ID,
            "CLA_GITHUB_CLIENT_SECRET": OAUTH_CLIENT_SECRET,
        }
        values.update(extra)
        env = make_env(db_url, **values)
        github.add_oauth_app(
            OAUTH_CLIENT_ID,
            OAUTH_CLIENT_SECRET,
            env["CLA_PUBLIC_URL"] + "/sign/oauth/github/callback",
        )
        return env

    return env


@dataclass
class Bot:
    client: Any
    runtime: Runtime
    github: FakeGitHub

    async def deliver(
        self, event: str, payload: dict[str, Any], delivery_id: str | None = None
    ) -> int:
        body = json.dumps(payload).encode()
        resp = await self.client.post(
            "/webhooks/github",
            data=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(body),
                "Content-Type": "application/json",
            },
        )
        return int(resp.status)

    async def run_jobs(self) -> int:
        return await self.runtime.drain()


@pytest.fixture
async def bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    github: FakeGitHub,
    tmp_path: Path,
) -> Bot:

    conf = settings.load(bot_env(db_url), cwd=tmp_path)
    app = create_app(conf, run_worker=False)
    client = await aiohttp_client(app)
    return Bot(client=client, runtime=app[RUNTIME], github=github)


GITEE_CLIENT_ID = "gitee-client-id"
GITEE_CLIENT_SECRET = "gitee-client-secret"


@pytest.fixture
async def gitee() -> AsyncIterator[FakeGitee]:
    async with FakeGitee() as fake:
        yield fake
    assert fake.violations == [], "the bot sent requests the fake Gitee refuses"


@pytest.fixture
def gitee_env(gitee: FakeGitee) -> dict[str, str]:
    return {
        "CLA_GITEE_TOKEN": gitee.token,
        "CLA_GITEE_WEBHOOK_SECRET": gitee.webhook_secret,
        "CLA_GITEE_API_URL": gitee.url,
        "CLA_GITEE_URL": gitee.origin,
        "CLA_GITEE_CLIENT_ID": GITEE_CLIENT_ID,
        "CLA_GITEE_CLIENT_SECRET": GITEE_CLIENT_SECRET,
    }


@dataclass
class GiteeBot:
    client: Any
    runtime: Runtime
    gitee: FakeGitee

    async def deliver(self, payload: dict[str, Any], **delivery: Any) -> int:
        headers, body = self.gitee.delivery(payload, **delivery)
        resp = await self.client.post("/webhooks/gitee", data=body, headers=headers)
        return int(resp.status)

    async def run_jobs(self) -> int:
        return await self.runtime.drain()


@pytest.fixture
async def gitee_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    gitee_env: dict[str, str],
    gitee: FakeGitee,
    tmp_path: Path,
) -> GiteeBot:
    """A bot with both platforms connected (GitHub pointed at its fake too)."""

    env = bot_env(db_url, CLA_PUBLIC_URL="http://cla.test", **gitee_env)
    gitee.add_oauth_app(
        GITEE_CLIENT_ID, GITEE_CLIENT_SECRET, "http://cla.test/sign/oauth/gitee/callback"
    )
    conf = settings.load(env, cwd=tmp_path)
    app = create_app(conf, run_worker=False)
    client = await aiohttp_client(app)
    return GiteeBot(client=client, runtime=app[RUNTIME], gitee=gitee)


PUBLIC = "http://cla.test"


@pytest.fixture
async def web_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    github: FakeGitHub,
    tmp_path: Path,
) -> Bot:
    conf = settings.load(bot_env(db_url, CLA_PUBLIC_URL=PUBLIC), cwd=tmp_path)
    app = create_app(conf, run_worker=False)
    return Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)


async def authorize(url: str) -> str:
    """The forge's authorize page, as a browser signed in there: where it sends us back."""
    async with aiohttp.ClientSession() as browser, browser.get(url, allow_redirects=False) as auth:
        assert auth.status == 302, await auth.text()
        return auth.headers["Location"]


async def oauth_login(
    bot: Bot, login: str, *, next_path: str = "/sign/individual"
) -> aiohttp.ClientResponse:
    """Follow the login the way a browser would, as ``login`` signed in to GitHub."""
    bot.github.signed_in = login
    start = await bot.client.get(f"/sign/login/github?next={next_path}", allow_redirects=False)
    assert start.status == 302, await start.text()
    callback = await authorize(start.headers["Location"])
    assert callback.startswith(PUBLIC + "/sign/oauth/github/callback?")
    return await bot.client.get(callback[len(PUBLIC) :], allow_redirects=False)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


@pytest.fixture
async def outbox() -> AsyncIterator[tuple[Outbox, int]]:
    box = Outbox()
    server, port = await serve(box)
    yield box, port
    server.close()
    await server.wait_closed()


@pytest.fixture
async def mail_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    github: FakeGitHub,
    tmp_path: Path,
    outbox: tuple[Outbox, int],
) -> Bot:
    env = bot_env(
        db_url,
        CLA_PUBLIC_URL=PUBLIC,
        CLA_SMTP_URL=f"smtp://127.0.0.1:{outbox[1]}",
        CLA_MAIL_FROM="CLA bot <cla@example.org>",
    )
    app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
    return Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)
