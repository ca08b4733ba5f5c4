"""``cla-bot agreements list`` and ``cla-bot agreements replace AGREEMENT VERSION``.

Wired into :mod:`bot.cli.main` with two lines: ``agreements.add_parsers(sub)`` in the parser,
and ``if args.command in agreements.COMMANDS: return asyncio.run(agreements.run(args, conf))``
in ``main``. These commands open the database without publishing app.yaml's agreements
first (the other commands refuse to start while a published text differs from app.yaml's, and
these are how an operator gets out of that).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import agreements
from bot.settings import Settings

COMMANDS = ("agreements",)

T = TypeVar("T")

REPLACE_DESCRIPTION = """\
Publish the text that app.yaml now names for VERSION of AGREEMENT in place of the text
published before. Only for a version nobody has signed yet: it is refused once any person or
company signed it (erased and revoked signatures count too: they still record which text was
signed), because a community must be able to show what each signer agreed to. A signed version
whose text must change becomes a new version instead (`cla-bot serve` shows the lines to add).
The replacement is written to the audit trail (cla-bot audit) with both SHA-256 digests.
"""


def add_parsers(sub: Any) -> None:
    """Add ``agreements`` (with ``list`` and ``replace``) to ``cla-bot``'s subparsers."""
    cmd = sub.add_parser(
        "agreements",
        help="list the published agreement versions; replace an unsigned version's text",
        description="The agreement versions the bot has published (at start-up, from app.yaml), "
        "and how to replace the text of one that nobody has signed yet.",
    )
    actions = cmd.add_subparsers(dest="agreements_command", metavar="ACTION")
    actions.required = True
    actions.add_parser(
        "list",
        help="every published version: kind, text SHA-256, signatures, and whether app.yaml "
        "still names the same text",
        description="Print one line per agreement version: agreement id, kind, version, the "
        "SHA-256 of the published text, how many people and companies signed it, and how "
        "app.yaml's text compares (same text, changed, not published yet, not in app.yaml). "
        "Never any signer's data.",
    )
    replace = actions.add_parser(
        "replace",
        help="publish app.yaml's text under a version nobody has signed yet (audited)",
        description=REPLACE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replace.add_argument("agreement", metavar="AGREEMENT", help="the agreement id (individual)")
    replace.add_argument("version", metavar="VERSION", help='the version, as in app.yaml ("1.0")')


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``agreements list|replace``; returns the exit code."""
    try:
        if args.agreements_command == "list":
            found = await _with_session(
                settings, lambda s: agreements.list_versions(s, settings.policy.agreements)
            )
            _print_table(found, sys.stdout)
            return 0
        replaced = await _with_session(
            settings,
            lambda s: agreements.replace_text(
                s,
                settings.policy.agreements,
                args.agreement,
                args.version,
                actor="operator",
                via="cli",
            ),
        )
    except agreements.AgreementError as exc:
        print(f"cla-bot agreements: {exc}", file=sys.stderr)
        return 1
    print(
        f"agreement {replaced.agreement_id} version {replaced.version}: text replaced "
        f"({replaced.old_sha256[:12]} -> {replaced.new_sha256[:12]}); nobody had signed it"
    )
    return 0


async def _with_session(settings: Settings, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from bot.runtime import check_schema
    from bot.storage.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with session_factory(engine)() as session, session.begin():
            return await fn(session)
    finally:
        await engine.dispose()


def _print_table(rows: list[agreements.VersionInfo], out: TextIO) -> None:
    table = [
        ("AGREEMENT", "KIND", "VERSION", "TEXT SHA-256", "SIGNATURES", "COMPANIES", "APP.YAML"),
        *(
            (
                r.agreement_id,
                r.kind,
                r.version,
                r.published_sha256 or r.config_sha256 or "",
                str(r.signatures),
                str(r.companies),
                r.state,
            )
            for r in rows
        ),
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]), file=out)
