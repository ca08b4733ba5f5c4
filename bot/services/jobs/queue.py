"""The queue's SQL: enqueue, claim with a lease, coalesce, retry with backoff, dead-letter.

A job is claimed with a lease; a crashed worker's lease expires and the job is claimed again.
PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` under a transaction-level advisory lock that
serialises claimers only (webhook inserts never wait for it), so that two jobs of one PR are
never run at once. SQLite has a single writer, so ``BEGIN IMMEDIATE`` gives the same guarantee.

Check jobs for the same PR coalesce: when one is claimed, the other queued ones for that PR are
marked ``coalesced`` and the newest payload is written into the claimed job in the same
transaction, since a check reads the PR's latest state (and a crash after the claim must not
lose it). What happens to a job that failed is the worker's decision
(:mod:`bot.services.jobs.worker`); this module carries it out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.jobs.inbox import Inbox
from bot.services.jobs.records import CHECK_SNAPSHOT, ClaimedJob, NewJob, now_utc
from bot.storage.models import Installation, Job, JobKind, JobStatus

log = logging.getLogger("bot.jobs")

CLAIM_LOCK_ID = 0x6C61  # advisory lock key for claimers on PostgreSQL
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 600.0


async def enqueue(
    session: AsyncSession, job: NewJob, *, status: JobStatus = JobStatus.QUEUED
) -> bool:
    """Insert a job; False when this delivery was stored before (a redelivery)."""
    row = Job(
        platform=job.platform,
        delivery_key=job.delivery_key,
        event=job.event,
        action=job.action,
        kind=str(job.kind),
        payload=job.payload,
        pr_key=job.pr_key,
        installation_id=job.installation_id,
        status=str(status),
        finished_at=None if status == JobStatus.QUEUED else now_utc(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


def backoff_s(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [base·2^(n−1)/2, base·2^(n−1)]."""
    r = rng or random
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(0, attempt - 1)))
    return float(ceiling / 2 + r.random() * ceiling / 2)


