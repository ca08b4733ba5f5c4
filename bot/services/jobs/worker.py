"""The worker: runs claimed jobs through each kind's :class:`JobHandler`, with bounded
concurrency, and turns what a handler raised into the job's fate — retried with backoff
(a forge or database error, :class:`RetryLater`), retried after a rate limit's reset with the
installation paused, dead at once (:class:`GiveUp`, a 404, a missing permission), or retried
and then dead (a bug, its trace kept). Every dead job is reported through ``on_dead``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

from bot.core.errors import BotError
from bot.platforms.base import (
    ForgeAuthError,
    ForgeNotFound,
    MissingPermission,
    RateLimited,
    RetryableForgeError,
)
from bot.services.jobs.queue import JobQueue
from bot.services.jobs.records import ClaimedJob
from bot.storage.models import JobStatus

log = logging.getLogger("bot.jobs")

INGEST_FIRST_S = 1.0  # how long a claim gives way to deliveries being stored, at most


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
