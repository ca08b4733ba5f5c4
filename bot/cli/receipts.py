"""``cla-bot receipt-verify``: whether a receipt's identifiers match a recorded signature (the
same answer as ``/receipts/verify``)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.settings import Settings

COMMANDS = ("receipt-verify",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "receipt-verify",
        help="check a signing receipt against the records",
        description="Say whether the signature number, agreement, version, text SHA-256 and "
        "signing time of a receipt match a recorded signature. Exit 0 when they do, 1 when they "
        "do not. The answer names nobody.",
    )
    p.add_argument("--signature", type=int, required=True, metavar="N")
    p.add_argument("--agreement", required=True, metavar="ID", help="e.g. individual")
    p.add_argument("--version", required=True)
    p.add_argument("--sha256", required=True, help="the text's SHA-256, as the receipt gives it")
    p.add_argument(
        "--signed-at", required=True, metavar="TIME", help="UTC, e.g. '2026-12-03 08:48:35'"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    return await verify(settings, args, out=sys.stdout)


async def verify(settings: Settings, args: argparse.Namespace, *, out: TextIO) -> int:
    from bot.runtime import build_runtime
    from bot.services import receipts

    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session:
            matches = await receipts.verify(
                session,
                signature_id=args.signature,
                agreement_id=args.agreement,
                version=args.version,
                sha256=args.sha256,
                signed_at=args.signed_at,
            )
    finally:
        await runtime.close()
    print(
        "the receipt matches a recorded signature"
        if matches
        else "the receipt does not match any recorded signature",
        file=out,
    )
    return 0 if matches else 1
