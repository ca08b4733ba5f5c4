"""``cla-bot import FILE`` (the bot's CSV) and ``cla-bot import-from FORMAT PATH`` (another
CLA bot's export: a file, or app-cla-server's folder of dumps): read it, report every bad row,
write nothing unless all are good (or ``--skip-unmappable``), then say what was imported. The
parsing and the writing are :mod:`bot.services.importer` and :mod:`bot.services.importers`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.cli.failures import reported
from bot.platforms import registry
from bot.services.importer import import_rows, parse_csv, request_id
from bot.services.importers import (
    APP_CLA_SERVER_FILES,
    FORMATS,
    ForeignImport,
    LinkError,
    Options,
    already_recorded,
    import_companies,
    parse,
    parse_app_cla_server,
    parse_links,
)
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
        help="import signatures exported by cla-assistant, CLA Assistant Lite or app-cla-server",
        description="Import the signatures of another CLA bot. cla-assistant: its JSON (API "
        "answer or mongoexport) or the CSV its admin page downloads; cla-assistant-lite: the "
        "action's signatures/…/cla.json; both into --agreement and --version. "
        "app-cla-server: a folder holding the mongoexport --jsonArray dumps of its "
        "individual_signing and corp_signing collections (individual_signing.json, "
        "corp_signing.json), each --link LINK_ID[=AGREEMENT[:VERSION]] mapping one link's "
        "signings to an agreement of app.yaml (without =AGREEMENT: the required agreement for "
        "individual signings, the corporate agreement for corporate ones; a link's two kinds "
        "may be named by two --link). Its individual signings become signatures by email "
        "(proven by code, as there); its corporate signings companies (approved when the "
        "community had confirmed them there, else pending), listing the emails of their "
        "enabled employees and their domains (pending unless --approve-domains); soft-deleted "
        "signings, disabled and removed employees and other links' signings are left out. "
        "Every row is checked first: if one cannot be mapped, nothing is imported (unless "
        "--skip-unmappable), and each is reported by position. What the format holds and the "
        "bot does not keep (gist URLs and versions, PR comments, other custom fields, "
        "signatories, managers, PDFs) is reported as counts. Importing the same export twice "
        "adds nothing.",
    )
    imp.add_argument("format", choices=FORMATS, help="the other bot's format")
    imp.add_argument(
        "file",
        metavar="PATH",
        type=Path,
        help="the exported file (app-cla-server: the folder of its dumps)",
    )
    imp.add_argument(
        "--agreement", help="cla-assistant formats: the agreement the rows signed (required)"
    )
    imp.add_argument(
        "--version", help="cla-assistant formats: the version of it they signed (required)"
    )
    imp.add_argument(
        "--link",
        action="append",
        default=[],
        metavar="LINK_ID[=AGREEMENT[:VERSION]]",
        help="app-cla-server (at least one): import this link's signings, into AGREEMENT "
        "(its VERSION when it has several); other links' signings are counted, not imported",
    )
    imp.add_argument(
        "--approve-domains",
        action="store_true",
        help="app-cla-server: list the companies' domains approved (they then cover everyone "
        "committing from them) instead of pending an administrator's approval",
    )
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


def _misused(args: argparse.Namespace) -> str | None:
    """Options that do not fit the format, in words; ``None`` when they all do."""
    if args.format in FORMAT_FORGES:
        if not args.agreement or not args.version:
            return f"{args.format} needs --agreement and --version"
        if args.link or args.approve_domains:
            return "--link and --approve-domains are for app-cla-server"
        return None
    if not args.link:
        return "app-cla-server needs at least one --link LINK_ID[=AGREEMENT[:VERSION]]"
    if args.agreement or args.version or args.gist_version or args.ignore_emails:
        return (
            "app-cla-server maps each link with --link; --agreement, --version, "
            "--gist-version and --ignore-emails are for the cla-assistant formats"
        )
    return None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code."""
    if args.command == "import":
        return await run_import(settings, args.file, dry_run=args.dry_run)
    misused = _misused(args)
    if misused:
        print(f"cla-bot {args.command}: {misused}", file=sys.stderr)
        return 2
    if args.format in FORMAT_FORGES:
        options = Options(
            agreement=args.agreement,
            version=args.version,
            gist_version=args.gist_version,
            use_emails=not args.ignore_emails,
        )
        work = run_foreign_import(
            settings,
            args.format,
            args.file,
            options,
            dry_run=args.dry_run,
            skip_unmappable=args.skip_unmappable,
        )
    else:
        work = run_app_cla_server(
            settings,
            args.file,
            args.link,
            approve_domains=args.approve_domains,
            dry_run=args.dry_run,
            skip_unmappable=args.skip_unmappable,
        )
    return await reported(args.command, work)


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


PROG = "cla-bot import-from"


