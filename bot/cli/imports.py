"""``cla-bot import FILE`` (the bot's CSV) and ``cla-bot import-from FORMAT FILE`` (another
CLA bot's export): read the file, report every bad row, write nothing unless all are good (or
``--skip-unmappable``), then say what was imported. The parsing and the writing are
:mod:`bot.services.importer` and :mod:`bot.services.importers`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.errors import SettingsError
from bot.platforms import registry
from bot.services import admin
from bot.services.importer import import_rows, parse_csv
from bot.services.importers import FORMATS, Options, already_recorded, parse
from bot.settings import Settings

COMMANDS = ("import", "import-from")
# The forge whose accounts the rows of each format are: cla-assistant and CLA Assistant Lite
# run on GitHub only.
FORMAT_FORGES = {"cla-assistant": "github", "cla-assistant-lite": "github"}


def add_import_parser(sub: Any) -> None:
    """Add ``import`` to ``cla-bot``'s subparsers."""
    imp = sub.add_parser(
        "import",
        help="import existing signature records from a CSV file",
        description="Import signatures from CSV with the header "
        "platform,login,account_id,email,name,agreement,version,signed_at. Every row is "
        "validated first; if any row is bad, nothing is imported and each bad row is "
        "reported by line number.",
    )
    imp.add_argument("file", type=Path, help="the CSV file")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")


def add_import_from_parser(sub: Any) -> None:
    """Add ``import-from`` to ``cla-bot``'s subparsers (listed after the operators' commands)."""
    imp = sub.add_parser(
        "import-from",
        help="import signatures exported by cla-assistant or CLA Assistant Lite",
        description="Import the signatures of another CLA bot into AGREEMENT VERSION. "
        "cla-assistant: its JSON (API answer or mongoexport) or the CSV its admin page "
        "downloads; cla-assistant-lite: the action's signatures/…/cla.json. Every row is "
        "checked first: if one cannot be mapped, nothing is imported (unless "
        "--skip-unmappable), and each is reported by position. What the format holds and the "
        "bot does not keep (gist URLs and versions, PR comments, other custom fields) is "
        "reported as counts. Importing the same file twice adds nothing.",
    )
    imp.add_argument("format", choices=FORMATS, help="the other bot's format")
    imp.add_argument("file", type=Path, help="the exported file")
    imp.add_argument("--agreement", required=True, help="the agreement the rows signed")
    imp.add_argument("--version", required=True, help="the version of it they signed")
    imp.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    imp.add_argument(
        "--skip-unmappable",
        action="store_true",
        help="import the rows that can be mapped and skip (and report) the others",
    )
    imp.add_argument(
        "--gist-version",
        metavar="SHA",
        help="cla-assistant: only rows signed on this gist version",
    )
    imp.add_argument(
        "--ignore-emails",
        action="store_true",
        help="do not use emails from the export as identities (cla-assistant's custom "
        "fields are typed in by the signer, not verified)",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code."""
    if args.command == "import":
        return await run_import(settings, args.file, dry_run=args.dry_run)
    try:
        return await run_foreign_import(
            settings,
            args.format,
            args.file,
            Options(
                agreement=args.agreement,
                version=args.version,
                gist_version=args.gist_version,
                use_emails=not args.ignore_emails,
            ),
            dry_run=args.dry_run,
            skip_unmappable=args.skip_unmappable,
        )
    except admin.AdminError as exc:
        print(f"cla-bot {args.command}: {exc.message}", file=sys.stderr)
        return 1
    except SettingsError:
        raise
    except OSError as exc:
        print(f"cla-bot {args.command}: {exc.strerror or exc}", file=sys.stderr)
        return 2


async def run_import(
    settings: Settings, path: Path, *, dry_run: bool = False, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    from bot.runtime import build_runtime

    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except OSError as exc:
        print(f"cla-bot import: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"cla-bot import: {path} is not UTF-8 text", file=sys.stderr)
        return 2
    result = parse_csv(text, settings.policy)
    if result.errors:
        for err in result.errors:
            print(f"{path}:{err}", file=sys.stderr)
        print(
            f"cla-bot import: {len(result.errors)} bad row(s); nothing was imported",
            file=sys.stderr,
        )
        return 1
    if dry_run:
        print(f"{len(result.rows)} row(s) are valid; nothing written (--dry-run)", file=out)
        return 0
    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session, session.begin():
            n, rechecks = await import_rows(session, runtime.cipher, result.rows)
    finally:
        await runtime.close()
    print(
        f"imported {n} signature(s); {rechecks} blocked pull request(s) queued for a re-check",
        file=out,
    )
    return 0


async def run_foreign_import(
    settings: Settings,
    fmt: str,
    path: Path,
    options: Options,
    *,
    dry_run: bool = False,
    skip_unmappable: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    from bot.runtime import build_runtime

    out = out or sys.stdout
    err = err or sys.stderr

    prog = "cla-bot import-from"
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except OSError as exc:
        print(f"{prog}: cannot read {path}: {exc.strerror}", file=err)
        return 2
    except UnicodeDecodeError:
        print(f"{prog}: {path} is not UTF-8 text", file=err)
        return 2
    result = parse(fmt, text, settings.policy, options, registry.forge(FORMAT_FORGES[fmt]).facts)
    if result.fatal:
        print(f"{prog}: {path}: {result.fatal}", file=err)
        return 2
    for problem in result.problems:
        print(f"{path}:{problem}", file=err)
    if result.problems and not skip_unmappable:
        print(
            f"{prog}: {len(result.problems)} row(s) cannot be mapped; nothing was imported "
            "(fix them, or pass --skip-unmappable to import the others)",
            file=err,
        )
        return 1
    print(
        f"read {result.total} row(s) in {fmt} format: {len(result.rows)} signature(s) to import, "
        f"{len(result.problems)} row(s) skipped as unmappable",
        file=out,
    )
    for line in result.unmapped():
        print(f"  not mapped: {line}", file=out)
    if dry_run:
        print("nothing written (--dry-run)", file=out)
        return 0
    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session, session.begin():
            fresh, seen = await already_recorded(session, runtime.cipher, result.rows)
            n, rechecks = await import_rows(session, runtime.cipher, fresh) if fresh else (0, 0)
    finally:
        await runtime.close()
    print(
        f"imported {n} signature(s) ({seen} already recorded); {rechecks} blocked pull "
        "request(s) queued for a re-check",
        file=out,
    )
    return 0
