"""The ``cla-bot`` command line: ``serve``, ``worker``, ``migrate``, ``import``.

Every command answers ``--help``, exits 2 with one line naming the setting on bad
configuration, and never prints a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.errors import SettingsError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cla-bot",
        description="Checks pull requests on GitHub and Gitee against signed Contributor "
        "License Agreements. Configuration: CLA_* environment variables and app.yaml "
        "(see README).",
    )
    p.add_argument("--version", action="version", version=f"cla-bot {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    serve = sub.add_parser(
        "serve",
        help="serve webhooks and pages, with the background worker in the same process",
        description="Serve webhooks, health and pages on CLA_HOST:CLA_PORT, and run the job "
        "worker in the same process. The database must be migrated (cla-bot migrate).",
    )
    serve.add_argument("--host", help="address to listen on (default: CLA_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: CLA_PORT or 8080)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="only accept webhooks; leave the jobs to separate `cla-bot worker` processes",
    )

    sub.add_parser(
        "worker",
        help="run the background worker only (for several replicas on one PostgreSQL)",
        description="Claim and run jobs from the database queue until interrupted. Run as many "
        "as you like against one PostgreSQL database; each job runs once.",
    )
    sub.add_parser(
        "migrate",
        help="apply database schema migrations",
        description="Upgrade the database named by CLA_DATABASE_URL to the latest schema.",
    )
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
    aud = sub.add_parser(
        "audit",
        help="show the audit trail of personal-data operations",
        description="Print the latest audit events (sign, correct, restrict, export, erase, "
        "import, contact reads): time, action, actor account, channel and request id. The "
        "trail never holds the personal data itself.",
    )
    aud.add_argument("--limit", type=int, default=50, help="how many events (default 50)")
    aud.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.add_parser(
        "purge",
        help="apply the retention rules now",
        description="Drop contributor records of closed or long-unchecked PRs, old finished "
        "delivery rows, expired sessions and login attempts (cla.retention in app.yaml). The "
        "worker also does this on a timer.",
    )
    from bot import cli_admin, cli_agreements, cli_company, cli_demo, cli_ops

    cli_admin.add_parsers(sub)
    cli_agreements.add_parsers(sub)
    cli_company.add_parsers(sub)
    cli_ops.add_parsers(sub)
    cli_demo.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot import cli_demo

    if args.command in cli_demo.COMMANDS:  # the sandbox builds its own settings
        return cli_demo.run(args)
    from bot import logs, settings

    try:
        conf = settings.load()
    except SettingsError as exc:
        print(f"cla-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.setup(conf.log_level, json_lines=not sys.stderr.isatty())
    try:
        if args.command == "migrate":
            from bot.storage.db import migrate

            asyncio.run(migrate(conf.database_url))
            print("database is at the latest schema")
            return 0
        if args.command == "import":
            from bot.services.importer import run_import

            return asyncio.run(run_import(conf, args.file, dry_run=args.dry_run))
        from bot import cli_admin, cli_agreements, cli_company, cli_ops

        if args.command in cli_agreements.COMMANDS:
            return asyncio.run(cli_agreements.run(args, conf))
        if args.command in cli_admin.COMMANDS:
            return asyncio.run(cli_admin.run(args, conf))
        if args.command in cli_company.COMMANDS:
            return asyncio.run(cli_company.run(args, conf))
        if args.command in cli_ops.COMMANDS:
            return asyncio.run(cli_ops.run(args, conf))
        if args.command in ("audit", "purge"):
            from bot.services.maintenance_cli import run_audit, run_purge

            if args.command == "audit":
                return asyncio.run(run_audit(conf, limit=args.limit, as_json=args.json))
            return asyncio.run(run_purge(conf))
        if args.command == "serve":
            from bot.web.app import serve

            return serve(conf, host=args.host, port=args.port, with_worker=not args.no_worker)
        if args.command == "worker":
            from bot.web.app import run_worker_only

            return run_worker_only(conf)
    except SettingsError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
