"""Engine, sessions and migrations.

SQLite runs in WAL mode with a busy timeout; PostgreSQL through asyncpg. Sessions are created
per unit of work with ``expire_on_commit=False``; repositories take a session and never commit.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

log = logging.getLogger("bot.db")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if not u.drivername.startswith("sqlite") or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Every transaction takes SQLite's single write lock (BEGIN IMMEDIATE below), so
            # a second connection could only wait for it in SQLite's sleeping busy handler
            # (1, 2, 5 … 100 ms naps, even after the lock is free). One connection per process
            # makes the wait an asyncio FIFO handoff instead.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=30)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _sqlite_events(engine.sync_engine)
    return engine


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Erased rows are overwritten, not left behind in free pages.
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        # Take the write lock at BEGIN so two writers never deadlock on lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    # pysqlite's own transaction handling must be off for the explicit BEGIN above.
    @event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None


@functools.lru_cache(maxsize=64)
def _thread_engine(url: str) -> Engine:
    engine = create_sync_engine(
        url.replace("sqlite+aiosqlite:", "sqlite+pysqlite:", 1),
        poolclass=NullPool,
        connect_args={"timeout": 30, "check_same_thread": False},
    )
    _sqlite_events(engine)
    return engine


def thread_engine(engine: AsyncEngine) -> Engine | None:
    """For a SQLite file: a synchronous engine on the same file (same pragmas, BEGIN IMMEDIATE,
    a fresh connection per use) for a transaction run whole in one worker thread — the webhook
    inbox, which then holds the write lock for its own work only, not for the event loop's
    turns between the many thread hops of the async driver. ``None`` for other databases."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "sqlite" or _sqlite_file(url) is None:
        return None
    return _thread_engine(url)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def flush_erased(engine: AsyncEngine, *, attempts: int = 5) -> bool:
    """After an erasure on SQLite, fold the write-ahead log into the database and truncate it,
    so that no older copy of an erased page survives in the WAL file (``secure_delete`` has
    already zeroed the erased content in the pages themselves). Call it after the erasure and
    everything that still named the person (a job's payload) are committed: a checkpoint taken
    earlier leaves the later versions' predecessors in the log. Returns whether the log was
    truncated (a reader in another process can hold it back: retried, then a warning)."""
    if engine.dialect.name != "sqlite":
        return True
    for attempt in range(attempts):
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection  # aiosqlite: outside any transaction, as needed
            assert driver is not None
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = (await cursor.fetchone() or (1,))[0]
            await cursor.close()
        if busy == 0:
            return True
        await asyncio.sleep(0.05 * (attempt + 1))
    log.warning("the write-ahead log could not be truncated after an erasure: a reader holds it")
    return False


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


async def migrate(url: str, revision: str = "head") -> None:
    """Apply migrations (Alembic runs its own event loop: keep it off ours)."""
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_upgrade, url, revision)
