"""No request from someone who is not signed in makes the bot call a forge: every route the
app serves, asked anonymously, with both forges configured against their fakes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot import settings
from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.web.app import create_app

SAMPLE = {
    "agreement": "individual",
    "platform": "github",
    "account": "octocat",
    "owner": "acme",
    "repo": "widgets",
    "number": "1",
    "uid": "no-such-company",
    "forge": "github",
}
SKIPPED = "/webhooks/"  # signed deliveries, tested on their own
EXTRA_GETS = [
    "/no/such/page",
    "/sign/corporate",
    "/sign/no-such-agreement",
    "/sign/login/gitee",
    "/sign/oauth/github/callback?code=c0de&state=forged",
    "/sign/oauth/gitee/callback?code=c0de&state=forged",
    "/setup/github/callback?code=c0de&state=forged",
    "/setup?lang=zh",
    "/setup/gitee",
    "/setup/gitee?lang=zh",
    "/setup/nosuchforge",
]
EXTRA_POSTS = ["/setup/gitee", "/setup/nosuchforge"]


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeGitHub, FakeGitee]]:
    async with FakeGitHub() as github, FakeGitee() as gitee:
        yield github, gitee


def _paths(app: web.Application, method: str) -> list[str]:
    found: list[str] = []
    for resource in app.router.resources():
        info = resource.get_info()
        template = info.get("path") or info.get("formatter")
        if not template or template.startswith((SKIPPED, "/static")):
            continue
        if not any(route.method == method for route in resource):
            continue
        found.append(
            re.sub(r"\{(\w+)[^}]*\}", lambda m: SAMPLE.get(m.group(1), "sample"), template)
        )
    return found


@pytest.mark.parametrize("configured", ["both forges", "no forge"])
async def test_anonymous_requests_make_no_forge_call(
    aiohttp_client: Any,
    make_env: Callable[..., dict[str, str]],
    sqlite_url: str,
    fakes: tuple[FakeGitHub, FakeGitee],
    app_private_key_pem: str,
    tmp_path: Path,
    configured: str,
) -> None:
    github, gitee = fakes
    urls = {
        "CLA_GITHUB_API_URL": github.url,
        "CLA_GITHUB_URL": github.web_url,
        "CLA_GITEE_API_URL": gitee.url,
        "CLA_GITEE_URL": gitee.origin,
    }
    pem = tmp_path / "app.pem"
    pem.write_text(app_private_key_pem)
    forges = {
        "CLA_GITHUB_APP_ID": "4242",
        "CLA_GITHUB_PRIVATE_KEY_PATH": str(pem),
        "CLA_GITHUB_WEBHOOK_SECRET": "w" * 20,
        "CLA_GITHUB_CLIENT_ID": "Iv1.client",
        "CLA_GITHUB_CLIENT_SECRET": "client-secret",
        "CLA_GITEE_TOKEN": gitee.token,
        "CLA_GITEE_WEBHOOK_SECRET": gitee.webhook_secret,
        "CLA_GITEE_CLIENT_ID": "gitee-client",
        "CLA_GITEE_CLIENT_SECRET": "gitee-secret",
    }
    env = make_env(sqlite_url, **urls, **(forges if configured == "both forges" else {}))
    app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
    client = await aiohttp_client(app)
    gets = _paths(app, "GET") + EXTRA_GETS
    posts = _paths(app, "POST") + EXTRA_POSTS
    assert (
        "/setup/github" in gets
        and "/setup/github" in posts
        and "/sign/{agreement}" not in gets
        and posts
    )
    statuses: dict[str, int] = {}
    for path in gets:
        for _ in range(3):  # a cached answer would show only from the second view on
            resp = await client.get(path, allow_redirects=False)
            statuses[f"GET {path}"] = resp.status
    for path in posts:
        resp = await client.post(path, data={"csrf": "forged"}, allow_redirects=False)
        statuses[f"POST {path}"] = resp.status
    assert [r.route for r in github.requests] == []
    assert [r.route for r in gitee.requests] == []
    assert all(status < 500 for status in statuses.values()), statuses
