"""Operators' commands: ``status``, ``export`` and ``token``.

Wired into :mod:`bot.cli.main` with two lines: ``admin.add_parsers(sub)`` in the parser, and
``if args.command in admin.COMMANDS: return asyncio.run(admin.run(args, conf))`` in ``main``.
Every command answers ``--help``, prints no secret (except a new token, once), and exits
non-zero with one line on errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.failures import reported
from bot.services import admin
from bot.settings import Settings
from bot.storage.crypto import FieldCipher

COMMANDS = ("status", "export", "token")

T = TypeVar("T")


def add_parsers(sub: Any) -> None:
    """Add this module's commands to ``cla-bot``'s subparsers."""
    status = sub.add_parser(
        "status",
        help="is an account or an email covered by a signed agreement?",
        description="Say whether a platform account or an email is covered, by which agreement "
        "and version (individual or corporate) and since when — never any contact data. "
        "ACCOUNT is platform:id or platform:login (github:583231, github:octocat); a login is "
        "resolved to the most recent account recorded with it (logins can be renamed and "
        "reused: use the id to be certain).",
        epilog="examples: cla-bot status github:octocat; cla-bot status --email dev@example.com;"
        " echo dev@example.com | cla-bot status --email -",
    )
    who = status.add_mutually_exclusive_group(required=True)
    who.add_argument("account", nargs="?", help="platform:id or platform:login")
    who.add_argument(
        "--email",
        metavar="EMAIL",
        help="an email address (matched in any case); '-' reads it from standard input, "
        "which keeps it out of the shell history",
    )
    status.add_argument(
        "--agreement", help="the agreement to ask about (default: the required agreement)"
    )
    status.add_argument("--json", action="store_true", help="print the answer as JSON")

    export = sub.add_parser(
        "export",
        help="export signatures as CSV or JSON",
        description="Write every valid signature (not revoked, not erased) of an agreement — "
        "or of one version — as CSV (UTF-8 with BOM, spreadsheet-safe) or JSON. Contact fields "
        "(name, emails, address, phone, fax) only with --contact; each person read is written "
        "to the audit trail, and restricted records never show them.",
    )
    export.add_argument("--agreement", help="only this agreement (default: all)")
    export.add_argument("--version", help="only this version of --agreement")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument("--contact", action="store_true", help="include contact fields (audited)")
    export.add_argument(
        "--output",
        "-o",
        type=Path,
        help="write to FILE (created 0600 with --contact) instead of standard output",
    )

    token = sub.add_parser(
        "token",
        help="create, list and revoke tokens for the /api/v1 admin API",
        description="Bearer tokens for /api/v1. Only a token's SHA-256 and its prefix are "
        "stored: the token itself is printed once, at creation. Scopes: read (status, lists "
        "without contact data) < export (adds contact fields, audited) < admin (adds "
        "re-checks).",
    )
    tsub = token.add_subparsers(dest="subaction", metavar="ACTION")
    tsub.required = True
    create = tsub.add_parser(
        "create",
        help="create a token and print it once",
        description="Create a token and print it once; store it in your secret manager.",
    )
    create.add_argument("--name", required=True, help="what the token is for, e.g. 'ci-report'")
    create.add_argument("--scope", required=True, choices=admin.SCOPES, help="read|export|admin")
    tlist = tsub.add_parser(
        "list",
        help="list tokens (never the tokens themselves)",
        description="Name, scope, prefix, creation, last use and revocation of every token.",
    )
    tlist.add_argument("--json", action="store_true", help="print JSON")
    revoke = tsub.add_parser(
        "revoke",
        help="revoke a token by its prefix",
        description="Revoke the token with this prefix (as `cla-bot token list` shows it); it "
        "stops working at once.",
    )
    revoke.add_argument("prefix", help="the token's prefix, e.g. cla_AbCd1234")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code."""
    commands = {"status": _status, "export": _export, "token": _token}
    if args.command in commands:
        return await reported(args.command, commands[args.command](args, settings))
    print(f"cla-bot: unknown command {args.command!r}", file=sys.stderr)
    return 2