async def _read(path: Path, err: TextIO) -> str | None:
    """The text of ``path``; ``None`` once the reason it cannot be read is printed."""
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except OSError as exc:
        print(f"{PROG}: cannot read {path}: {exc.strerror}", file=err)
    except UnicodeDecodeError:
        print(f"{PROG}: {path} is not UTF-8 text", file=err)
    return None


def _report(
    result: ForeignImport,
    fmt: str,
    path: Path,
    *,
    skip_unmappable: bool,
    dry_run: bool,
    out: TextIO,
    err: TextIO,
) -> int | None:
    """Print what was read and what cannot be mapped; the exit code when nothing is to be
    written (``None``: go on)."""
    if result.fatal:
        print(f"{PROG}: {path}: {result.fatal}", file=err)
        return 2
    for problem in result.problems:  # a folder's rows are named by file and position in it
        where = path / problem.where if fmt not in FORMAT_FORGES else f"{path}:{problem.where}"
        print(f"{where}: {problem.problem}", file=err)
    if result.problems and not skip_unmappable:
        print(
            f"{PROG}: {len(result.problems)} row(s) cannot be mapped; nothing was imported "
            "(fix them, or pass --skip-unmappable to import the others)",
            file=err,
        )
        return 1
    companies = ""
    if result.companies:
        emails = sum(len(c.emails) for c in result.companies)
        domains = sum(len(c.domains) for c in result.companies)
        companies = (
            f" and {len(result.companies)} company(ies) listing {emails} employee email(s) "
            f"and {domains} domain(s)"
        )
    print(
        f"read {result.total} row(s) in {fmt} format: {len(result.rows)} signature(s)"
        f"{companies} to import, {len(result.problems)} row(s) skipped as unmappable",
        file=out,
    )
    for line in result.unmapped():
        print(f"  not mapped: {line}", file=out)
    if dry_run:
        print("nothing written (--dry-run)", file=out)
        return 0
    return None


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
    """A cla-assistant format: one file, into one agreement version."""
    from bot.runtime import build_runtime

    out = out or sys.stdout
    err = err or sys.stderr
    text = await _read(path, err)
    if text is None:
        return 2
    forge = registry.forge(FORMAT_FORGES[fmt]).facts
    result = parse(fmt, text, settings.policy, options, forge)
    code = _report(
        result, fmt, path, skip_unmappable=skip_unmappable, dry_run=dry_run, out=out, err=err
    )
    if code is not None:
        return code
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


async def run_app_cla_server(
    settings: Settings,
    folder: Path,
    links: list[str],
    *,
    approve_domains: bool = False,
    dry_run: bool = False,
    skip_unmappable: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """app-cla-server: the dumps in ``folder``, link by link (``--link``)."""
    from bot.runtime import build_runtime

    out = out or sys.stdout
    err = err or sys.stderr
    fmt = "app-cla-server"
    try:
        mapped = parse_links(links, settings.policy)
    except LinkError as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2
    if not await asyncio.to_thread(folder.is_dir):
        print(
            f"{PROG}: {folder} is not a folder (app-cla-server's dumps are read from one: "
            f"{', '.join(APP_CLA_SERVER_FILES)})",
            file=err,
        )
        return 2
    files: dict[str, str | None] = {}
    for name in APP_CLA_SERVER_FILES:
        if not await asyncio.to_thread((folder / name).exists):
            files[name] = None
            continue
        files[name] = await _read(folder / name, err)
        if files[name] is None:
            return 2
    result = parse_app_cla_server(files, mapped)
    code = _report(
        result, fmt, folder, skip_unmappable=skip_unmappable, dry_run=dry_run, out=out, err=err
    )
    if code is not None:
        return code
    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session, session.begin():
            request = request_id()
            fresh, seen = await already_recorded(session, runtime.cipher, result.rows)
            n, rechecks = (
                await import_rows(session, runtime.cipher, fresh, request=request, source=fmt)
                if fresh
                else (0, 0)
            )
            written = await import_companies(
                session,
                runtime.cipher,
                result.companies,
                source=fmt,
                request_id=request,
                approve_domains=approve_domains,
            )
    finally:
        await runtime.close()
    domains = "approved" if approve_domains else "pending an administrator's approval"
    print(
        f"imported {n} signature(s) ({seen} already recorded) and {written.created} "
        f"company(ies) ({written.existing} imported before), adding {written.emails} employee "
        f"email(s) and {written.domains} domain(s) ({domains}); "
        f"{rechecks + written.rechecks} blocked pull request(s) queued for a re-check",
        file=out,
    )
    waiting = (written.domains and not approve_domains) or any(
        not c.confirmed for c in result.companies
    )
    if waiting:
        print("  what waits for a decision: cla-bot company list --pending", file=out)
    return 0
