"""A mail server on this machine that keeps what it receives: the sandbox's outbox (where a
visitor reads the codes and receipts the bot sends) and the tests' SMTP server.

It is aiosmtpd's SMTP server, served in the running event loop on loopback; it delivers
nowhere. Messages are kept in memory, newest last, up to ``limit``.
"""

from __future__ import annotations

import asyncio
import email
import logging
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True, slots=True)
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage


class Outbox:
    """Keeps every message it is handed (an aiosmtpd handler). ``credentials``, when given,
    is the one ``(user, password)`` it accepts; without it, no AUTH is needed."""

    def __init__(self, *, limit: int = 200, credentials: tuple[str, str] | None = None) -> None:
        self.messages: deque[Received] = deque(maxlen=limit)
        self.credentials = credentials
        self.received = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        message = email.message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
        self.messages.append(
            Received(str(envelope.mail_from), tuple(map(str, envelope.rcpt_tos)), message)
        )
        self.received.set()
        return "250 OK: kept in the outbox"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            self.credentials is not None
            and isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == self.credentials
        )
        # handled=False: aiosmtpd itself answers a failure with 535 (its default, True, would
        # leave the client waiting for an answer this handler never sends).
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


async def serve(
    handler: Any, *, host: str = "127.0.0.1", port: int = 0, auth: bool = False
) -> tuple[asyncio.Server, int]:
    """Serve ``handler`` (an :class:`Outbox`, or any aiosmtpd handler) on ``host:port`` in the
    running loop; the server and the port it listens on. ``auth`` offers clients a login
    (over plain text: this server is on loopback) and checks the one they give."""
    # aiosmtpd logs every envelope (addresses included) and a deprecation notice on each login;
    # neither belongs in the bot's log.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="cla-bot-outbox",
            ident="cla-bot outbox",
            authenticator=handler.authenticate if auth else None,
            auth_require_tls=False,
            auth_exclude_mechanism=["LOGIN"],  # PLAIN only: one attempt per wrong login
            loop=loop,
        )

    server = await loop.create_server(protocol, host, port)
    return server, server.sockets[0].getsockname()[1]
