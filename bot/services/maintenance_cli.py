"""``cla-bot audit`` and ``cla-bot purge``."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from bot.services import audit
from bot.settings import Settings


async def run_audit(
    settings: Settings, *, limit: int, as_json: bool, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    from bot.web.app import build_runtime

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
    from bot.web.app import build_runtime

    runtime = await build_runtime(settings, clients={})
    try:
        purged = await runtime.purge()
    finally:
        await runtime.close()
    print(
        f"purged {purged.contributor_records} contributor record(s), {purged.jobs} finished "
        f"job row(s), {purged.sessions} session(s), {purged.login_attempts} login attempt(s)",
        file=out,
    )
    return 0
