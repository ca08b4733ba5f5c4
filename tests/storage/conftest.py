"""What the storage tests share: sessions on a migrated database (SQLite, and PostgreSQL when
configured) and agreements built in the test, so that each asserts the exact rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import AgreementSettings, VersionSettings
from bot.storage.db import create_engine, session_factory
from tests.conftest import BACKENDS, PG_URL, _in_thread, _pg_admin


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own, not migrated yet (the shared ones are at the head): for the
    migration tests, which upgrade it step by step with data in it."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"cla_mig_{uuid.uuid4().hex[:10]}"
    _in_thread(asyncio.run, _pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _in_thread(asyncio.run, _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def version(number: str, text: str | None = None, *, compatible: bool = True) -> VersionSettings:
    return VersionSettings(
        version=number,
        text_path=f"agreements/{number}.md",
        text=text if text is not None else f"The text of {number}.",
        compatible=compatible,
        fields={"name": "required"},
    )


def agreement(agreement_id: str, *versions: VersionSettings, title: str = "") -> AgreementSettings:
    return AgreementSettings(
        agreement_id=agreement_id,
        title=title or f"The {agreement_id} agreement",
        kind="individual",
        versions=versions,
    )
