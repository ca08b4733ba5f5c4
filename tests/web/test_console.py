"""``/console`` over HTTP, with the fake GitHub: signed out, the sign-in buttons; a named admin
and an organisation's owner who is named nowhere both see their community; a signed-in person
who administers nothing sees only that, and gets 403 on a community's page; an unknown
community is a 404; the search shows masked emails, never contact fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import settings
from bot.services import signing
from bot.storage.installations import upsert_installation
from bot.storage.models import PrCheck
from bot.web.app import RUNTIME, create_app
from bot.web.console import PAGES_PER_MINUTE
from tests.conftest import ROOT
from tests.e2e.conftest import (  # noqa: F401 - the fixtures the bot is built with
    GITEE_CLIENT_ID,
    GITEE_CLIENT_SECRET,
    PUBLIC,
    Bot,
    authorize,
    bot_env,
    e2e_app_keys,
    gitee,
    gitee_env,
    github,
    oauth_login,
)

INSTALLATION = 31


def agreement(title: str) -> dict[str, Any]:
    return {
        "id": "individual",
        "title": title,
        "versions": [
            {"version": "1.0", "text": "agreements/individual-1.0.md"},
            {
                "version": "2.0",
                "text": "agreements/corporate-1.0.md",
                "compatibility": "re-sign",
            },
        ],
    }


def write_config(path: Path) -> Path:
    """The stock manifest with two communities: Acme on a GitHub organisation, whose admins
    the forge knows, Beta naming its admin, and MindSpore on a Gitee organisation."""
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    raw.pop("cla")
    raw["communities"] = [
        {
            "id": "acme",
            "name": "Acme Widgets",
            "links": ["github:acme"],
            "agreements": [agreement("Acme Individual CLA")],
        },
        {
            "id": "beta",
            "name": "Beta Project",
            "languages": ["zh", "en"],
            "admins": ["github:nina"],
            "links": ["github:beta/tool"],
            "agreements": [agreement("Beta Individual CLA")],
        },
        {
            "id": "ms",
            "name": "MindSpore",
            "links": ["gitee:mindspore"],
            "agreements": [agreement("MindSpore Individual CLA")],
        },
    ]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def console_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],  # noqa: F811
    github: Any,  # noqa: F811
    tmp_path: Path,
) -> Bot:
    env = bot_env(
        db_url, CLA_PUBLIC_URL=PUBLIC, CLA_CONFIG=str(write_config(tmp_path / "app.yaml"))
    )
    app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
    bot = Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)
    # The App is installed on the organisation acme, and the bot was told so.
    github.add_org("acme")
    github.add_installation(INSTALLATION, account="acme", repos=["acme/widgets"])
    github.set_membership("acme", "olga", "admin")
    github.set_membership("acme", "mel", "member")
    async with bot.runtime.sessions() as s, s.begin():
        await upsert_installation(
            s, platform="github", installation_id=INSTALLATION, account_login="acme"
        )
    return bot


async def sign_in(bot: Bot, login: str) -> None:
    bot.github.signed_in = login
    done = await oauth_login(bot, login, next_path="/console")
    assert done.status in (302, 303), await done.text()
    assert done.headers["Location"] == "/console"


async def page(bot: Bot, path: str) -> tuple[int, str]:
    resp = await bot.client.get(path)
    text = await resp.text()
    assert resp.headers["Cache-Control"] == "no-store", path
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"], path
    return resp.status, text


def communities(html: str) -> list[str]:
    return re.findall(r'<a href="/console/([a-z0-9-]+)">', html)


async def test_signed_out_the_console_offers_sign_in(console_bot: Bot) -> None:
    status, html = await page(console_bot, "/console")
    assert status == 200
    assert 'href="/sign/login/github?next=/console"' in html
    assert "Sign in with GitHub" in html
    assert communities(html) == []
    # A community's page asks to sign in first, and says nothing of the community.
    status, html = await page(console_bot, "/console/acme")
    assert status == 200
    assert 'href="/sign/login/github?next=/console/acme"' in html
    assert "Acme Widgets" not in html


async def test_an_organisation_owner_named_nowhere_sees_their_community(
    console_bot: Bot,
) -> None:
    await sign_in(console_bot, "olga")
    status, html = await page(console_bot, "/console")
    assert status == 200
    assert "Signed in as GitHub @olga" in html
    assert communities(html) == ["acme"]
    status, html = await page(console_bot, "/console/acme")
    assert status == 200
    assert "<h1>Acme Widgets</h1>" in html
    assert "<code>github:acme</code></td><td>app.yaml</td>" in html
    assert "Acme Individual CLA" in html and "re-sign" in html
    # Another community's page: she administers nothing there.
    status, html = await page(console_bot, "/console/beta")
    assert status == 403
    assert "Beta Project" not in html


async def test_a_named_admin_sees_their_community(console_bot: Bot) -> None:
    await sign_in(console_bot, "Nina")
    status, html = await page(console_bot, "/console")
    assert communities(html) == ["beta"]
    status, html = await page(console_bot, "/console/beta?lang=zh")
    assert status == 200
    assert "<h1>Beta Project</h1>" in html and "zh, en" in html
    assert "关联" in html and "需重签" in html


async def test_a_non_admin_sees_nothing_to_manage(console_bot: Bot) -> None:
    await sign_in(console_bot, "mel")  # a member of acme, not an owner
    status, html = await page(console_bot, "/console")
    assert status == 200
    assert communities(html) == []
    assert "You administer no community here." in html
    assert "<table" not in html
    for path in ("/console/acme", "/console/beta"):
        status, html = await page(console_bot, path)
        assert status == 403, path
        assert "You do not administer this community" in html
        assert "Acme Individual CLA" not in html
    status, html = await page(console_bot, "/console/nope")
    assert status == 404
    assert "There is no community at this address." in html


async def test_the_search_shows_masked_emails_and_blocked_prs(console_bot: Bot) -> None:
    async with console_bot.runtime.sessions() as s, s.begin():
        await signing.sign(
            s,
            console_bot.runtime.cipher,
            platform="github",
            account_id="501",
            login="Amy",
            verified_emails=["amy.jones@example.com"],
            agreement_id="individual",
            version="1.0",
            fields={"name": "Amy Jones", "address": "1 Hidden Lane", "phone": "+1 555 0100"},
            community="acme",
        )
        s.add(
            PrCheck(
                platform="github",
                repo_full_name="acme/widgets",
                number=9,
                community_id="acme",
                head_sha="c" * 40,
                state="open",
                outcome="blocked",
            )
        )
    await sign_in(console_bot, "olga")
    status, html = await page(console_bot, "/console/acme?login=AMY")
    assert status == 200
    assert "<strong>github: @Amy</strong>" in html and "<code>individual</code> 1.0" in html
    assert "am***@example.com" in html
    for secret in ("amy.jones", "Amy Jones", "Hidden Lane", "555 0100"):
        assert secret not in html, secret
    assert "github: acme/widgets#9" in html
    # One valid signature of 1.0, none of 2.0.
    assert re.search(r"<td>1\.0</td><td>compatible</td><td>1</td>", html)
    assert re.search(r"<td>2\.0</td><td>re-sign</td><td>0</td>", html)
    status, html = await page(console_bot, "/console/acme?login=nobody")
    assert "No valid signature of this community" in html and "nobody" in html


async def test_a_gitee_organisation_admin_sees_their_community(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],  # noqa: F811
    gitee_env: dict[str, str],  # noqa: F811
    gitee: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = bot_env(
        db_url,
        CLA_PUBLIC_URL=PUBLIC,
        CLA_CONFIG=str(write_config(tmp_path / "app.yaml")),
        **gitee_env,
    )
    gitee.add_oauth_app(GITEE_CLIENT_ID, GITEE_CLIENT_SECRET, f"{PUBLIC}/sign/oauth/gitee/callback")
    # The bot's account is a member of the organisation: Gitee answers it about its members.
    gitee.add_org("mindspore")
    gitee.set_membership("mindspore", gitee.bot.login, "member")
    gitee.set_membership("mindspore", "lin", "admin")
    gitee.set_membership("mindspore", "wu", "member")
    app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
    client = await aiohttp_client(app)

    async def sign_in(login: str) -> list[str]:
        gitee.signed_in = login
        start = await client.get("/sign/login/gitee?next=/console", allow_redirects=False)
        assert start.status == 302, await start.text()
        back = await client.get((await authorize(start.headers["Location"]))[len(PUBLIC) :])
        assert back.status == 200 and back.url.path == "/console"
        return communities(await back.text())

    assert await sign_in("lin") == ["ms"]
    resp = await client.get("/console/ms")
    assert resp.status == 200 and "MindSpore Individual CLA" in await resp.text()
    # A member of the organisation (a GitHub login's community is not Gitee's either).
    assert await sign_in("wu") == []
    assert (await client.get("/console/ms")).status == 403


async def test_a_signed_in_account_is_held_to_a_page_rate(console_bot: Bot) -> None:
    await sign_in(console_bot, "olga")
    for _ in range(PAGES_PER_MINUTE):
        assert (await console_bot.client.get("/console/acme?login=amy")).status == 200
    status, html = await page(console_bot, "/console/acme")
    assert status == 429
    assert "Acme Widgets" not in html
