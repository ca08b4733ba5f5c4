"""Accessibility in a real browser (Debian's Chromium, driven by Playwright): axe-core on every
page the bot serves, in English and Chinese, fails on any serious or critical violation; and a
refused form puts the focus on its first invalid field, which names its message.

axe-core comes from the ``axe-playwright-python`` package (a test extra), which ships
``axe.min.js`` (axe-core 4.12, MPL-2.0); nothing is fetched at test time. One browser serves the
whole module (Chromium is slow to start here); each test has its own bots and one context.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from bot import settings
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub
from bot.sandbox.outbox import Outbox, serve
from bot.web.app import RUNTIME, create_app
from tests.e2e.browser import CHROMIUM_ARGS, chromium_or_skip
from tests.e2e.test_corporate import invitation_link, last_code
from tests.helpers import WEBHOOK_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "Iv1.axeclient", "axe-client-secret"
BLOCKING = ("serious", "critical")


def _axe_script() -> str:
    try:
        from axe_playwright_python.base import AXE_FILE_PATH
    except ImportError:
        pytest.skip("ACCESSIBILITY TESTS SKIPPED: axe-playwright-python is not installed")
    return AXE_FILE_PATH.read_text("utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, "--headless"], headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class Bots:
    """A bot connected to the fake GitHub (signing, /me, /company) and one with no forge yet
    (home page and /setup)."""

    github: FakeGitHub
    connected: str
    unconfigured: str
    servers: list[TestServer] = field(default_factory=list)
    outbox: Outbox = field(default_factory=Outbox)  # the connected bot's mail
    runtime: Any = None  # the connected bot's, to send its mail


@pytest_asyncio.fixture(loop_scope="module")
async def bots(
    tmp_path: Path,
    sqlite_template: Path,
    keys_env: dict[str, str],
    e2e_app_keys: AppKeyPair,
) -> AsyncIterator[Bots]:
    async with FakeGitHub(app_id="4242", public_key_pem=e2e_app_keys.public_pem) as github:
        found = Bots(github, "", "")
        smtp, smtp_port = await serve(found.outbox)
        pem = tmp_path / "app.pem"
        pem.write_text(e2e_app_keys.private_pem)
        for name in ("connected", "unconfigured"):
            db = tmp_path / f"{name}.db"
            shutil.copyfile(sqlite_template, db)
            port = _free_port()
            public = f"http://127.0.0.1:{port}"
            env = {
                "CLA_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                "CLA_CONFIG": str(ROOT / "app.yaml"),
                "CLA_VAR_DIR": str(tmp_path / f"var-{name}"),
                "CLA_PUBLIC_URL": public,
                "CLA_GITHUB_API_URL": github.url,
                "CLA_GITHUB_URL": github.web_url,
                **keys_env,
            }
            if name == "connected":
                env |= {
                    "CLA_GITHUB_APP_ID": github.app_id,
                    "CLA_GITHUB_PRIVATE_KEY_PATH": str(pem),
                    "CLA_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "CLA_GITHUB_CLIENT_ID": CLIENT_ID,
                    "CLA_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
                    "CLA_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                    "CLA_MAIL_FROM": "CLA bot <cla@example.org>",
                }
                github.add_oauth_app(
                    CLIENT_ID, CLIENT_SECRET, f"{public}/sign/oauth/github/callback"
                )
                found.connected = public
            else:
                found.unconfigured = public
            app = create_app(settings.load(env, cwd=tmp_path), run_worker=False)
            server = TestServer(app, host="127.0.0.1", port=port)
            await server.start_server()
            if name == "connected":
                found.runtime = app[RUNTIME]
            found.servers.append(server)
        try:
            yield found
        finally:
            for server in found.servers:
                await server.close()
            smtp.close()
            await smtp.wait_closed()
        assert github.violations == []


@dataclass
class Scan:
    """axe-core over each page visited; what it found that blocks people."""

    script: str
    lang: str
    found: list[str] = field(default_factory=list)
    pages: int = 0

    async def __call__(self, page: Any, label: str) -> None:
        await page.wait_for_load_state("load")
        await page.evaluate(self.script)
        result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        self.pages += 1
        for v in result["violations"]:
            if v["impact"] in BLOCKING:
                targets = [" ".join(n["target"]) for n in v["nodes"]][:5]
                self.found.append(f"[{self.lang}] {label}: {v['id']} ({v['impact']}) at {targets}")


async def _sign_in(page: Any, bots: Bots, login: str) -> None:
    """Click the page's *Sign in with GitHub* link as ``login`` (the fake GitHub signs them in
    and sends the browser back)."""
    bots.github.signed_in = login
    bots.github.set_emails(login, (f"{login}@example.com", True))
    async with page.expect_navigation():
        await page.locator("a.button", has_text=re.compile("GitHub")).first.click()


async def _walk(page: Any, bots: Bots, scan: Scan, lang: str) -> None:
    c, u = bots.connected, bots.unconfigured
    login = f"axe-{lang}"
    # -- signed out ------------------------------------------------------------------------------
    for path, label in [
        ("/", "home, GitHub connected"),
        ("/sign/individual?platform=github&repo=acme%2Fwidgets&pr=12", "sign, signed out"),
        ("/sign/corporate", "corporate sign, signed out"),
        ("/me", "/me, signed out"),
        ("/console", "/console, signed out"),
        ("/company", "/company, signed out"),
        ("/no/such/page", "404"),
        ("/sign/no-such-agreement", "error: unknown agreement"),
        ("/setup", "error: setup disabled"),
        ("/receipts/verify", "verify a receipt"),
        ("/receipts/verify?signature=1&agreement=a&version=1&sha256=0&signed_at=x", "no match"),
    ]:
        await page.goto(c + path)
        await scan(page, label)
    # -- signing ---------------------------------------------------------------------------------
    await page.goto(c + "/sign/individual?platform=github&repo=acme%2Fwidgets&pr=12")
    await _sign_in(page, bots, login)
    await scan(page, "sign, signed in")
    async with page.expect_navigation():
        await page.locator("button[type=submit].primary").click()
    assert await page.locator("[aria-invalid=true]").count() == 3
    await scan(page, "sign, refused form")
    await page.locator("#f-name").fill("Axe Tester")
    await page.locator("#f-address").fill("1 Road\nTown")
    await page.locator("#f-accept").check()
    await page.locator("#f-privacy").check()
    await page.locator("button[type=submit].primary").click()
    await page.wait_for_url(re.compile(r".*/sign/individual/done\?.*"))
    await scan(page, "done")
    await page.goto(c + "/sign/individual")
    await scan(page, "sign, already signed")
    # -- /me -------------------------------------------------------------------------------------
    await page.goto(c + "/me")
    await scan(page, "/me, signed in")
    await page.locator("#c-phone").fill("call me")
    async with page.expect_navigation():
        await page.locator("form[action='/me/correct'] button[type=submit]").click()
    await scan(page, "/me, refused correction")
    await page.goto(c + "/console")
    await scan(page, "/console, no community to manage")
    await page.goto(c + "/me/delete")
    await scan(page, "/me/delete")
    async with page.expect_navigation():
        await page.locator("form[action='/me/delete'] button[type=submit]").click()
    await scan(page, "/me/delete, not confirmed")
    # -- corporate -------------------------------------------------------------------------------
    await page.goto(c + "/company")
    await scan(page, "/company, no company")
    await page.goto(c + "/sign/corporate")
    await scan(page, "corporate sign, signed in")
    for name, value in [
        ("company", "Axe Testing Ltd"),
        ("name", "Axe Tester"),
        ("title", "CTO"),
        ("address", "1 Road\nTown"),
        ("email", f"{login}@axe-testing.example.com"),
    ]:
        await page.locator(f"#f-{name}").fill(value)
    await page.locator("#f-accept").check()
    await page.locator("#f-privacy").check()
    async with page.expect_navigation():
        await page.locator("button[type=submit].primary").click()
    await scan(page, "corporate sign, the code")
    await bots.runtime.drain()
    await page.locator("#code").fill("not-it")
    async with page.expect_navigation():
        await page.locator("form.sign button[type=submit]").click()
    await scan(page, "corporate sign, a wrong code")
    await page.locator("#code").fill(last_code(bots.outbox, f"{login}@axe-testing.example.com"))
    await page.locator("form.sign button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/company/\w+\?signed=1$"))
    await scan(page, "/company, signed")
    await page.locator("#invite-email").fill(f"{login}-2@axe-testing.example.com")
    async with page.expect_navigation():
        await page.locator("form[action$='/invite'] button[type=submit]").click()
    await scan(page, "/company, invited")
    await bots.runtime.drain()
    link = invitation_link(bots.outbox, f"{login}-2@axe-testing.example.com", bots.connected)
    await page.goto(c + link)
    await scan(page, "/company/invite, signed in")
    await page.goto(c + "/company/employee")
    await scan(page, "/company/employee")
    await page.goto(c + "/me")
    async with page.expect_navigation():
        await page.locator("form.whoami button").click()
    # -- a bot with no forge: home and /setup ----------------------------------------------------
    await page.goto(u + "/")
    await scan(page, "home, nothing connected")
    await page.goto(u + "/setup")
    await scan(page, "/setup")
    await page.locator("#name").fill("")
    async with page.expect_navigation():
        await page.locator("form[action='/setup/github'] button[type=submit]").click()
    await scan(page, "/setup, refused form")
    await page.locator("#name").fill(f"axe-{lang}-app")
    await page.locator("input[name=mode][value=show]").check()
    async with page.expect_navigation():
        await page.locator("form[action='/setup/github'] button[type=submit]").click()
    await scan(page, "/setup/github, the manifest")
    await page.locator("#create").click()
    await page.wait_for_url(re.compile(r".*/setup/github/callback\?.*"))
    await scan(page, "/setup/github/callback, registered")
    await page.goto(u + "/setup/gitee")
    await scan(page, "/setup/gitee")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_axe_finds_nothing_serious_on_any_page(browser: Any, bots: Bots, lang: str) -> None:
    scan = Scan(_axe_script(), lang)
    context = await browser.new_context(locale="zh-CN" if lang == "zh" else "en-US")
    try:
        for base in (bots.connected, bots.unconfigured):
            await context.add_cookies([{"name": "cla_lang", "value": lang, "url": base}])
        page = await context.new_page()
        await _walk(page, bots, scan, lang)
    finally:
        await context.close()
    assert scan.pages == 34
    assert scan.found == [], "\n".join(scan.found)


async def _focused(page: Any) -> dict[str, Any]:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    # A browser runs autofocus at its next rendering step, which may come after the load event
    # that ends the navigation (seen on a loaded machine): wait for it, briefly.
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_function(
            "document.activeElement && document.activeElement !== document.body", timeout=5000
        )
    return dict(
        await page.evaluate(
            """() => {
              const e = document.activeElement;
              const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
              return {id: e.id, invalid: e.getAttribute('aria-invalid'),
                      messages: ids.map(id => document.getElementById(id)?.textContent.trim())};
            }"""
        )
    )


async def test_a_refused_form_focuses_its_first_invalid_field(browser: Any, bots: Bots) -> None:
    c, u = bots.connected, bots.unconfigured
    context = await browser.new_context(locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(c + "/sign/individual")
        await _sign_in(page, bots, "focus")
        submit = page.locator("button[type=submit].primary")
        async with page.expect_navigation():
            await submit.click()
        assert await _focused(page) == {
            "id": "f-name",
            "invalid": "true",
            "messages": ["This field is required."],
        }
        await page.locator("#f-name").fill("Focus Tester")
        async with page.expect_navigation():
            await submit.click()
        assert await _focused(page) == {
            "id": "f-accept",
            "invalid": "true",
            "messages": ["You must accept the agreement to sign it."],
        }
        # Valid fields say nothing is wrong with them.
        assert await page.locator("#f-name").get_attribute("aria-invalid") is None
        await page.locator("#f-accept").check()
        await page.locator("#f-privacy").check()
        await page.locator("#f-address").fill("Flat 2\n9 Canary Mews\nQuietown")
        await submit.click()
        await page.wait_for_url(re.compile(r".*/done\?.*"))

        # /me: the address keeps its lines; a bad phone number is refused and focused.
        await page.goto(c + "/me")
        assert await page.locator("#c-address").input_value() == "Flat 2\n9 Canary Mews\nQuietown"
        await page.locator("#c-address").fill("Flat 3\n9 Canary Mews\nQuietown")
        await page.locator("form[action='/me/correct'] button[type=submit]").click()
        await page.wait_for_url(re.compile(r".*/me\?saved=1$"))
        assert await page.locator("#c-address").input_value() == "Flat 3\n9 Canary Mews\nQuietown"
        await page.locator("#c-phone").fill("call me")
        async with page.expect_navigation():
            await page.locator("form[action='/me/correct'] button[type=submit]").click()
        assert await _focused(page) == {
            "id": "c-phone",
            "invalid": "true",
            "messages": ["Use digits, spaces and + ( ) - only."],
        }

        await page.goto(c + "/me/delete")
        async with page.expect_navigation():
            await page.locator("form[action='/me/delete'] button[type=submit]").click()
        assert await _focused(page) == {
            "id": "f-confirm",
            "invalid": "true",
            "messages": ["Tick the box to confirm."],
        }

        await page.goto(u + "/setup")
        await page.locator("#name").fill("")
        async with page.expect_navigation():
            await page.locator("form[action='/setup/github'] button[type=submit]").click()
        assert await _focused(page) == {
            "id": "name",
            "invalid": "true",
            "messages": [
                "Unique across GitHub, at most 34 characters; you can still change it on "
                "GitHub's page.",
                "Give the App a name of 1 to 34 characters.",
            ],
        }
    finally:
        await context.close()
