"""The durable job queue: the delivery inbox is the queue.

A job is claimed with a lease; a crashed worker's lease expires and the job is claimed again.
PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` under a transaction-level advisory lock that
serialises claimers only (webhook inserts never wait for it), so that two jobs of one PR are
never run at once. SQLite has a single writer, so ``BEGIN IMMEDIATE`` gives the same guarantee.

Check jobs for the same PR coalesce: when one is claimed, the other queued ones for that PR are
marked ``coalesced`` and the newest payload is written into the claimed job in the same
transaction, since a check reads the PR's latest state (and a crash after the claim must not
lose it). A job that can never succeed (the forge answers 404, or names a permission the App
lacks) is dead at once; every dead job is reported through the worker's ``on_dead`` hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, and_, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.errors import BotError
from bot.platforms.base import (
    ForgeAuthError,
    ForgeNotFound,
    MissingPermission,
    RateLimited,
    RetryableForgeError,
)
from bot.storage.db import thread_engine
from bot.storage.models import Installation, Job, JobKind, JobStatus

log = logging.getLogger("bot.jobs")

CLAIM_LOCK_ID = 0x6C61  # advisory lock key for claimers on PostgreSQL
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 600.0
INGEST_FIRST_S = 1.0  # how long a claim gives way to deliveries being stored, at most


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewJob:
    platform: str
    delivery_key: str
    event: str
    action: str | None
    kind: JobKind
    payload: dict[str, Any]
    pr_key: str | None = None
    installation_id: int | None = None


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


class RetryLater(BotError):
    """A handler's word that its job could not be done now and may be tried again with
    backoff (a mail server that cannot be reached); ``reason`` is safe for a log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GiveUp(BotError):
    """A handler's word that retrying its job cannot help (a mail server's 5xx): the job is
    dead-lettered at once; ``reason`` is safe for a log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unstorable(BotError, ValueError):
    """The database refused this delivery's values (the client's fault, answered 4xx); the
    driver's error is the ``__cause__``."""


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database could not be used at all (unreachable, locked,
    connection lost) — as opposed to refusing one statement's values."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, OperationalError | InterfaceError | DisconnectionError | OSError | TimeoutError
    )


@dataclass(slots=True)
class _Pending:
    jobs: tuple[NewJob, ...]
    done: asyncio.Future[bool]


class Inbox:
    """Group commit for webhook deliveries: every delivery that arrives while one transaction
    is being committed goes into the next one, as one multi-row ``INSERT … ON CONFLICT DO
    NOTHING``. A caller is answered only after its transaction committed (acknowledge after
    commit still holds); under no load a batch is one delivery, so nothing waits for a timer.

    A delivery is new when at least one of its jobs was inserted; a redelivery (the same
    ``(platform, delivery_key)``, stored before or earlier in the same batch) is not.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 512,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._sessions = sessions
        self.max_batch = max_batch
        self._clock = clock
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self, timeout_s: float) -> None:
        """Until no delivery is waiting to be stored, or ``timeout_s`` at most (the worker lets
        webhooks go first, without starving under a sustained flood)."""
        if self._idle.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=timeout_s)

    async def put(self, jobs: Sequence[NewJob]) -> bool:
        """Store one delivery's jobs (queued); False when the delivery was stored before.
        Raises what the database raised when the delivery could not be committed."""
        loop = asyncio.get_running_loop()
        pending = _Pending(tuple(jobs), loop.create_future())
        self._pending.append(pending)
        self._idle.clear()
        if self._task is None:
            self._task = loop.create_task(self._run(), name="cla-inbox")
        return await asyncio.shield(pending.done)

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._commit(batch)
        finally:
            self._task = None
            self._idle.set()

    async def _commit(self, batch: list[_Pending]) -> None:
        """One transaction for the batch. When it fails for any reason but an unusable
        database, the deliveries are stored one by one, so that one unstorable delivery (a
        value the driver or the database refuses, whatever it raises) fails alone; an unusable
        database fails every caller (503 each)."""
        try:
            results = await self._insert(batch)
        except Exception as exc:
            if database_unavailable(exc):
                for pending in batch:
                    _settle(pending, exc)
                return
            if len(batch) == 1:
                _settle(batch[0], _unstorable(exc))
                return
            for i, pending in enumerate(batch):
                try:
                    (new,) = await self._insert([pending])
                except Exception as one_exc:
                    if database_unavailable(one_exc):
                        for rest in batch[i:]:
                            _settle(rest, one_exc)
                        return
                    _settle(pending, _unstorable(one_exc))
                else:
                    _settle(pending, new)
        else:
            for pending, new in zip(batch, results, strict=True):
                _settle(pending, new)

    async def _insert(self, batch: Sequence[_Pending]) -> list[bool]:
        now = self._clock()
        owner: dict[tuple[str, str], int] = {}
        rows: list[dict[str, Any]] = []
        for i, pending in enumerate(batch):
            for job in pending.jobs:
                key = (job.platform, job.delivery_key)
                if key in owner:
                    continue  # delivered twice in one batch: the first one counts
                owner[key] = i
                rows.append(
                    {
                        "platform": job.platform,
                        "delivery_key": job.delivery_key,
                        "event": job.event,
                        "action": job.action,
                        "kind": str(job.kind),
                        "payload": job.payload,
                        "pr_key": job.pr_key,
                        "installation_id": job.installation_id,
                        "status": str(JobStatus.QUEUED),
                        "attempts": 0,
                        "run_after": now,
                        "created_at": now,
                    }
                )
        results = [False] * len(batch)
        if not rows:
            return results
        table = cast(Table, Job.__table__)
        bind = self._sessions.kw.get("bind")
        in_thread = thread_engine(bind) if isinstance(bind, AsyncEngine) else None
        if in_thread is not None:
            # SQLite: the whole transaction in one thread call (one hop, not ten).
            stmt = _insert_new(sqlite.insert, table)
            inserted = await asyncio.to_thread(_run_in_thread, in_thread, stmt, rows)
        else:
            async with self._sessions() as session, session.begin():
                dialect = session.bind.dialect.name if session.bind else ""
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                stmt = _insert_new(insert, table)
                inserted = list((await session.execute(stmt, rows)).all())
        for platform, delivery_key in inserted:
            results[owner[(platform, delivery_key)]] = True
        return results


def _insert_new(insert: Callable[[Table], Any], table: Table) -> Any:
    """``INSERT … ON CONFLICT (platform, delivery_key) DO NOTHING RETURNING`` the new keys
    (Core, not the ORM's bulk path: a third of the cost per row)."""
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["platform", "delivery_key"])
        .returning(table.c.platform, table.c.delivery_key)
    )


