"""``cla-bot audit`` (the trail of personal-data operations) and ``cla-bot purge`` (the
retention rules, now)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bot.services import audit
from bot.settings import Settings

COMMANDS = ("audit", "purge")


def add_parsers(sub: Any) -> None:
    """Add ``audit`` and ``purge`` to ``cla-bot``'s subparsers."""
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


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code."""
    if args.command == "audit":
        return await run_audit(settings, limit=args.limit, as_json=args.json)
    return await run_purge(settings)


async def run_audit(
    settings: Settings, *, limit: int, as_json: bool, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    from bot.runtime import build_runtime

    runtime = await build_runtime(settings, clients={})
    try:
        async with runtime.sessions() as session:
            events = await audit.events(session, limit=max(1, min(limit, 10_000)))
    finally:
        await runtime.close()
    for ev in reversed(events):
        row = {
            "at": ev.at.isoformat(),
            "action": ev.action,
            "actor": ev.actor,
            "via": ev.via,
            "request_id": ev.request_id,
            "details": ev.details,
        }
        if as_json:
            print(json.dumps(row, ensure_ascii=False), file=out)
        else:
            extra = " ".join(f"{k}={v}" for k, v in ev.details.items())
            print(
                f"{row['at']}  {ev.action:<12} {ev.actor:<28} {ev.via:<8} {ev.request_id}  {extra}",
                file=out,
            )
    return 0


async def run_purge(settings: Settings, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from bot.runtime import build_runtime

    runtime = await build_runtime(settings, clients={})
    try:
        purged = await runtime.purge()
    finally:
        await runtime.close()
    print(
        f"purged {purged.contributor_records} contributor record(s), {purged.jobs} finished "
        f"job row(s), {purged.sessions} session(s), {purged.login_attempts} login attempt(s), "
        f"{purged.email_codes} email code(s)",
        file=out,
    )
    return 0
