"""``cla-bot mail-test``: send one test message now, to see that ``CLA_SMTP_URL`` and
``CLA_MAIL_FROM`` work before a signer needs a code."""

from __future__ import annotations

import argparse
import secrets
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.settings import LANGUAGES, Settings

COMMANDS = ("mail-test",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mail-test",
        help="send a test message through the configured SMTP server",
        description="Send one message from CLA_MAIL_FROM to ADDRESS through CLA_SMTP_URL, "
        "at once (not through the queue), and say whether the server took it. Exit 0 when it "
        "did, 1 when the server could not be reached or refused it (the reason is printed), "
        "2 when no SMTP server is configured.",
    )
    p.add_argument("--to", required=True, metavar="ADDRESS", help="where to send it")
    p.add_argument("--lang", choices=LANGUAGES, default="en", help="the message's language")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    return await send_test(settings, to=args.to, lang=args.lang, out=sys.stdout, err=sys.stderr)


async def send_test(settings: Settings, *, to: str, lang: str, out: TextIO, err: TextIO) -> int:
    from bot.services.email_proofs import valid_email
    from bot.services.mail.messages import MailTemplates, compose, message_id
    from bot.services.mail.transport import MailError, SmtpMailer

    mail = settings.mail
    if mail is None:
        print(
            "cla-bot mail-test: no SMTP server is configured (set CLA_SMTP_URL and CLA_MAIL_FROM)",
            file=err,
        )
        return 2
    if valid_email(to) is None:
        print("cla-bot mail-test: --to is not an address like amy@example.org", file=err)
        return 2
    message = compose(
        MailTemplates(settings.templates_dir),
        mail,
        kind="test",
        lang=lang,
        to=to,
        values={"public_url": str(settings.public_url)},
        msgid=message_id(0, secrets.token_hex(8), mail.sender),
        now=datetime.now(UTC),
    )
    mailer = SmtpMailer(mail)
    try:
        await mailer.send(message)
    except MailError as exc:
        print(f"cla-bot mail-test: not sent: {exc.reason}", file=err)
        return 1
    print(f"sent through {mail.host}:{mail.port}: the server took the message", file=out)
    return 0
