"""Sending over SMTP to real servers on loopback (aiosmtpd): one that keeps the message, one
that refuses, one that times out, one that drops the connection mid-message."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.sandbox.outbox import Outbox, serve
from bot.services.mail.messages import Attachment, MailTemplates, compose
from bot.services.mail.transport import MailRefused, MailUnavailable, SmtpMailer
from bot.settings import MailSettings

ROOT = Path(__file__).resolve().parents[3]
TO = "amy@example.com"
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


def settings(port: int, **changes: Any) -> MailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": "when-offered",
        "username": None,
        "password": None,
        "sender": "cla@example.org",
        "sender_name": "CLA bot",
    }
    values.update(changes)
    return MailSettings(**values)


def message(mail: MailSettings, lang: str = "en", attachments: tuple[Attachment, ...] = ()) -> Any:
    return compose(
        MailTemplates(ROOT / "templates"),
        mail,
        kind="test",
        lang=lang,
        to=TO,
        values={"public_url": "https://cla.example.org"},
        msgid="<cla-bot.1.abc@example.org>",
        now=NOW,
        attachments=attachments,
    )


Serve = Callable[..., Awaitable[int]]


@pytest.fixture
async def smtp() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(handler: Any, **kwargs: Any) -> int:
        server, port = await serve(handler, **kwargs)
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_a_message_reaches_the_server_as_composed(smtp: Serve) -> None:
    outbox = Outbox()
    mail = settings(await smtp(outbox))
    text = Attachment("individual-1.0.md", "text/markdown", b"# The agreement\n")
    await SmtpMailer(mail).send(message(mail, attachments=(text,)))
    [got] = outbox.messages
    assert (got.sender, got.recipients) == ("cla@example.org", (TO,))
    m = got.message
    assert (m["From"], m["To"], m["Message-ID"], m["Auto-Submitted"]) == (
        "CLA bot <cla@example.org>",
        TO,
        "<cla-bot.1.abc@example.org>",
        "auto-generated",
    )
    assert m["Subject"] == "Test message from the CLA bot at https://cla.example.org"
    assert m["Date"] == "Wed, 02 Dec 2026 10:30:00 +0000"
    body = m.get_body(("plain",))
    assert body is not None and body.get_content().startswith(
        "This is a test message from the CLA bot at https://cla.example.org.\n"
    )
    html = m.get_body(("html",))
    assert html is not None and '<a href="https://cla.example.org">' in html.get_content()
    [part] = list(m.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "individual-1.0.md",
        "text/markdown",
        "# The agreement\n",
    )


async def test_a_chinese_message_is_sent_in_chinese(smtp: Serve) -> None:
    outbox = Outbox()
    mail = settings(await smtp(outbox))
    await SmtpMailer(mail).send(message(mail, lang="zh"))
    [got] = outbox.messages
    assert got.message["Subject"] == "来自 https://cla.example.org 的 CLA 机器人的测试邮件"
    assert got.message["Content-Language"] == "zh"


async def test_the_server_login_is_used_and_a_wrong_one_is_retried(smtp: Serve) -> None:
    outbox = Outbox(credentials=("bot", "pw-1"))
    port = await smtp(outbox, auth=True)
    good = settings(port, username="bot", password="pw-1")
    await SmtpMailer(good).send(message(good))
    assert len(outbox.messages) == 1
    bad = settings(port, username="bot", password="wrong-pw")
    with pytest.raises(MailUnavailable) as info:
        await SmtpMailer(bad).send(message(bad))
    assert info.value.reason == "the server refused the login (SMTPAuthenticationError 535)"
    assert len(outbox.messages) == 1


class Refusing:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return self.answer


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        (
            "550 5.1.1 no such mailbox",
            MailRefused,
            "the server refused the message (SMTPRecipientsRefused 550)",
        ),
        (
            "451 4.3.0 try again later",
            MailUnavailable,
            "the server could not take the message now (SMTPRecipientsRefused 451)",
        ),
    ],
)
async def test_a_refusal_is_final_only_when_permanent(
    smtp: Serve, answer: str, error: type[Exception], reason: str
) -> None:
    mail = settings(await smtp(Refusing(answer)))
    with pytest.raises(error) as info:
        await SmtpMailer(mail).send(message(mail))
    assert info.value.reason == reason  # type: ignore[attr-defined]
    assert TO not in str(info.value)


class Slow:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(5)
        return "250 OK"


class Dropping:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert server.transport is not None
        server.transport.close()
        return "250 OK"


async def test_a_server_that_times_out_is_retried(smtp: Serve) -> None:
    mail = settings(await smtp(Slow()))
    with pytest.raises(MailUnavailable) as info:
        await SmtpMailer(mail, timeout_s=0.3).send(message(mail))
    assert info.value.reason == f"127.0.0.1:{mail.port} timed out"


async def test_a_connection_dropped_mid_message_is_retried(smtp: Serve) -> None:
    mail = settings(await smtp(Dropping()))
    with pytest.raises(MailUnavailable) as info:
        await SmtpMailer(mail).send(message(mail))
    assert info.value.reason == f"127.0.0.1:{mail.port} closed the connection"


async def test_nobody_listening_is_retried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mail = settings(port)
    with pytest.raises(MailUnavailable) as info:
        await SmtpMailer(mail, timeout_s=2).send(message(mail))
    assert info.value.reason.startswith(f"127.0.0.1:{port} cannot be reached (")


async def test_starttls_is_required_where_the_url_says_so(smtp: Serve) -> None:
    outbox = Outbox()
    mail = settings(await smtp(outbox), tls="starttls")
    with pytest.raises(MailUnavailable) as info:
        await SmtpMailer(mail).send(message(mail))
    assert info.value.reason == (
        f"127.0.0.1:{mail.port} offers no STARTTLS (smtp:// requires it; use smtps:// for "
        "implicit TLS)"
    )
    assert list(outbox.messages) == []  # nothing went out in the clear


def test_the_mailer_shows_no_password() -> None:
    mail = settings(25, username="bot", password="hunter2")
    assert "hunter2" not in repr(SmtpMailer(mail))


async def test_the_loopback_server_logs_no_address(
    smtp: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(credentials=("bot", "pw-1"))
    mail = settings(await smtp(outbox, auth=True), username="bot", password="pw-1")
    with caplog.at_level(logging.DEBUG):
        await SmtpMailer(mail).send(message(mail))
    assert len(outbox.messages) == 1
    assert [r for r in caplog.records if TO in r.getMessage() or r.name == "mail.log"] == []
