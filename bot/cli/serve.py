"""``cla-bot serve``, ``cla-bot worker`` and ``cla-bot migrate``: run the bot, or its schema."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.errors import SettingsError
from bot.settings import Settings

COMMANDS = ("serve", "worker", "migrate")


def add_parsers(sub: Any) -> None:
    """Add ``serve``, ``worker`` and ``migrate`` to ``cla-bot``'s subparsers."""
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of :data:`COMMANDS` until it ends or is interrupted; returns the exit code."""
    if args.command == "migrate":
        from bot.storage.db import migrate

        asyncio.run(migrate(settings.database_url))
        print("database is at the latest schema")
        return 0
    if args.command == "serve":
        return serve(settings, host=args.host, port=args.port, with_worker=not args.no_worker)
    from bot.runtime import run_worker_only

    return run_worker_only(settings)


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    with_worker: bool = True,
) -> int:
    """The web application (and, unless ``with_worker`` is false, the worker) on ``host:port``
    until a signal stops it (the web application is imported only by the commands that serve)."""
    from aiohttp import web

    from bot.runtime import describe
    from bot.web.app import RUNTIME, create_app

    describe(settings)
    app = create_app(settings, run_worker=with_worker)

    async def check_forges(app: web.Application) -> None:
        app[RUNTIME].start_forge_checks()

    app.on_startup.append(check_forges)
    h = host or settings.host
    p = port if port is not None else settings.port
    print(f"cla-bot serving on http://{h}:{p} (public URL {settings.public_url})", flush=True)
    try:
        web.run_app(app, host=h, port=p, print=None, access_log=None, handle_signals=True)
    except SettingsError as exc:
        print(exc.report(), flush=True)
        return 2
    return 0
