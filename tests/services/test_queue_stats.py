"""The queue's gauges: jobs queued or running, the oldest one's age, the dead ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import queue_stats as stats_mod
from bot.services.queue_stats import QueueStats, queue_stats
from bot.storage.models import Job, JobKind, JobStatus

NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def job(n: int, status: JobStatus, age_s: float) -> Job:
    return Job(
        platform="github",
        delivery_key=f"d{n}",
        event="pull_request",
        action="opened",
        kind=JobKind.CHECK,
        payload={},
        status=status,
        created_at=NOW - timedelta(seconds=age_s),
    )


async def test_an_empty_queue(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats_mod, "utcnow", lambda: NOW)
    async with sessions() as s:
        assert await queue_stats(s) == QueueStats(depth=0, oldest_age_s=0.0, dead=0)


async def test_depth_counts_queued_and_running_and_the_age_is_the_oldest_of_them(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats_mod, "utcnow", lambda: NOW)
    async with sessions() as s, s.begin():
        s.add_all(
            [
                job(1, JobStatus.QUEUED, 30),
                job(2, JobStatus.RUNNING, 90),
                job(3, JobStatus.DONE, 500),
                job(4, JobStatus.DEAD, 900),
                job(5, JobStatus.DEAD, 10),
                job(6, JobStatus.COALESCED, 700),
            ]
        )
    async with sessions() as s:
        assert await queue_stats(s) == QueueStats(depth=2, oldest_age_s=90.0, dead=2)
