"""Shared fixtures: a migrated database per test on every backend (SQLite always, PostgreSQL
when CLA_TEST_POSTGRES_URL is set), settings built from an explicit environment, and keys."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import settings as settings_mod
from bot.storage.crypto import FieldCipher, generate_env_keys, load_keyring
from bot.storage.db import _upgrade
from bot.storage.models import Base
from tests import ast_threads

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CLA_TEST_POSTGRES_URL", "").strip()
ast_threads.install()
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run blocking set-up that starts its own event loop (Alembic's env.py, asyncpg admin
    calls) off the test's running loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture(scope="session")
def keys_env() -> dict[str, str]:
    return generate_env_keys()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _in_thread(_upgrade, f"sqlite+aiosqlite:///{path}", "head")
    return path


async def _pg_admin(sql: str) -> None:
    import asyncpg

    u = make_url(PG_URL)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip("CLA_TEST_POSTGRES_URL is not set")
    name = f"cla_test_{uuid.uuid4().hex[:10]}"
    _in_thread(asyncio.run, _pg_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _in_thread(_upgrade, url, "head")
    yield url
    _in_thread(asyncio.run, _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "cla.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url: str = request.getfixturevalue("pg_database")
        await _truncate(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "cla.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def make_env(tmp_path: Path, keys_env: dict[str, str]) -> Callable[..., dict[str, str]]:
    def make(db_url: str, **extra: str) -> dict[str, str]:
        env = {
            "CLA_DATABASE_URL": db_url,
            "CLA_CONFIG": str(ROOT / "app.yaml"),
            "CLA_VAR_DIR": str(tmp_path / "var"),
            "CLA_PUBLIC_URL": "https://cla.example.org",
            **keys_env,
        }
        env.update(extra)
        return env

    return make


@pytest.fixture
def make_settings(
    make_env: Callable[..., dict[str, str]], tmp_path: Path
) -> Callable[..., settings_mod.Settings]:
    def make(db_url: str, **extra: str) -> settings_mod.Settings:
        return settings_mod.load(make_env(db_url, **extra), cwd=tmp_path)

    return make


@pytest.fixture
def cipher(keys_env: dict[str, str], tmp_path: Path) -> FieldCipher:
    keyring, _ = load_keyring(keys_env, var_dir=tmp_path / "var")
    return FieldCipher(keyring)


def pytest_report_header(config: Any) -> str:
    return "database backends: " + ", ".join(BACKENDS)


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """A command run in a test (``main([...])``) sets up logging for the process — the root
    logger's handlers and level (``CLA_LOG_LEVEL``). Put them back, so that a later test's
    ``caplog`` sees every record it expects whatever ran before it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
