"""The sandbox walk-through in a real browser (Debian's Chromium, driven by Playwright), as a
newcomer does it after ``make run``: open a PR as a made-up contributor, see the failing status
and the bot's comment, follow the signing link, sign in to the sandbox, sign, and watch the PR
turn green — the sandbox page refreshes by itself.

With ``CLA_TEST_SCREENSHOTS=docs`` this run also writes the README's ``docs/sandbox.png``.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.sandbox.demo import Demo, start_demo
from tests.e2e.browser import CHROMIUM_ARGS, chromium_or_skip

SHOTS = os.environ.get("CLA_TEST_SCREENSHOTS", "")


def _free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@pytest.fixture
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture
async def demo(make_env: Callable[..., dict[str, str]], tmp_path: Path) -> AsyncIterator[Demo]:
    # The README's screenshot shows the default address when it is free.
    port = 8080 if SHOTS and _free("127.0.0.1", 8080) and _free("127.0.0.1", 8081) else 0
    d = await start_demo(
        make_env("sqlite+aiosqlite:///unused.db"), host="127.0.0.1", port=port, cwd=tmp_path
    )
    try:
        yield d
    finally:
        await d.close()


async def test_the_sandbox_walkthrough_in_the_browser(chromium: str, demo: Demo) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(
                locale="en-US", viewport={"width": 960, "height": 1000}
            )
            page = await context.new_page()
            await page.goto(demo.sandbox_url + "/")
            await expect(page.get_by_role("heading", name="Try the CLA bot")).to_be_visible()

            # 1. Open a pull request as a made-up contributor.
            await page.get_by_role("radio", name=re.compile(r"^@ada — her commit email")).check()
            await page.get_by_label("Title").fill("Add the analytical engine notes")
            await page.get_by_role("button", name="Open pull request").click()
            await page.wait_for_url(re.compile(r".*/sandbox-org/widgets/pull/1$"))

            # 2. The page refreshes by itself once the bot has written.
            failing = page.locator("#status-cla .badge.failure")
            await expect(failing).to_have_text("cla: failure", timeout=15_000)
            await expect(page.locator("#labels")).to_have_text("cla/no")
            comment = page.locator("article.comment.bot")
            await expect(comment).to_contain_text("CLA check: action needed")
            await expect(comment).not_to_contain_text("<!--")
            if SHOTS:
                await page.screenshot(path=str(Path(SHOTS) / "sandbox.png"))

            # 3. Follow the signing link: it opens next to the sandbox.
            async with context.expect_page() as opened:
                await comment.get_by_role(
                    "link", name=re.compile(r"sign.individual.platform=github")
                ).click()
            signing = await opened.value
            await signing.wait_for_load_state()
            await signing.get_by_role("link", name="Sign in with GitHub").click()
            await expect(
                signing.get_by_role("heading", name="Sign in to the sandbox")
            ).to_be_visible()
            await signing.get_by_role("radio", name=re.compile(r"^@ada \(Ada Lovelace\)")).check()
            await signing.get_by_role("button", name="Authorize").click()
            await signing.wait_for_url(
                re.compile(r".*/sign/individual\?platform=github&repo=sandbox-org/widgets&pr=1$")
            )
            await signing.get_by_label("Full name").fill("Ada Lovelace")
            await signing.get_by_label("I have read and accept").check()
            await signing.get_by_label("I have read the privacy notice").check()
            await signing.get_by_role("button", name="Sign the agreement").click()
            await signing.wait_for_url(re.compile(r".*/sign/individual/done\?.*&rechecked=1$"))
            await expect(signing.locator("#signed")).to_be_visible()
            # The way back leads to the sandbox's pull request.
            back = signing.locator("#back-to-pr")
            await expect(back).to_have_attribute(
                "href", f"{demo.sandbox_url}/sandbox-org/widgets/pull/1"
            )

            # 4. Back on the sandbox tab, untouched: the PR turns green by itself.
            await page.bring_to_front()
            passing = page.locator("#status-cla .badge.success")
            await expect(passing).to_have_text("cla: success", timeout=15_000)
            await expect(page.locator("#labels")).to_have_text("cla/yes")
            await expect(comment).to_contain_text("CLA check: passed")
        finally:
            await browser.close()
