"""The ORM models against the schema the migrations made: typed columns read rows as they are."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job, JobKind, JobStatus


@pytest.fixture
async def sessions(db_url: str) -> Any:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_job_kind_and_status_read_rows_written_as_plain_strings(sessions: Any) -> None:
    """Rows stored before ``kind`` and ``status`` were enum columns (plain VARCHAR values) are
    read as members of JobKind / JobStatus, and the ORM writes the same plain values."""
    async with sessions() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO jobs (platform, delivery_key, event, kind, payload, status, "
                "attempts, run_after, created_at) VALUES ('github', 'old-1', 'pull_request', "
                "'command', '{}', 'coalesced', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        s.add(
            Job(
                platform="gitee",
                delivery_key="new-1",
                event="Note Hook",
                kind=JobKind.BOOKKEEPING,
                payload={},
                status=JobStatus.DEAD,
            )
        )
    async with sessions() as s:
        old = (await s.scalars(select(Job).where(Job.delivery_key == "old-1"))).one()
        assert (old.kind, old.status) == (JobKind.COMMAND, JobStatus.COALESCED)
        assert type(old.kind) is JobKind and type(old.status) is JobStatus
        raw = (
            await s.execute(text("SELECT kind, status FROM jobs WHERE delivery_key = 'new-1'"))
        ).one()
        assert tuple(raw) == ("bookkeeping", "dead")
