"""In a real browser (Debian's Chromium, driven by Playwright): a contributor follows the link in
the bot's comment, signs in with GitHub, fills the form, signs, and the PR turns green by
itself."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot import settings
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.web.app import RUNTIME, create_app
from tests.e2e.browser import CHROMIUM_ARGS, chromium_or_skip
from tests.helpers import sign

SHOTS = (
    Path(os.environ.get("CLA_TEST_SCREENSHOTS", ""))
    if os.environ.get("CLA_TEST_SCREENSHOTS")
    else None
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chromium() -> str:
    return chromium_or_skip()


async def _shot(page: Any, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_sign_in_the_browser_and_the_pr_turns_green(
    chromium: str,
    sqlite_url: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright

    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    conf = settings.load(bot_env(sqlite_url, CLA_PUBLIC_URL=public), cwd=tmp_path)
    app = create_app(conf, run_worker=True)  # the real in-process worker
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        gh = github
        gh.add_installation(5, account="acme", repos=["acme/widgets", "acme/docs"])
        gh.set_emails("lin", ("lin@example.com", True))
        prs = [
            gh.add_pr("acme/widgets", number=12, author="lin"),
            gh.add_pr("acme/docs", number=3, author="lin"),
        ]
        for pr in prs:
            raw = json.dumps(gh.pull_request_event(pr, installation_id=5)).encode()
            async with app[RUNTIME].http.post(
                f"{public}/webhooks/github",
                data=raw,
                headers={
                    "X-GitHub-Event": "pull_request",
                    "X-GitHub-Delivery": f"browser-{pr.number}",
                    "X-Hub-Signature-256": sign(raw),
                    "Content-Type": "application/json",
                },
            ) as resp:
                assert resp.status == 202
        await _until(lambda: all(len(gh.bot_comments(p)) == 1 for p in prs), "the bot's comments")
        comment = gh.bot_comments(prs[0])[0].body
        link = re.search(rf"{re.escape(public)}/sign/[^\s)]+", comment)
        assert link, comment
        gh.signed_in = "lin"

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium, args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(
                    locale="en-US", viewport={"width": 420, "height": 900}
                )
                await page.goto(link.group(0))
                await _shot(page, "1-agreement")
                await page.get_by_role("link", name="Sign in with GitHub").click()
                await page.wait_for_url(
                    re.compile(r".*/sign/individual\?platform=github&repo=acme/widgets&pr=12$")
                )
                await page.get_by_label("Full name").fill("Lin Example")
                await page.get_by_label("Phone").fill("+86 21 5555 0100")
                await page.get_by_label("I have read and accept").check()
                await page.get_by_label("I have read the privacy notice").check()
                await _shot(page, "2-form")
                await page.get_by_role("button", name="Sign the agreement").click()
                await page.wait_for_url(re.compile(r".*/sign/individual/done\?.*&rechecked=2$"))
                assert await page.locator("#signed").is_visible()
                assert "Lin Example" in await page.content()
                await _shot(page, "3-done")
            finally:
                await browser.close()

        # No further event: the signature re-checks both PRs by itself.
        started = time.monotonic()
        await _until(
            lambda: all(
                (s := gh.status_for(p.head_sha, "cla")) is not None and s.state == "success"
                for p in prs
            ),
            "both PRs green",
        )
        assert time.monotonic() - started < 10
        for pr in prs:
            assert gh.labels_of(pr) == ["cla/yes"]
            assert "All contributors are covered" in gh.bot_comments(pr)[0].body
    finally:
        await server.close()


async def _until(predicate: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
