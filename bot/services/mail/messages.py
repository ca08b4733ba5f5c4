"""Mail as the bot writes it: one template per kind and language in ``templates/mail``.

``{kind}.{lang}.txt`` is the plain-text part; its first line is ``Subject: …`` and a blank line
follows. ``{kind}.{lang}.html`` is the HTML part (autoescaped). Every language in
:data:`bot.settings.LANGUAGES` has both parts of every kind (checked when the templates load);
an unknown language falls back to English. Templates see only the values they are given, and
an undefined one is an error, never an empty string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from bot.core.errors import BotError
from bot.settings import LANGUAGES, MailSettings


class MailTemplateError(BotError):
    """The mail templates are incomplete or one is malformed."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # "text/markdown"
    data: bytes


class MailTemplates:
    def __init__(self, templates_dir: Path) -> None:
        folder = templates_dir / "mail"
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.kinds = frozenset(p.name.split(".")[0] for p in folder.glob("*.en.txt"))
        missing = sorted(
            f"{kind}.{lang}.{part}"
            for kind in self.kinds
            for lang in LANGUAGES
            for part in ("txt", "html")
            if not (folder / f"{kind}.{lang}.{part}").is_file()
        )
        if missing:
            raise MailTemplateError(f"mail templates missing: {', '.join(missing)}")

    def render(self, kind: str, lang: str, values: Mapping[str, Any]) -> tuple[str, str, str]:
        """Subject, plain text and HTML of ``kind`` in ``lang``."""
        if kind not in self.kinds:
            raise MailTemplateError(f"no mail template {kind!r}")
        lang = lang if lang in LANGUAGES else "en"
        text = self.env.get_template(f"{kind}.{lang}.txt").render(values)
        first, sep, body = text.partition("\n")
        if not first.startswith("Subject: ") or not sep:
            raise MailTemplateError(f"{kind}.{lang}.txt must start with a 'Subject: ' line")
        subject = first.removeprefix("Subject: ").strip()
        html = self.env.get_template(f"{kind}.{lang}.html").render(values)
        return subject, body.lstrip("\n"), html


def message_id(job_id: int, payload_digest: str, sender: str) -> str:
    """The same message gets the same Message-ID however often it is sent (a retry after a
    crash between the server's acceptance and the queue's record of it), so mail clients that
    see it twice can show it once."""
    domain = sender.rpartition("@")[2]
    return f"<cla-bot.{job_id}.{payload_digest[:16]}@{domain}>"


def compose(
    templates: MailTemplates,
    mail: MailSettings,
    *,
    kind: str,
    lang: str,
    to: str,
    values: Mapping[str, Any],
    msgid: str,
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    subject, text, html = templates.render(kind, lang, values)
    message = EmailMessage()
    message["From"] = Address(mail.sender_name, addr_spec=mail.sender)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = msgid
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to the bot
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for a in attachments:
        main, _, sub = a.content_type.partition("/")
        message.add_attachment(a.data, maintype=main, subtype=sub, filename=a.filename)
    # After the parts: a Content-* header set before them would move into the first part.
    message["Content-Language"] = lang if lang in LANGUAGES else "en"
    return message


def digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(repr(sorted(payload.items())).encode()).hexdigest()
