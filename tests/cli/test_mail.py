"""``cla-bot mail-test`` against a real SMTP server on loopback: what it prints and returns."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.cli.mail import send_test
from bot.sandbox.outbox import Outbox, serve


class Refusing:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 no such mailbox"


@pytest.fixture
async def start() -> AsyncIterator[Any]:
    servers = []

    async def start(handler: Any) -> int:
        server, port = await serve(handler)
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def run(settings: Any, to: str = "ops@example.org") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await send_test(settings, to=to, lang="en", out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_a_test_message_reaches_the_server(
    sqlite_url: str, make_settings: Any, start: Any
) -> None:
    box = Outbox()
    port = await start(box)
    env = {"CLA_SMTP_URL": f"smtp://127.0.0.1:{port}", "CLA_MAIL_FROM": "cla@example.org"}
    code, out, err = await run(make_settings(sqlite_url, **env))
    assert (code, out, err) == (
        0,
        f"sent through 127.0.0.1:{port}: the server took the message\n",
        "",
    )
    [got] = box.messages
    assert got.recipients == ("ops@example.org",)
    assert got.message["Subject"] == "Test message from the CLA bot at https://cla.example.org"


async def test_a_refusal_is_reported_with_its_reason(
    sqlite_url: str, make_settings: Any, start: Any
) -> None:
    port = await start(Refusing())
    env = {"CLA_SMTP_URL": f"smtp://127.0.0.1:{port}", "CLA_MAIL_FROM": "cla@example.org"}
    assert await run(make_settings(sqlite_url, **env)) == (
        1,
        "",
        "cla-bot mail-test: not sent: the server refused the message (SMTPRecipientsRefused 550)\n",
    )


async def test_without_smtp_or_with_a_bad_address_nothing_is_sent(
    sqlite_url: str, make_settings: Any, start: Any
) -> None:
    assert await run(make_settings(sqlite_url)) == (
        2,
        "",
        "cla-bot mail-test: no SMTP server is configured (set CLA_SMTP_URL and CLA_MAIL_FROM)\n",
    )
    box = Outbox()
    port = await start(box)
    env = {"CLA_SMTP_URL": f"smtp://127.0.0.1:{port}", "CLA_MAIL_FROM": "cla@example.org"}
    assert await run(make_settings(sqlite_url, **env), to="not an address") == (
        2,
        "",
        "cla-bot mail-test: --to is not an address like amy@example.org\n",
    )
    assert list(box.messages) == []
