"""The ``cla-bot`` command line: the parser and :func:`main`; each family of commands is a
module of this package (``serve``, ``imports``, ``maintenance``, ``admin``, ``agreements``,
``company``, ``communities``, ``ops``, ``mail``, ``receipts``, ``demo``) with its ``COMMANDS``,
``add_parsers`` and ``run``.

Every command answers ``--help``, exits 2 with one line naming the setting on bad
configuration, and never prints a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

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
    from bot.cli import (
        admin,
        agreements,
        communities,
        company,
        demo,
        imports,
        mail,
        maintenance,
        ops,
        receipts,
        serve,
    )

    serve.add_parsers(sub)
    imports.add_import_parser(sub)
    maintenance.add_parsers(sub)
    admin.add_parsers(sub)
    imports.add_import_from_parser(sub)
    agreements.add_parsers(sub)
    company.add_parsers(sub)
    communities.add_parsers(sub)
    ops.add_parsers(sub)
    mail.add_parsers(sub)
    receipts.add_parsers(sub)
    demo.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.cli import demo

    if args.command in demo.COMMANDS:  # the sandbox builds its own settings
        return demo.run(args)
    from bot import logs, settings

    try:
        conf = settings.load()
    except SettingsError as exc:
        print(f"cla-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.setup(conf.log_level, json_lines=not sys.stderr.isatty())
    try:
        from bot.cli import (
            admin,
            agreements,
            communities,
            company,
            imports,
            mail,
            maintenance,
            ops,
            receipts,
            serve,
        )

        if args.command in serve.COMMANDS:
            return serve.run(args, conf)
        if args.command in imports.COMMANDS:
            return asyncio.run(imports.run(args, conf))
        if args.command in agreements.COMMANDS:
            return asyncio.run(agreements.run(args, conf))
        if args.command in admin.COMMANDS:
            return asyncio.run(admin.run(args, conf))
        if args.command in company.COMMANDS:
            return asyncio.run(company.run(args, conf))
        if args.command in communities.COMMANDS:
            return asyncio.run(communities.run(args, conf))
        if args.command in ops.COMMANDS:
            return asyncio.run(ops.run(args, conf))
        if args.command in receipts.COMMANDS:
            return asyncio.run(receipts.run(args, conf))
        if args.command in mail.COMMANDS:
            return asyncio.run(mail.run(args, conf))
        if args.command in maintenance.COMMANDS:
            return asyncio.run(maintenance.run(args, conf))
    except SettingsError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