def _run_in_thread(engine: Engine, stmt: Any, rows: list[dict[str, Any]]) -> list[Any]:
    with engine.begin() as conn:
        return list(conn.execute(stmt, rows).all())


def _unstorable(exc: Exception) -> Unstorable:
    error = Unstorable(f"the database refused the delivery's values ({type(exc).__name__})")
    error.__cause__ = exc
    return error


def _settle(pending: _Pending, outcome: bool | BaseException) -> None:
    if pending.done.done():
        return
    if isinstance(outcome, BaseException):
        pending.done.set_exception(outcome)
    else:
        pending.done.set_result(outcome)


def backoff_s(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [base·2^(n−1)/2, base·2^(n−1)]."""
    r = rng or random
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(0, attempt - 1)))
    return float(ceiling / 2 + r.random() * ceiling / 2)


@dataclass
class ClaimedJob:
    id: int
    platform: str
    event: str
    action: str | None
    kind: str
    payload: dict[str, Any]
    pr_key: str | None
    installation_id: int | None
    attempts: int
    coalesced: list[int] = field(default_factory=list)


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
    if "pull" not in new:
        merged.pop("pull", None)  # re-read the PR: the newest trigger had no snapshot
    return merged


Handler = Callable[[ClaimedJob], Awaitable[None]]
DeadHandler = Callable[[ClaimedJob, str], Awaitable[None]]


@dataclass(frozen=True)
class JobHandler:
    """How one kind of job runs, and what a dead job of that kind leaves behind (``None``:
    nothing). Each service names its kinds in a ``handlers()`` method; the runtime merges them
    into the worker's ``{JobKind: JobHandler}`` table, so a new kind is one entry in the service
    that runs it. A kind without an entry is done at once (bookkeeping)."""

    run: Handler
    on_dead: Callable[[ClaimedJob], Awaitable[object]] | None = None


class Worker:
    """Runs claimed jobs with bounded concurrency; wakes when a job is stored.

    ``on_dead`` is told of every job that goes dead (retries exhausted, or a repository the
    forge does not know), with its last error, so the PR does not wait in silence; it is best
    effort: if it fails, that is logged and the job stays dead."""

    def __init__(
        self,
        queue: JobQueue,
        handler: Handler,
        *,
        concurrency: int,
        poll_s: float,
        on_dead: DeadHandler | None = None,
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.on_dead = on_dead
        self.concurrency = concurrency
        self.poll_s = poll_s
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run_one(self) -> bool:
        """Claim and run one job; False when there was none ready."""
        try:
            job = await self.queue.claim()
        except OperationalError as exc:
            log.warning("cannot claim jobs: database unavailable (%s)", type(exc).__name__)
            return False
        if job is None:
            return False
        await self._execute(job)
        return True

    async def _execute(self, job: ClaimedJob) -> None:
        try:
            await self.handler(job)
        except RateLimited as exc:
            log.warning(
                "job %s: rate limited until %s; installation paused", job.id, exc.until.isoformat()
            )
            await self.queue.pause_installation(job, exc.until)
            delay = max(1.0, (exc.until - self.queue.now()).total_seconds())
            await self.queue.retry_later(
                job, error=f"rate limited: {exc}", delay_s=delay, count_attempt=False
            )
        except RetryableForgeError as exc:
            error = f"{type(exc).__name__}: {exc}"
            status = await self.queue.retry_later(job, error=error)
            log.warning("job %s: forge error (%s), %s", job.id, exc, status)
            await self._if_dead(job, status, error)
        except RetryLater as exc:
            status = await self.queue.retry_later(job, error=exc.reason)
            log.warning("job %s: %s, %s", job.id, exc.reason, status)
            await self._if_dead(job, status, exc.reason)
        except GiveUp as exc:
            log.warning("job %s: %s; not retried", job.id, exc.reason)
            if await self.queue.dead(job, error=exc.reason):
                await self._report_dead(job, exc.reason)
        except ForgeNotFound as exc:
            # The repository (or PR) is gone or the App no longer sees it: retrying cannot help.
            error = f"the forge answered 404 (not found): {type(exc).__name__}: {exc}"
            if await self.queue.dead(job, error=error):
                await self._report_dead(job, error)
        except MissingPermission as exc:
            # Nor can it while an owner has not granted the App the permission it needs.
            error = f"the installation lacks a permission: {exc}"
            if await self.queue.dead(job, error=error):
                await self._report_dead(job, error)
        except ForgeAuthError as exc:
            log.warning("job %s: %s: %s", job.id, type(exc).__name__, exc)
            error = f"{type(exc).__name__}: {exc}"
            await self._if_dead(job, await self.queue.retry_later(job, error=error), error)
        except OperationalError as exc:
            log.warning("job %s: database error %s; will retry", job.id, type(exc).__name__)
            await asyncio.sleep(self.poll_s)
        except Exception as exc:  # a bug: keep the trace for operators, retry, then dead letter
            log.error(
                "job %s failed: %s", job.id, "".join(traceback.format_exception_only(exc)).strip()
            )
            log.debug("job %s traceback", job.id, exc_info=True)
            error = "".join(traceback.format_exception(exc))[-2000:]
            await self._if_dead(job, await self.queue.retry_later(job, error=error), error)
        else:
            await self.queue.complete(job)

    async def _if_dead(self, job: ClaimedJob, status: JobStatus, error: str) -> None:
        if status == JobStatus.DEAD:
            await self._report_dead(job, error)

    async def _report_dead(self, job: ClaimedJob, error: str) -> None:
        if self.on_dead is None:
            return
        try:
            await self.on_dead(job, error)
        except Exception as exc:  # best effort: the job stays dead and visible either way
            log.warning(
                "job %s: could not report that it is dead: %s: %s",
                job.id,
                type(exc).__name__,
                str(exc)[:200],
            )

    async def drain(self, *, max_jobs: int = 10_000) -> int:
        """Run ready jobs until none is left (tests and one-shot runs)."""
        n = 0
        while n < max_jobs and await self.run_one():
            n += 1
        return n

    async def run(self) -> None:
        sem = asyncio.Semaphore(self.concurrency)
        while not self._stopping.is_set():
            await sem.acquire()
            # Webhooks first: on SQLite every transaction takes the one write lock, so a claim
            # waits until the deliveries in hand are committed (and acknowledged).
            await self.queue.inbox.wait_idle(INGEST_FIRST_S)
            # Clear before claiming: a job stored after this point wakes the wait below.
            self.queue.wakeup.clear()
            try:
                job = await self.queue.claim()
            except Exception as exc:
                sem.release()
                log.warning("cannot claim jobs: %s", type(exc).__name__)
                await self._sleep(self.poll_s)
                continue
            if job is None:
                sem.release()
                await self._sleep(self.poll_s)
                continue
            task = asyncio.create_task(self._run_released(job, sem))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_released(self, job: ClaimedJob, sem: asyncio.Semaphore) -> None:
        try:
            await self._execute(job)
        finally:
            sem.release()
            self.queue.notify()  # a PR held back by this one may be claimable now

    async def _sleep(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.wakeup.wait(), timeout=timeout_s)

    async def stop(self) -> None:
        self._stopping.set()
        self.queue.notify()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
