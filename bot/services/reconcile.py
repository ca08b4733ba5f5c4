"""Reconciliation: bring every PR right even when webhooks were lost.

* **Redelivery** (GitHub): list the App's recent deliveries (``GET /app/hook/deliveries``, App
  JWT), group the attempts by GUID, and ask GitHub to redeliver
  (``POST /app/hook/deliveries/{id}/attempts``) each GUID that no attempt delivered — never one
  that succeeded, nor one this bot stored already (it answered, GitHub just did not hear it).
* **Sweep** (both platforms): re-check open PRs whose last check is older than
  ``stale_after_s`` — the net under everything else; on Gitee also every open PR the API lists
  that the bot has no current record of (new, pushed to, or recorded closed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import gidgethub
import gidgethub.aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.model import PullRequest, RepoRef
from bot.metrics import Metrics
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.client import GitHubPlatform
from bot.services.rechecks import enqueue_checks, enqueue_pr
from bot.storage.models import Job, PrCheck, utcnow
from bot.storage.pr_checks import get_pr_check

log = logging.getLogger("bot.reconcile")

MAX_DELIVERIES = 2000  # per pass: about a day of a busy App


@dataclass(frozen=True, slots=True)
class Redelivered:
    seen: int  # delivery attempts listed
    failed_guids: int  # GUIDs with no successful attempt
    already_stored: int  # of those, ones this bot stored anyway
    redelivered: int


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def redeliver_failed(
    platform: GitHubPlatform,
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime,
    metrics: Metrics | None = None,
) -> Redelivered:
    gh = gidgethub.aiohttp.GitHubAPI(
        platform.session, platform.settings.requester, base_url=platform.settings.api_url
    )
    jwt = platform.app_jwt()
    attempts: dict[str, list[dict[str, Any]]] = {}
    seen = 0
    async for item in gh.getiter("/app/hook/deliveries?per_page=100", jwt=jwt):
        seen += 1
        when = _parse_time(item.get("delivered_at"))
        if when is not None and when < since:
            break  # newest first: the rest is older than this pass looks
        guid = item.get("guid")
        if isinstance(guid, str):
            attempts.setdefault(guid, []).append(item)
        if seen >= MAX_DELIVERIES:
            break
    failed = {
        guid: items
        for guid, items in attempts.items()
        if not any(i.get("status") == "OK" for i in items)
    }
    stored: set[str] = set()
    if failed:
        async with sessions() as session:
            stored = set(
                (
                    await session.scalars(
                        select(Job.delivery_key).where(
                            Job.platform == "github", Job.delivery_key.in_(list(failed))
                        )
                    )
                ).all()
            )
    redelivered = 0
    for guid, items in failed.items():
        if guid in stored:
            continue
        latest = max(items, key=lambda i: int(i.get("id", 0)))
        await gh.post(
            "/app/hook/deliveries/{delivery_id}/attempts",
            url_vars={"delivery_id": str(latest["id"])},
            data=b"",  # no body: the operation takes none
            jwt=jwt,
        )
        redelivered += 1
    result = Redelivered(seen, len(failed), len(stored), redelivered)
    if metrics is not None:
        metrics.inc("cla_reconcile_runs_total", "Reconciliation passes.", kind="redelivery")
        metrics.inc(
            "cla_reconcile_redeliveries_total",
            "Deliveries GitHub was asked to redeliver.",
            amount=float(redelivered),
        )
    log.info("redelivery pass: %s", result)
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


class OpenPulls(Protocol):
    """The one call the Gitee sweep needs of a client (``GiteeClient.open_pulls``)."""

    async def open_pulls(self, repo: RepoRef) -> list[PullRequest]: ...


def since(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


async def sweep_gitee(
    sessions: async_sessionmaker[AsyncSession],
    client: OpenPulls,
    *,
    metrics: Metrics | None = None,
) -> int:
    """Gitee cannot redeliver: list the open PRs of every Gitee repository the bot has seen and
    queue a check of each one it has no record of, whose head moved since its last check, or
    that it recorded as closed (reopened while the delivery was lost)."""
    async with sessions() as session:
        repos = sorted(
            set(
                (
                    await session.scalars(
                        select(PrCheck.repo_full_name).where(PrCheck.platform == "gitee")
                    )
                ).all()
            )
        )
    queued = 0
    for full_name in repos:
        owner, _, name = full_name.partition("/")
        pulls = await client.open_pulls(RepoRef(GITEE, owner, name))
        async with sessions() as session, session.begin():
            for pr in pulls:
                record = await get_pr_check(
                    session, platform="gitee", repo_full_name=full_name, number=pr.number
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
                    platform="gitee",
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
