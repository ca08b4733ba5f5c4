"""``cla-bot demo``: the bot and the sandbox forge side by side, on loopback.

The sandbox starts first (on 127.0.0.1, by default on the bot's port + 1), then the bot with
every ``CLA_GITHUB_*`` setting pointed at it (App id, its freshly generated key, webhook secret,
OAuth client, API and web URLs) and no Gitee, on ``CLA_HOST:CLA_PORT``, with its own SQLite
database ``var/demo.db`` (migrated here) so that a real set-up later starts clean. Nothing is
reachable from outside unless ``CLA_HOST`` says so, and nothing leaves the machine.

Each demo starts with an empty ``var/demo.db``: the sandbox keeps its world in memory, so the
pull requests, installations and App of the last run are gone, and records of them (signatures
made on them, PR checks, queued jobs) would only make the walk-through unrepeatable — ``@ada``
already signed, her new PR green at once. The file stays after the demo stops, to look at, and
is emptied only once the bot's port is known to be free (never under a demo still running).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aiohttp import web

from bot import settings as settings_mod
from bot.errors import SettingsError
from bot.sandbox.outbox import Outbox, serve
from bot.sandbox.server import Sandbox
from bot.settings import Settings
from bot.storage.db import migrate
from bot.web.app import create_app

__all__ = ["DEMO_DB", "Demo", "demo_env", "reset_database", "run_demo", "start_demo"]

DEMO_DB = "demo.db"
MAIL_VARS = ("CLA_SMTP_URL", "CLA_MAIL_FROM")  # the demo never sends real mail
DEFAULT_PORT = 8080


@dataclass
class Demo:
    sandbox: Sandbox
    settings: Settings
    runner: web.AppRunner
    bot_url: str
    smtp: asyncio.Server | None = None

    @property
    def sandbox_url(self) -> str:
        return self.sandbox.url

    @property
    def app(self) -> web.Application:
        return self.runner.app

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.sandbox.close()
        if self.smtp is not None:
            self.smtp.close()
            await self.smtp.wait_closed()


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - describing, not binding
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_free(host: str, port: int) -> None:
    """Raise the OSError that binding ``host:port`` would (as the server binds: address reuse
    on, so only a port someone listens on counts as busy)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))


def reset_database(path: Path) -> None:
    """Remove the demo's SQLite file and its journal, WAL and shared-memory companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("CLA_PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise SettingsError("CLA_PORT", "must be a port number between 0 and 65535")
    return int(raw)


def demo_env(
    base: Mapping[str, str],
    sandbox: Sandbox,
    *,
    host: str,
    port: int,
    cwd: Path,
    smtp_port: int | None = None,
) -> dict[str, str]:
    """``base`` without any real forge or mail server, pointed at ``sandbox`` (and at the
    sandbox's own mail server on ``smtp_port``), on its own database."""
    env = {
        k: v
        for k, v in base.items()
        if not k.startswith(("CLA_GITHUB_", "CLA_GITEE_")) and k not in MAIL_VARS
    }
    if smtp_port is not None:
        env["CLA_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        env["CLA_MAIL_FROM"] = "CLA bot (sandbox) <cla-bot@sandbox.invalid>"
    var_dir = Path(env.get("CLA_VAR_DIR", "").strip() or cwd / "var")
    if not var_dir.is_absolute():
        var_dir = cwd / var_dir
    env.update(sandbox.bot_env())
    env.update(
        {
            "CLA_DATABASE_URL": f"sqlite+aiosqlite:///{var_dir / DEMO_DB}",
            "CLA_HOST": host,
            "CLA_PORT": str(port),
            "CLA_PUBLIC_URL": f"http://{_url_host(host)}:{port}",
        }
    )
    return env


async def start_demo(
    base_env: Mapping[str, str],
    *,
    host: str | None = None,
    port: int | None = None,
    sandbox_port: int | None = None,
    cwd: Path | None = None,
) -> Demo:
    """Start the sandbox and the bot (with its worker); ``Demo.close()`` stops both."""
    cwd = cwd or Path.cwd()
    host = host or base_env.get("CLA_HOST", "").strip() or "127.0.0.1"
    port = _port(base_env) if port is None else port
    if port == 0:
        port = _free_port(host)
    sandbox = Sandbox()
    if sandbox_port is None:
        try:
            await sandbox.start("127.0.0.1", port + 1 if port < 65535 else 0)
        except OSError:
            await sandbox.start("127.0.0.1", 0)
    else:
        await sandbox.start("127.0.0.1", sandbox_port)
    runner: web.AppRunner | None = None
    smtp: asyncio.Server | None = None
    try:
        sandbox.outbox = Outbox()
        smtp, smtp_port = await serve(sandbox.outbox)
        env = demo_env(base_env, sandbox, host=host, port=port, cwd=cwd, smtp_port=smtp_port)
        conf = settings_mod.load(env, cwd=cwd)
        _check_free(host, port)
        reset_database(Path(conf.database_url.removeprefix("sqlite+aiosqlite:///")))
        await migrate(conf.database_url)
        runner = web.AppRunner(create_app(conf, run_worker=True), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        if runner is not None:
            await runner.cleanup()
        await sandbox.close()
        if smtp is not None:
            smtp.close()
        raise
    sandbox.connect(conf.public_url)
    return Demo(sandbox=sandbox, settings=conf, runner=runner, bot_url=conf.public_url, smtp=smtp)


def run_demo(
    settings_env: Mapping[str, str],
    host: str | None = None,
    port: int | None = None,
    *,
    sandbox_port: int | None = None,
    cwd: Path | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the demo until SIGINT/SIGTERM; prints where to go. Returns the exit code."""
    out = out or sys.stdout

    async def main() -> int:
        try:
            demo = await start_demo(
                settings_env, host=host, port=port, sandbox_port=sandbox_port, cwd=cwd
            )
        except SettingsError as exc:
            print(exc.report(), file=sys.stderr)
            return 2
        except OSError as exc:
            where = f"{host or settings_env.get('CLA_HOST') or '127.0.0.1'}:{port or ''}"
            print(
                f"cla-bot demo: cannot listen ({exc.strerror or exc}) on {where.rstrip(':')}: "
                "stop the program using the port, or pick another with --port / "
                "--sandbox-port",
                file=sys.stderr,
            )
            return 2
        db = demo.settings.database_url.removeprefix("sqlite+aiosqlite:///")
        print(
            f"Open the sandbox first: {demo.sandbox_url}/ — a pretend GitHub where you open a "
            "pull request as a made-up contributor",
            file=out,
            flush=True,
        )
        print(
            f"The bot, connected to it: {demo.bot_url}/ — its records go to {db} (emptied at "
            "each start); Ctrl+C stops both",
            file=out,
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await demo.close()
        return 0

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130
