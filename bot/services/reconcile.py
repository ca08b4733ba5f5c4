"""Reconciliation: bring every PR right even when webhooks were lost.

* **Redelivery** (a forge that keeps a delivery log, :class:`~bot.platforms.base.Redelivery`):
  ask it to redeliver each delivery that no attempt delivered since a time — never one that
  succeeded, nor one this bot stored already (it answered, the forge just did not hear it).
* **Sweep** (every forge): re-check open PRs whose last check is older than ``stale_after_s``
  — the net under everything else; on a forge that cannot redeliver
  (:class:`~bot.platforms.base.OpenPulls`) also every open PR its API lists that the bot has
  no current record of (new, pushed to, or recorded closed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.model import Platform, RepoRef
from bot.metrics import Metrics
from bot.platforms.base import OpenPulls, Redelivery
from bot.services.rechecks import enqueue_checks, enqueue_pr
from bot.storage.models import Job, PrCheck, utcnow
from bot.storage.pr_checks import get_pr_check

log = logging.getLogger("bot.reconcile")

MAX_DELIVERIES = 2000  # per pass: about a day of a busy App


@dataclass(frozen=True, slots=True)
class Redelivered:
    seen: int  # delivery attempts listed
    failed_guids: int  # deliveries with no successful attempt
    already_stored: int  # of those, ones this bot stored anyway
    redelivered: int

    def __add__(self, other: Redelivered) -> Redelivered:
        return Redelivered(
            self.seen + other.seen,
            self.failed_guids + other.failed_guids,
            self.already_stored + other.already_stored,
            self.redelivered + other.redelivered,
        )


async def redeliver_failed(
    platform: Platform,
    log_of: Redelivery,
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime,
    metrics: Metrics | None = None,
) -> Redelivered:
    """One redelivery pass over ``platform``'s delivery log."""
    found = await log_of.failed_since(since, limit=MAX_DELIVERIES)
    stored: set[str] = set()
    if found.failed:
        async with sessions() as session:
            stored = set(
                (
                    await session.scalars(
                        select(Job.delivery_key).where(
                            Job.platform == platform, Job.delivery_key.in_(list(found.failed))
                        )
                    )
                ).all()
            )
    redelivered = 0
    for guid, attempt_id in found.failed.items():
        if guid in stored:
            continue
        await log_of.redeliver(attempt_id)
        redelivered += 1
    result = Redelivered(found.seen, len(found.failed), len(stored), redelivered)
    if metrics is not None:
        metrics.inc("cla_reconcile_runs_total", "Reconciliation passes.", kind="redelivery")
        metrics.inc(
            "cla_reconcile_redeliveries_total",
            "Deliveries the forges were asked to redeliver.",
            amount=float(redelivered),
        )
    log.info("redelivery pass (%s): %s", platform, result)
    return result


async def sweep(
    session: AsyncSession,
    *,
    stale_after_s: int,
    limit: int = 500,
    metrics: Metrics | None = None,
    now: datetime | None = None,
) -> int:
    """Queue a re-check of open PRs not checked for ``stale_after_s`` (oldest first)."""
    cutoff = (now or utcnow()) - timedelta(seconds=stale_after_s)
    stale = (
        await session.scalars(
            select(PrCheck)
            .where(
                PrCheck.state == "open",
                (PrCheck.checked_at < cutoff) | PrCheck.checked_at.is_(None),
            )
            .order_by(PrCheck.checked_at)
            .limit(limit)
        )
    ).all()
    queued = await enqueue_checks(session, stale, "sweep")
    if metrics is not None:
        metrics.inc("cla_reconcile_runs_total", "Reconciliation passes.", kind="sweep")
        metrics.inc(
            "cla_reconcile_sweep_rechecks_total",
            "Stale PRs queued for a re-check by the sweep.",
            amount=float(queued),
        )
    return queued


def since(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


async def sweep_open_pulls(
    platform: Platform,
    client: OpenPulls,
    sessions: async_sessionmaker[AsyncSession],
    *,
    metrics: Metrics | None = None,
) -> int:
    """For a forge that cannot redeliver: list the open PRs of every repository of
    ``platform`` the bot has seen and queue a check of each one it has no record of, whose head
    moved since its last check, or that it recorded as closed (reopened while the delivery was
    lost)."""
    async with sessions() as session:
        repos = sorted(
            set(
                (
                    await session.scalars(
                        select(PrCheck.repo_full_name).where(PrCheck.platform == platform)
                    )
                ).all()
            )
        )
    queued = 0
    for full_name in repos:
        owner, _, name = full_name.partition("/")
        pulls = await client.open_pulls(RepoRef(platform, owner, name))
        async with sessions() as session, session.begin():
            for pr in pulls:
                record = await get_pr_check(
                    session, platform=platform, repo_full_name=full_name, number=pr.number
                )
                if (
                    record is not None
                    and record.state == "open"
                    and record.head_sha == pr.head_sha
                    and record.checked_at
                ):
                    continue
                await enqueue_pr(
                    session,
                    platform=platform,
                    owner=owner,
                    name=name,
                    number=pr.number,
                    repo_id=pr.repo.repo_id,
                    installation_id=None,
                    trigger="sweep",
                )
                queued += 1
    if metrics is not None:
        metrics.inc(
            "cla_reconcile_sweep_rechecks_total",
            "Stale PRs queued for a re-check by the sweep.",
            amount=float(queued),
        )
    return queued
