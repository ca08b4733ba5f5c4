"""Rate limits behind a reverse proxy: each client behind a trusted proxy has its own bucket,
a client cannot pick its bucket by sending the header itself, and the per-account limit counts
only submissions that would write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import settings
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.web.app import RUNTIME, create_app
from tests.e2e.conftest import PUBLIC, Bot, csrf_of, oauth_login

LOGIN_LIMIT = 20  # a minute, per client address (bot/web/app.py)
MakeBot = Callable[..., Awaitable[Bot]]


@pytest.fixture
def make_bot(
    aiohttp_client: Any,
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    github: FakeGitHub,
    tmp_path: Path,
) -> MakeBot:
    async def make(**env: str) -> Bot:
        conf = settings.load(bot_env(db_url, CLA_PUBLIC_URL=PUBLIC, **env), cwd=tmp_path)
        app = create_app(conf, run_worker=False)
        return Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)

    return make


async def _logins(bot: Bot, count: int, headers: dict[str, str]) -> list[int]:
    return [
        (await bot.client.get("/sign/login/github", allow_redirects=False, headers=headers)).status
        for _ in range(count)
    ]


async def test_clients_behind_a_trusted_proxy_each_have_their_own_limit(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot(CLA_TRUSTED_PROXIES="127.0.0.0/8")
    first = {"X-Forwarded-For": "198.51.100.1"}
    assert await _logins(bot, LOGIN_LIMIT + 1, first) == [302] * LOGIN_LIMIT + [429]
    # another client behind the same proxy is not held up by the first
    assert await _logins(bot, 1, {"X-Forwarded-For": "198.51.100.2"}) == [302]
    # the first cannot escape by prepending an address of its choice: the proxy appends
    assert await _logins(bot, 1, {"X-Forwarded-For": "192.0.2.9, 198.51.100.1"}) == [429]


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(web_bot: Bot) -> None:
    codes = [
        (
            await web_bot.client.get(
                "/sign/login/github",
                allow_redirects=False,
                headers={"X-Forwarded-For": f"198.51.100.{i}", "Forwarded": f"for=192.0.2.{i}"},
            )
        ).status
        for i in range(LOGIN_LIMIT + 1)
    ]
    assert codes == [302] * LOGIN_LIMIT + [429]


async def test_the_forwarded_header_is_read_when_configured(make_bot: MakeBot) -> None:
    bot = await make_bot(CLA_TRUSTED_PROXIES="127.0.0.1", CLA_FORWARDED_HEADER="Forwarded")
    one = {"Forwarded": 'for="[2001:db8::1]:4711";proto=https', "X-Forwarded-For": "192.0.2.1"}
    assert await _logins(bot, LOGIN_LIMIT + 1, one) == [302] * LOGIN_LIMIT + [429]
    # the same /64, another address: the same client
    assert await _logins(bot, 1, {"Forwarded": 'for="[2001:db8::2]"'}) == [429]
    # X-Forwarded-For is not what this proxy sets: a client's own copy changes nothing
    assert await _logins(
        bot, 1, {"Forwarded": 'for="[2001:db8::3]"', **{"X-Forwarded-For": "192.0.2.2"}}
    ) == [429]
    assert await _logins(bot, 1, {"Forwarded": "for=192.0.2.3"}) == [302]


def _form(html: str, **fields: str) -> dict[str, str]:
    return {"csrf": csrf_of(html), "accept": "yes", "privacy": "yes", **fields}


async def test_forms_that_fail_validation_do_not_use_up_the_account_limit(web_bot: Bot) -> None:
    web_bot.github.set_emails("slow", ("slow@example.com", True))
    await oauth_login(web_bot, "slow")
    html = await (await web_bot.client.get("/sign/individual")).text()
    codes = [
        (
            await web_bot.client.post(
                "/sign/individual", data=_form(html, email="slow@example.com")
            )
        ).status
        for _ in range(7)  # no name: refused, the form shown again with the error
    ]
    assert codes == [400] * 7
    forged = [
        (await web_bot.client.post("/sign/individual", data={"csrf": "forged"})).status
        for _ in range(2)
    ]
    assert forged == [403, 403]  # refused before any write: not counted either
    resp = await web_bot.client.post(
        "/sign/individual",
        data=_form(html, name="Slow Typist", email="slow@example.com"),
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/sign/individual/done?rechecked=0"


async def test_valid_submissions_are_limited_per_account_whatever_the_address(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot(CLA_TRUSTED_PROXIES="127.0.0.1/32")
    bot.github.set_emails("rapid", ("rapid@example.com", True))
    await oauth_login(bot, "rapid")
    html = await (await bot.client.get("/sign/individual")).text()
    codes = [
        (
            await bot.client.post(
                "/sign/individual",
                data=_form(html, name="Rapid", email="rapid@example.com"),
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                allow_redirects=False,
            )
        ).status
        for i in range(7)
    ]
    # a fresh address every time: the per-address limit (10 a minute) is never reached, the
    # account's (5) is
    assert codes == [303] * 5 + [429, 429]