class JobQueue:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        lease_s: float,
        max_attempts: int,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._sessions = sessions
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._clock = clock
        self.wakeup = asyncio.Event()
        self.inbox = Inbox(sessions, clock=clock)

    def notify(self) -> None:
        self.wakeup.set()

    def now(self) -> datetime:
        """The queue's clock (every due time and lease is measured on it)."""
        return self._clock()

    async def claim(self) -> ClaimedJob | None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            dialect = session.bind.dialect.name if session.bind else ""
            if dialect == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK_ID}
                )
            busy_prs = (
                select(Job.pr_key)
                .where(
                    Job.status == JobStatus.RUNNING, Job.lease_until > now, Job.pr_key.is_not(None)
                )
                .scalar_subquery()
            )
            paused = (
                select(Installation.installation_id)
                .where(Installation.paused_until > now)
                .scalar_subquery()
            )
            q = (
                select(Job)
                .where(
                    or_(
                        and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
                        and_(Job.status == JobStatus.RUNNING, Job.lease_until <= now),
                    ),
                    or_(Job.pr_key.is_(None), Job.pr_key.not_in(busy_prs)),
                    or_(Job.installation_id.is_(None), Job.installation_id.not_in(paused)),
                )
                .order_by(Job.run_after, Job.id)
                .limit(1)
            )
            if dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            job = (await session.scalars(q)).first()
            if job is None:
                return None
            if job.status == JobStatus.RUNNING:
                log.warning("job %s: lease expired, claiming it again", job.id)
            job.status = JobStatus.RUNNING
            job.lease_until = now + timedelta(seconds=self.lease_s)
            job.locked_by = self.worker_id
            job.attempts += 1
            claimed = ClaimedJob(
                id=job.id,
                platform=job.platform,
                event=job.event,
                action=job.action,
                kind=job.kind,
                payload=dict(job.payload),
                pr_key=job.pr_key,
                installation_id=job.installation_id,
                attempts=job.attempts,
            )
            if job.kind == JobKind.CHECK and job.pr_key:
                # Two statements whatever the burst: the newest payload, then one UPDATE for
                # every other queued check of the PR (no ORM object per coalesced row).
                same_pr = (
                    Job.pr_key == job.pr_key,
                    Job.kind == JobKind.CHECK,
                    Job.status == JobStatus.QUEUED,
                    Job.id != job.id,
                )
                newest = (
                    await session.execute(
                        select(Job.payload)
                        .where(*same_pr, Job.id > job.id)
                        .order_by(Job.id.desc())
                        .limit(1)
                    )
                ).first()
                if newest is not None:
                    # Stored with the claim, in the same transaction that empties the newer
                    # rows: a worker dying after this commit leaves the newest snapshot on the
                    # job that is claimed again, never only in its lost memory.
                    claimed.payload = _merge_check_payloads(claimed.payload, dict(newest[0]))
                    job.payload = dict(claimed.payload)
                coalesced = await session.scalars(
                    update(Job)
                    .where(*same_pr)
                    .values(
                        payload={},
                        status=JobStatus.COALESCED,
                        finished_at=now,
                        last_error=f"coalesced into job {job.id}",
                    )
                    .returning(Job.id)
                    .execution_options(synchronize_session=False)
                )
                claimed.coalesced.extend(sorted(coalesced.all()))
        return claimed

    async def complete(
        self, job: ClaimedJob, *, status: JobStatus = JobStatus.DONE, note: str | None = None
    ) -> None:
        """Mark the job finished and drop its payload: nothing about people is kept once the
        work is done (the row stays, for dedupe and metrics)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.locked_by == self.worker_id)
                .values(
                    status=str(status),
                    finished_at=self._clock(),
                    lease_until=None,
                    last_error=note,
                    payload={},
                )
            )

    async def retry_later(
        self,
        job: ClaimedJob,
        *,
        error: str,
        delay_s: float | None = None,
        count_attempt: bool = True,
    ) -> JobStatus:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            row = await session.get(Job, job.id)
            if row is None or row.locked_by != self.worker_id:
                return JobStatus.RUNNING
            attempts = row.attempts if count_attempt else max(0, row.attempts - 1)
            if count_attempt and attempts >= self.max_attempts:
                row.status = JobStatus.DEAD
                row.finished_at = now
                row.last_error = error[:2000]
                row.lease_until = None
                log.error("job %s is dead after %s attempts: %s", job.id, attempts, error[:200])
                return JobStatus.DEAD
            row.attempts = attempts
            row.status = JobStatus.QUEUED
            row.lease_until = None
            row.last_error = error[:2000]
            row.run_after = now + timedelta(
                seconds=delay_s if delay_s is not None else backoff_s(attempts)
            )
            return JobStatus.QUEUED

    async def dead(self, job: ClaimedJob, *, error: str) -> bool:
        """Dead-letter the job now, whatever its attempts (nothing a retry could change); the
        payload stays for operators (``cla-bot jobs --retry``). False when the job is no
        longer this worker's."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.locked_by == self.worker_id)
                .values(
                    status=str(JobStatus.DEAD),
                    finished_at=self._clock(),
                    lease_until=None,
                    last_error=error[:2000],
                )
            )
        done = bool(getattr(result, "rowcount", 0))
        if done:
            log.error("job %s is dead: %s", job.id, error[:200])
        return done

    async def pause_installation(self, job: ClaimedJob, until: datetime) -> None:
        if job.installation_id is None:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Installation)
                .where(
                    Installation.platform == job.platform,
                    Installation.installation_id == job.installation_id,
                )
                .values(paused_until=until)
            )


def _merge_check_payloads(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The newest event's PR snapshot wins; a comment-triggered check (no snapshot) keeps the
    older snapshot's fields only if it carries none itself."""
    merged = dict(old)
    merged.update({k: v for k, v in new.items() if v is not None})
    if CHECK_SNAPSHOT not in new:
        merged.pop(CHECK_SNAPSHOT, None)  # re-read the PR: the newest trigger had no snapshot
    return merged