async def _with_session(
    settings: Settings, fn: Callable[[AsyncSession, FieldCipher], Awaitable[T]]
) -> T:
    from bot.runtime import build_runtime

    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session, session.begin():
            return await fn(session, runtime.cipher)
    finally:
        await runtime.close()


def _read_email(value: str, stdin: TextIO) -> str:
    if value == "-":
        return stdin.readline().strip()
    return value


async def _status(args: argparse.Namespace, settings: Settings) -> int:
    policy = settings.policy
    if args.email is not None:
        email = _read_email(args.email, sys.stdin)

        async def by_email(session: AsyncSession, cipher: FieldCipher) -> admin.Status:
            return await admin.email_status(
                session, cipher, policy, email=email, agreement_id=args.agreement
            )

        status = await _with_session(settings, by_email)
    else:
        platform, account = admin.parse_subject(args.account)

        async def by_account(session: AsyncSession, cipher: FieldCipher) -> admin.Status:
            return await admin.account_status(
                session,
                cipher,
                policy,
                platform=platform,
                account=account,
                agreement_id=args.agreement,
            )

        status = await _with_session(settings, by_account)
    if args.json:
        print(json.dumps(status.as_dict(), indent=2))
    else:
        print(status.sentence())
    return 0


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    if args.version and not args.agreement:
        raise admin.Invalid("--version needs --agreement")
    request_id = f"cli-export-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"

    async def export(session: AsyncSession, cipher: FieldCipher) -> admin.Page:
        return await admin.all_signatures(
            session,
            cipher,
            agreement_id=args.agreement,
            version=args.version,
            contact=admin.ContactReader(
                actor="operator",
                via="cli",
                request_id=request_id,
                details={
                    "operation": "export",
                    "agreement": args.agreement,
                    "version": args.version,
                    "format": args.format,
                },
            )
            if args.contact
            else None,
        )

    page = await _with_session(settings, export)
    if args.format == "csv":
        text = admin.to_csv(page.items, include_contact=args.contact)
    else:
        text = json.dumps({"signatures": page.items}, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        await asyncio.to_thread(_write_private, args.output, text, private=args.contact)
        print(f"exported {len(page.items)} signature(s) to {args.output}", file=sys.stderr)
    return 0


def _write_private(path: Path, text: str, *, private: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)


async def _token(args: argparse.Namespace, settings: Settings) -> int:
    if args.subaction == "create":

        async def create(session: AsyncSession, _: FieldCipher) -> tuple[str, admin.TokenInfo]:
            return await admin.create_token(session, name=args.name, scope=args.scope)

        value, info = await _with_session(settings, create)
        print(value)
        print(
            f"token {info.prefix} ({info.scope}) created for {info.name!r}: it is shown only "
            "this once; send it as 'Authorization: Bearer <token>'",
            file=sys.stderr,
        )
        return 0
    if args.subaction == "list":

        async def listing(session: AsyncSession, _: FieldCipher) -> list[admin.TokenInfo]:
            return await admin.list_tokens(session)

        tokens = await _with_session(settings, listing)
        if args.json:
            print(json.dumps([t.as_dict() for t in tokens], indent=2))
            return 0
        if not tokens:
            print("no tokens; create one with: cla-bot token create --name NAME --scope read")
            return 0
        print(f"{'PREFIX':<14}{'SCOPE':<8}{'CREATED':<22}{'LAST USED':<22}{'REVOKED':<22}NAME")
        for t in tokens:
            print(
                f"{t.prefix:<14}{t.scope:<8}{_when(t.created_at):<22}"
                f"{_when(t.last_used_at):<22}{_when(t.revoked_at):<22}{t.name}"
            )
        return 0
    if args.subaction == "revoke":

        async def revoke(session: AsyncSession, _: FieldCipher) -> admin.TokenInfo:
            return await admin.revoke_token(session, args.prefix)

        info = await _with_session(settings, revoke)
        print(f"token {info.prefix} ({info.name!r}) is revoked")
        return 0
    raise admin.Invalid("expected token create, list or revoke")


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"
