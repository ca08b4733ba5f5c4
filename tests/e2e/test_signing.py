"""Signing on the web with GitHub OAuth, against the fake GitHub's OAuth pages and API."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot import settings
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.storage.models import OAuthState, Signature, Signer, SignerAccount, WebSession, utcnow
from bot.web.app import create_app
from tests.cli.test_imports import _dump
from tests.e2e.conftest import PUBLIC, Bot, authorize, csrf_of, oauth_login

REPO = "acme/widgets"


async def count(bot: Bot, model: type) -> int:
    async with bot.runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def block(bot: Bot, repo: str, number: int, login: str) -> Any:
    gh = bot.github
    pr = gh.add_pr(repo, number=number, author=login, commits=1)
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    return pr


async def test_sign_with_github_turns_every_blocked_pr_green(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.add_installation(1, account="acme", repos=[REPO, "acme/two", "other/three"])
    gh.set_emails("alice", ("alice@example.com", True), ("old@example.net", False))
    prs = [
        await block(web_bot, REPO, 1, "alice"),
        await block(web_bot, "acme/two", 2, "alice"),
        await block(web_bot, "other/three", 3, "alice"),
    ]
    await web_bot.run_jobs()
    assert all(gh.status_for(p.head_sha, "cla").state == "failure" for p in prs)  # type: ignore[union-attr]
    link = re.search(
        r"\((http://cla\.test/sign/[^)\s]+)\)|(http://cla\.test/sign/\S+)",
        gh.bot_comments(prs[0])[0].body,
    )
    assert link is not None

    page = await web_bot.client.get("/sign/individual?platform=github")
    text = await page.text()
    assert "Sign in with GitHub" in text and "Individual Contributor License Agreement" in text

    callback = await oauth_login(web_bot, "alice")
    assert callback.status == 303 and callback.headers["Location"] == "/sign/individual"
    cookie = callback.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("cla_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # http public URL
    assert callback.headers["Cache-Control"] == "no-store"

    form_page = await web_bot.client.get("/sign/individual")
    html = await form_page.text()
    assert form_page.headers["Cache-Control"] == "no-store"
    assert "alice@example.com" in html and "old@example.net" not in html  # verified only
    resp = await web_bot.client.post(
        "/sign/individual",
        data={
            "csrf": csrf_of(html),
            "name": "Alice Example",
            "email": "alice@example.com",
            "phone": "+86 10 1234 5678",
            "accept": "yes",
            "privacy": "yes",
        },
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/sign/individual/done?rechecked=3"
    done = await web_bot.client.get(resp.headers["Location"])
    done_html = await done.text()
    assert "Alice Example" in done_html and "+86 10 1234 5678" in done_html
    assert done.headers["Cache-Control"] == "no-store"
    receipt = await (await web_bot.client.get("/sign/individual/receipt.json")).json()
    assert receipt["identity"] == {
        "platform": "github",
        "account_id": str(gh.user("alice").id),
        "login": "alice",
    }
    assert (
        len(receipt["agreement"]["text_sha256"]) == 64
        and receipt["recorded"]["name"] == "Alice Example"
    )

    assert await web_bot.run_jobs() == 3  # no push, no comment: the signature queued them
    for p in prs:
        assert gh.status_for(p.head_sha, "cla").state == "success"  # type: ignore[union-attr]
        assert gh.labels_of(p) == ["cla/yes"]
        comments = gh.bot_comments(p)
        assert len(comments) == 1 and "All contributors are covered" in comments[0].body

    again = await (await web_bot.client.get("/sign/individual")).text()
    assert 'id="already-signed"' in again


async def test_tampered_replayed_or_foreign_callbacks_are_refused(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.set_emails("mallory", ("m@example.com", True))
    gh.signed_in = "mallory"
    start = await web_bot.client.get("/sign/login/github", allow_redirects=False)
    callback = (await authorize(start.headers["Location"]))[len(PUBLIC) :]
    query = parse_qs(urlsplit(callback).query)
    # tampered state
    bad = callback.replace(query["state"][0], query["state"][0][:-2] + "xx")
    resp = await web_bot.client.get(bad, allow_redirects=False)
    assert resp.status == 400 and "invalid, expired or was already used" in await resp.text()
    # another browser (no pre-login cookie) cannot use this browser's callback
    async with aiohttp.ClientSession() as other:
        url = str(web_bot.client.make_url(callback))
        async with other.get(url, allow_redirects=False) as r:
            assert r.status == 400
    # that attempt used the state up: the real browser's callback is now refused as well
    resp = await web_bot.client.get(callback, allow_redirects=False)
    assert resp.status == 400
    assert await count(web_bot, WebSession) == 0
    # a fresh attempt works once, and its replay does not
    ok = await oauth_login(web_bot, "mallory")
    assert ok.status == 303
    replay_target = ok.url.path_qs
    replay = await web_bot.client.get(replay_target, allow_redirects=False)
    assert replay.status == 400
    assert await count(web_bot, WebSession) == 1


async def test_expired_state_is_refused(web_bot: Bot) -> None:
    gh = web_bot.github
    gh.set_emails("erin", ("erin@example.com", True))
    gh.signed_in = "erin"
    start = await web_bot.client.get("/sign/login/github", allow_redirects=False)
    callback = (await authorize(start.headers["Location"]))[len(PUBLIC) :]
    async with web_bot.runtime.sessions() as s, s.begin():
        await s.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await web_bot.client.get(callback, allow_redirects=False)).status == 400
    assert await count(web_bot, WebSession) == 0


async def test_pkce_and_state_are_sent(web_bot: Bot) -> None:
    start = await web_bot.client.get("/sign/login/github", allow_redirects=False)
    q = parse_qs(urlsplit(start.headers["Location"]).query)
    assert len(q["state"][0]) == 43  # 256 bits, URL-safe base64
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["redirect_uri"] == [PUBLIC + "/sign/oauth/github/callback"]
    prelogin = next(c for c in start.headers.getall("Set-Cookie") if c.startswith("cla_prelogin="))
    assert "HttpOnly" in prelogin and "SameSite=Lax" in prelogin


@pytest.mark.parametrize(
    "next_param",
    ["https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:alert(1)"],
)
async def test_off_site_next_is_never_followed(web_bot: Bot, next_param: str) -> None:
    web_bot.github.set_emails("oscar", ("o@example.com", True))
    resp = await oauth_login(web_bot, "oscar", next_path=next_param.replace("&", "%26"))
    assert resp.status == 303
    assert resp.headers["Location"] == "/sign/individual"


async def test_missing_or_wrong_csrf_creates_nothing(web_bot: Bot) -> None:
    web_bot.github.set_emails("carl", ("carl@example.com", True))
    await oauth_login(web_bot, "carl")
    fields = {"name": "Carl", "email": "carl@example.com", "accept": "yes", "privacy": "yes"}
    for extra in ({}, {"csrf": "forged"}):
        resp = await web_bot.client.post(
            "/sign/individual", data={**fields, **extra}, allow_redirects=False
        )
        assert resp.status == 403
    assert await count(web_bot, Signature) == 0 and await count(web_bot, Signer) == 0


async def test_form_errors_keep_the_values_and_write_nothing(web_bot: Bot) -> None:
    web_bot.github.set_emails("dora", ("dora@example.com", True))
    await oauth_login(web_bot, "dora")
    html = await (await web_bot.client.get("/sign/individual")).text()
    resp = await web_bot.client.post(
        "/sign/individual",
        data={
            "csrf": csrf_of(html),
            "name": "",
            "email": "someone-else@example.com",
            "address": "1 Main St",
            "phone": "call me",
            "accept": "yes",
        },
    )
    assert resp.status == 400
    text = await resp.text()
    assert 'id="err-name"' in text and 'id="err-email"' in text and 'id="err-phone"' in text
    assert 'id="err-privacy"' in text and 'id="err-accept"' not in text
    assert "1 Main St" in text  # kept
    assert "Traceback" not in text
    assert await count(web_bot, Signature) == 0


async def test_not_signed_in_cannot_post(web_bot: Bot) -> None:
    resp = await web_bot.client.post("/sign/individual", data={"name": "x"})
    assert resp.status == 401
    assert await count(web_bot, Signature) == 0


async def test_pages_speak_chinese_when_asked(web_bot: Bot) -> None:
    zh = await web_bot.client.get("/sign/individual", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    text = await zh.text()
    assert "使用 GitHub 登录" in text and "个人贡献者许可协议" in text and 'lang="zh-CN"' in text
    en = await web_bot.client.get("/sign/individual?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Sign in with GitHub" in await en.text()
    assert "cla_lang=en" in en.headers["Set-Cookie"]
    csp = en.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


async def test_login_is_rate_limited_per_address(web_bot: Bot) -> None:
    codes = [
        (await web_bot.client.get("/sign/login/github", allow_redirects=False)).status
        for _ in range(25)
    ]
    assert codes[:20] == [302] * 20 and 429 in codes[20:]


async def test_https_public_url_sets_secure_cookies(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    github: FakeGitHub,
    tmp_path: Path,
) -> None:
    conf = settings.load(bot_env(db_url, CLA_PUBLIC_URL="https://cla.example.org"), cwd=tmp_path)
    client = await aiohttp_client(create_app(conf, run_worker=False))
    start = await client.get("/sign/login/github", allow_redirects=False)
    assert "Secure" in next(
        c for c in start.headers.getall("Set-Cookie") if c.startswith("cla_prelogin=")
    )


async def test_a_second_platform_links_to_the_same_signer_by_verified_email(web_bot: Bot) -> None:
    """Signing twice (e.g. GitHub, then another GitHub account sharing a verified email) links
    accounts to one person instead of creating a second signer."""
    gh = web_bot.github
    gh.set_emails("pat", ("pat@example.com", True))
    gh.set_emails("pat-work", ("pat@example.com", True), ("pat@corp.example", True))
    for login in ("pat", "pat-work"):
        await oauth_login(web_bot, login)
        html = await (await web_bot.client.get("/sign/individual")).text()
        if 'id="already-signed"' in html:
            continue
        await web_bot.client.post(
            "/sign/individual",
            data={
                "csrf": csrf_of(html),
                "name": "Pat",
                "email": "pat@example.com",
                "accept": "yes",
                "privacy": "yes",
            },
        )
    assert await count(web_bot, Signer) == 1
    assert await count(web_bot, SignerAccount) == 1  # the second account was already covered


async def test_database_dump_after_web_signing_has_no_canary(web_bot: Bot, db_url: str) -> None:
    gh = web_bot.github
    gh.set_emails("canary", ("Quetzal.Canary@Example.ORG", True))
    await oauth_login(web_bot, "canary")
    html = await (await web_bot.client.get("/sign/individual")).text()
    values = {
        "name": "Quetzalcoatl Canaryname",
        "address": "77 Canary Wharf Lane",
        "phone": "+44 7700 900123",
        "fax": "+44 7700 900456",
    }
    resp = await web_bot.client.post(
        "/sign/individual",
        data={
            "csrf": csrf_of(html),
            "email": "Quetzal.Canary@Example.ORG",
            "accept": "yes",
            "privacy": "yes",
            **values,
        },
        allow_redirects=False,
    )
    assert resp.status == 303
    dump = _dump(db_url).lower()
    for canary in [
        *values.values(),
        "quetzal.canary@example.org",
        "quetzal",
        "canary wharf",
        "7700 900",
    ]:
        assert canary.lower() not in dump, f"{canary!r} in the database dump"
