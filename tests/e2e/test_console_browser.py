"""The maintainers' console in a real browser (Debian's Chromium, driven by Playwright): an
organisation's owner, named nowhere, signs in with GitHub from the console, opens their
community and searches a signer by login; every page passes axe-core (no serious or critical
violation) in English and in Chinese, and at 390 px wide none scrolls sideways."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot import settings
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub
from bot.services import signing
from bot.storage.installations import upsert_installation
from bot.storage.models import PrCheck
from bot.web.app import RUNTIME, create_app
from tests.e2e.test_accessibility import (
    BLOCKING,
    CLIENT_ID,
    CLIENT_SECRET,
    Scan,
    _axe_script,
    _free_port,
    browser,  # noqa: F401 - the module's one Chromium
)
from tests.helpers import WEBHOOK_SECRET
from tests.web.test_console import INSTALLATION, write_config

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PHONE_WIDTH = 390


@dataclass
class Console:
    github: FakeGitHub
    url: str


@pytest_asyncio.fixture(loop_scope="module")
async def console(
    tmp_path: Path, sqlite_template: Path, keys_env: dict[str, str], e2e_app_keys: AppKeyPair
) -> AsyncIterator[Console]:
    async with FakeGitHub(app_id="4242", public_key_pem=e2e_app_keys.public_pem) as github:
        pem = tmp_path / "app.pem"
        pem.write_text(e2e_app_keys.private_pem)
        db = tmp_path / "console.db"
        shutil.copyfile(sqlite_template, db)
        port = _free_port()
        public = f"http://127.0.0.1:{port}"
        env = {
            "CLA_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "CLA_CONFIG": str(write_config(tmp_path / "app.yaml")),
            "CLA_VAR_DIR": str(tmp_path / "var"),
            "CLA_PUBLIC_URL": public,
            "CLA_GITHUB_API_URL": github.url,
            "CLA_GITHUB_URL": github.web_url,
            "CLA_GITHUB_APP_ID": github.app_id,
            "CLA_GITHUB_PRIVATE_KEY_PATH": str(pem),
            "CLA_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CLA_GITHUB_CLIENT_ID": CLIENT_ID,
            "CLA_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            **keys_env,
        }
        github.add_oauth_app(CLIENT_ID, CLIENT_SECRET, f"{public}/sign/oauth/github/callback")
        github.add_org("acme")
        github.add_installation(INSTALLATION, account="acme", repos=["acme/widgets"])
        github.set_membership("acme", "olga", "admin")
        app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            runtime = app[RUNTIME]
            async with runtime.sessions() as s, s.begin():
                await upsert_installation(
                    s, platform="github", installation_id=INSTALLATION, account_login="acme"
                )
                await signing.sign(
                    s,
                    runtime.cipher,
                    platform="github",
                    account_id="501",
                    login="amy-with-a-rather-long-login-name",
                    verified_emails=["amy.jones-longer-than-most@very-long-domain.example.com"],
                    agreement_id="individual",
                    version="1.0",
                    fields={"name": "Amy Jones", "address": "1 Hidden Lane"},
                    community="acme",
                )
                s.add(
                    PrCheck(
                        platform="github",
                        repo_full_name="acme/a-repository-with-a-long-name",
                        number=1234,
                        community_id="acme",
                        head_sha="c" * 40,
                        state="open",
                        outcome="blocked",
                    )
                )
            yield Console(github, public)
        finally:
            await server.close()
        assert github.violations == []


async def no_sideways_scroll(page: Any, label: str, problems: list[str]) -> None:
    wide = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if wide[0] > wide[1]:
        problems.append(f"{label}: {wide[0]} px wide in a {wide[1]} px window")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_org_owner_uses_the_console_on_a_phone(
    browser: Any,  # noqa: F811
    console: Console,
    lang: str,
) -> None:
    scan = Scan(_axe_script(), lang)
    wide: list[str] = []
    context = await browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 844},
        locale="zh-CN" if lang == "zh" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN" if lang == "zh" else "en"},
    )
    page = await context.new_page()
    try:

        async def check(label: str) -> None:
            await scan(page, label)
            await no_sideways_scroll(page, label, wide)

        await page.goto(console.url + "/console")
        await check("/console, signed out")
        console.github.signed_in = "olga"
        async with page.expect_navigation():
            await page.locator("a.button", has_text=re.compile("GitHub")).first.click()
        await page.wait_for_url(re.compile(r".*/console$"))
        await check("/console, an org owner")
        async with page.expect_navigation():
            await page.locator("#communities a", has_text="Acme Widgets").click()
        assert await page.locator("h1").inner_text() == "Acme Widgets"
        await check("/console/acme")
        await page.locator("#search-login").fill("AMY-with-a-rather-long-login-name")
        async with page.expect_navigation():
            await page.locator("form[role=search] button[type=submit]").click()
        assert "login=AMY" in page.url
        row = await page.locator("#hits li").first.inner_text()
        assert "am***@very-long-domain.example.com" in row, row
        assert "Hidden Lane" not in await page.content()
        await check("/console/acme, a search")
        await page.goto(console.url + "/console/acme?login=nobody")
        await check("/console/acme, nothing found")
        await page.goto(console.url + "/console/beta")
        await check("/console/beta, not theirs (403)")
    finally:
        await context.close()
    assert scan.pages == 6
    assert scan.found == [], "\n".join(scan.found)
    assert wide == [], "\n".join(wide)
    assert BLOCKING == ("serious", "critical")
