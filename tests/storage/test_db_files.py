"""The SQLite database holds personal data (encrypted, but also who signed what and when): its
file and the write-ahead log and shared-memory files beside it are readable by their owner
only, whatever the umask — on a real file, after real writes."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.db import create_engine, migrate, thread_engine

SIDECARS = ("", "-wal", "-shm")


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: new files 0644
    try:
        yield
    finally:
        os.umask(old)


def _modes(db: Path) -> dict[str, str]:
    return {
        suffix or "db": f"{stat.S_IMODE((db.parent / (db.name + suffix)).stat().st_mode):04o}"
        for suffix in SIDECARS
    }


async def test_a_new_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    db = tmp_path / "var" / "cla.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES ('a row')"))
        async with engine.connect() as conn:  # the pooled connection keeps -wal and -shm
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
            assert _modes(db) == {"db": "0600", "-wal": "0600", "-shm": "0600"}
    finally:
        await engine.dispose()
    assert f"{stat.S_IMODE(db.parent.stat().st_mode):04o}" == "0700"


async def test_migrate_creates_the_database_0600(tmp_path: Path) -> None:
    db = tmp_path / "cla.db"
    await migrate(f"sqlite+aiosqlite:///{db}")
    assert f"{stat.S_IMODE(db.stat().st_mode):04o}" == "0600"


async def test_an_existing_database_readable_by_others_is_narrowed(tmp_path: Path) -> None:
    db = tmp_path / "cla.db"
    conn = sqlite3.connect(db, isolation_level=None)  # kept open: -wal and -shm stay
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES ('a row')")
        os.chmod(db, 0o644)
        for suffix in SIDECARS[1:]:
            os.chmod(tmp_path / f"cla.db{suffix}", 0o644)
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with engine.begin() as aconn:
                await aconn.execute(text("INSERT INTO t VALUES ('another')"))
            assert _modes(db) == {"db": "0600", "-wal": "0600", "-shm": "0600"}
        finally:
            await engine.dispose()
    finally:
        conn.close()


async def test_the_inbox_thread_engine_opens_the_same_private_file(tmp_path: Path) -> None:
    db = tmp_path / "cla.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        sync = thread_engine(engine)
        assert sync is not None
        with sync.begin() as conn:
            conn.execute(text("CREATE TABLE t (x TEXT)"))
        assert f"{stat.S_IMODE(db.stat().st_mode):04o}" == "0600"
    finally:
        await engine.dispose()
