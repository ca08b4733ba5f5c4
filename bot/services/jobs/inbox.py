"""Group commit for webhook deliveries (:class:`Inbox`), and how a database failure is told
from a delivery the database refuses (:func:`database_unavailable`, :class:`Unstorable`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.errors import BotError
from bot.services.jobs.records import NewJob, now_utc
from bot.storage.db import thread_engine
from bot.storage.models import Job, JobStatus


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
