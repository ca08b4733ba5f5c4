"""How the queue stands, for ``/metrics``: jobs waiting or running, the age of the oldest, and
the dead ones. It reads the same ``jobs`` table as :mod:`bot.services.jobs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Job, JobStatus, utcnow


@dataclass(frozen=True, slots=True)
class QueueStats:
    depth: int
    oldest_age_s: float
    dead: int


async def queue_stats(session: AsyncSession) -> QueueStats:
    row = (
        await session.execute(
            select(func.count(), func.min(Job.created_at)).where(
                Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
            )
        )
    ).one()
    dead = await session.scalar(
        select(func.count()).select_from(Job).where(Job.status == JobStatus.DEAD)
    )
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return QueueStats(int(row[0] or 0), max(0.0, age), int(dead or 0))
