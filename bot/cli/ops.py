"""Operators' commands: ``jobs`` (dead letters, retry), ``reconcile`` (a pass now) and
``rotate-keys``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import select, update

from bot.settings import Settings

COMMANDS = ("jobs", "reconcile", "rotate-keys")


def add_parsers(sub: Any) -> None:
    jobs = sub.add_parser(
        "jobs",
        help="list dead jobs with their last error, and retry them",
        description="Show jobs the worker gave up on (after cla.worker.max_attempts) with their "
        "last error, or the queue's counts; --retry puts dead jobs back in the queue.",
    )
    jobs.add_argument("--all", action="store_true", help="counts of every status, not just dead")
    jobs.add_argument("--retry", nargs="*", type=int, metavar="ID", help="retry these dead jobs")
    jobs.add_argument("--retry-all", action="store_true", help="retry every dead job")
    jobs.add_argument("--json", action="store_true", help="one JSON object per line")
    sub.add_parser(
        "reconcile",
        help="run a reconciliation pass now (redeliver lost GitHub deliveries, sweep stale PRs)",
        description="Ask GitHub to redeliver every recent delivery that never succeeded (never "
        "one that did), then queue a re-check of open PRs whose check is older than "
        "cla.reconcile.stale_after_s. A running bot does both on its own timers.",
    )
    rot = sub.add_parser(
        "rotate-keys",
        help="re-encrypt every personal field under the primary data key",
        description="Put a new kid:key first in CLA_ENCRYPTION_KEYS (keep the old ones after "
        "it), then run this: every ciphertext is re-encrypted under the new key, and the report "
        "says when no row uses an old key any more. --reindex rebuilds the email blind indexes "
        "after CLA_BLIND_INDEX_KEY changed. --new-key prints a fresh key to put first.",
    )
    rot.add_argument("--reindex", action="store_true", help="also rebuild the blind indexes")
    rot.add_argument(
        "--new-key", metavar="KID", help="print a new kid:key for CLA_ENCRYPTION_KEYS and exit"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "rotate-keys" and args.new_key:
        from bot.storage.crypto import generate_env_keys

        try:
            value = generate_env_keys(kid=args.new_key)["CLA_ENCRYPTION_KEYS"]
        except ValueError as exc:
            print(f"cla-bot rotate-keys: {exc}", file=sys.stderr)
            return 2
        print(f"Put this first in CLA_ENCRYPTION_KEYS (keep the old keys after it):\n{value}")
        return 0
    from bot.runtime import build_runtime

    runtime = await build_runtime(settings, clients={} if args.command != "reconcile" else None)
    try:
        if args.command == "jobs":
            return await _jobs(runtime, args)
        if args.command == "reconcile":
            redelivered = await runtime.redeliver()
            swept = await runtime.sweep()
            if redelivered is None:
                print("GitHub is not configured: no redelivery pass")
            else:
                print(
                    f"redelivery: {redelivered.seen} attempts listed, {redelivered.failed_guids} "
                    f"never delivered, {redelivered.already_stored} stored anyway, "
                    f"{redelivered.redelivered} redelivered"
                )
            print(f"sweep: {swept} stale pull request(s) queued for a re-check")
            return 0
        return await _rotate(runtime, reindex=args.reindex)
    finally:
        await runtime.close()


async def _jobs(runtime: Any, args: argparse.Namespace) -> int:
    from sqlalchemy import func

    from bot.storage.models import Job, JobStatus, utcnow

    async with runtime.sessions() as session, session.begin():
        if args.retry_all or args.retry:
            q = update(Job).where(Job.status == JobStatus.DEAD)
            if args.retry:
                q = q.where(Job.id.in_(args.retry))
            result = await session.execute(
                q.values(status=JobStatus.QUEUED, attempts=0, run_after=utcnow(), finished_at=None)
            )
            print(f"{int(getattr(result, 'rowcount', 0) or 0)} dead job(s) queued again")
            return 0
        if args.all:
            rows = (
                await session.execute(select(Job.status, func.count()).group_by(Job.status))
            ).all()
            for status, count in sorted(rows):
                print(f"{status:<10} {count}")
            return 0
        dead = (
            await session.scalars(
                select(Job).where(Job.status == JobStatus.DEAD).order_by(Job.id.desc()).limit(200)
            )
        ).all()
    if not dead:
        print("no dead jobs")
    for job in dead:
        last = (job.last_error or "").strip().splitlines()
        row = {
            "id": job.id,
            "platform": job.platform,
            "event": job.event,
            "pr": job.pr_key,
            "attempts": job.attempts,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "last_error": last[-1] if last else "",
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{job.id:>8}  {job.platform:<6} {job.pr_key or job.event:<40} "
                f"attempts={job.attempts}  {row['last_error'][:120]}"
            )
    return 0


async def _rotate(runtime: Any, *, reindex: bool) -> int:
    from bot.services import keys

    async with runtime.sessions() as session, session.begin():
        result = await keys.reencrypt(session, runtime.cipher)
        if reindex:
            result.reindexed, result.rechecks = await keys.reindex(session, runtime.cipher)
    async with runtime.sessions() as session:
        used = await keys.keys_in_use(session, runtime.cipher)
    primary = runtime.cipher.primary
    print(f"re-encrypted {result.reencrypted} field(s) under key {primary!r}")
    if reindex:
        print(
            f"rebuilt {result.reindexed} blind index(es); {result.rechecks} PR re-check(s) queued"
        )
    old = {k: v for k, v in used.items() if k != primary}
    if old:
        print("still under old keys: " + ", ".join(f"{k}={v}" for k, v in sorted(old.items())))
        return 1
    print("no row uses an old key: the old keys can be removed from CLA_ENCRYPTION_KEYS")
    return 0
