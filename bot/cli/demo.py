"""``cla-bot demo``: try the bot in the browser against a built-in sandbox forge.

Wired into :mod:`bot.cli.main` with two lines: ``demo.add_parsers(sub)`` in the parser, and,
in ``main`` right after parsing (before the settings are loaded: the demo makes its own),
``if args.command in demo.COMMANDS: return demo.run(args)``. The only command that imports
:mod:`bot.sandbox`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

COMMANDS = ("demo",)

DESCRIPTION = """\
Start the bot together with a sandbox: a small pretend GitHub on this machine, with made-up
people and repositories and a web page. Open the sandbox's address (printed first), open a pull
request as one of the made-up contributors, and watch the bot set its `cla` status, a label and
a comment; follow the signing link, sign in to the sandbox as that contributor, sign, and see the
pull request turn green.

Nothing leaves the machine: the sandbox listens on 127.0.0.1 only (by default on the bot's port
+ 1), keeps everything in memory and generates its own App key; the bot listens on CLA_HOST:
CLA_PORT (default 127.0.0.1:8080) and keeps its records in var/demo.db (under CLA_VAR_DIR), apart
from a real set-up's database. Any CLA_GITHUB_* / CLA_GITEE_* settings are ignored here.
Stop with Ctrl+C. `make run` starts this when no forge is configured.

Each run starts afresh: var/demo.db is emptied when the demo starts. The sandbox keeps its pull
requests in memory and forgets them when it stops, so the bot's records of them (who signed on
them, which checks ran) would only get in the way of trying again: the contributors would be
signed already and their new pull requests green at once. The file stays after Ctrl+C, to look
at, until the next demo starts.
"""


def add_parsers(sub: Any) -> None:
    """Add ``demo`` to ``cla-bot``'s subparsers."""
    demo = sub.add_parser(
        "demo",
        help="try the bot in the browser against a built-in sandbox GitHub (loopback only)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--host", help="where the bot listens (default: CLA_HOST or 127.0.0.1)")
    demo.add_argument(
        "--port", type=int, help="the bot's port (default: CLA_PORT or 8080; 0: any free port)"
    )
    demo.add_argument(
        "--sandbox-port",
        type=int,
        help="the sandbox's port on 127.0.0.1 (default: the bot's port + 1, else any free port)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``demo`` until interrupted; returns the exit code."""
    from bot import logs
    from bot.sandbox.demo import run_demo

    level = os.environ.get("CLA_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        print(
            "cla-bot: configuration error: CLA_LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR",
            file=sys.stderr,
        )
        return 2
    logs.setup(level, json_lines=not sys.stderr.isatty())
    return run_demo(os.environ, args.host, args.port, sandbox_port=args.sandbox_port)
