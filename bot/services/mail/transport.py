"""Sending one message to the SMTP server of :class:`~bot.settings.MailSettings`.

The server's answer decides what the queue does next: :class:`MailUnavailable` (it could not
be reached, timed out, dropped the connection, answered 4xx, or offered no STARTTLS where it
must) is retried with backoff; :class:`MailRefused` (a 5xx for the sender, a recipient or the
message) is final. Neither error's text holds an address, a password or the message.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from bot.core.errors import BotError
from bot.settings import MailSettings

TIMEOUT_S = 30.0


class MailError(BotError):
    """A message was not sent; ``reason`` says why in words safe for a log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MailUnavailable(MailError):
    """Try again later: the server could not take the message now."""


class MailRefused(MailError):
    """The server refused the message for good (5xx): retrying cannot help."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server (its From/To headers say who); raises MailError."""
        ...


class SmtpMailer:
    """:class:`Mailer` over SMTP (aiosmtplib), one connection per message.

    ``tls_context`` replaces the system's trust store (an operator's private CA can also be
    given through ``SSL_CERT_FILE``); certificates are always verified."""

    def __init__(
        self,
        settings: MailSettings,
        *,
        timeout_s: float = TIMEOUT_S,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self.tls_context = tls_context

    def __repr__(self) -> str:
        s = self.settings
        return f"SmtpMailer({s.host}:{s.port}, tls={s.tls})"

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.tls == "implicit",
            start_tls=False,  # decided below, once the server has said what it offers
            timeout=self.timeout_s,
            validate_certs=True,
            tls_context=self.tls_context,
        )
        try:
            async with client:
                if s.tls != "implicit":
                    if client.supports_extension("starttls"):
                        await client.starttls()
                    elif s.tls == "starttls":
                        raise MailUnavailable(
                            f"{where} offers no STARTTLS (smtp:// requires it; use smtps:// "
                            "for implicit TLS)"
                        )
                if s.username is not None and s.password is not None:
                    await client.login(s.username, s.password)
                await client.send_message(message)
        except MailUnavailable:
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise MailUnavailable(
                f"the server refused the login (SMTPAuthenticationError {exc.code})"
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, type(exc).__name__) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise _by_code(max(codes, default=550), "SMTPRecipientsRefused") from None
        except (aiosmtplib.SMTPTimeoutError, TimeoutError):
            raise MailUnavailable(f"{where} timed out") from None
        except aiosmtplib.SMTPServerDisconnected:
            raise MailUnavailable(f"{where} closed the connection") from None
        except (aiosmtplib.SMTPConnectError, OSError) as exc:
            raise MailUnavailable(f"{where} cannot be reached ({type(exc).__name__})") from None
        except aiosmtplib.SMTPException as exc:
            raise MailUnavailable(f"{where}: {type(exc).__name__}") from None


def _by_code(code: int, what: str) -> MailError:
    if 500 <= code < 600:
        return MailRefused(f"the server refused the message ({what} {code})")
    return MailUnavailable(f"the server could not take the message now ({what} {code})")
