"""Re-checks the maintainers ask for: one PR, or every open PR the bot knows in a repository."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Platform, RepoRef
from bot.platforms import registry
from bot.platforms.routing import pr_key
from bot.services.admin.common import NotFound, find_check_query, validate_repo
from bot.services.jobs import NewJob, enqueue
from bot.services.rechecks import enqueue_checks
from bot.services.requests import CheckRequest
from bot.storage.models import JobKind, PrCheck, Repository


@dataclass(frozen=True, slots=True)
class Recheck:
    queued: int
    known: bool  # the bot had a record of the PR (or of open PRs in the repository)


async def recheck_pr(
    session: AsyncSession, *, platform: str, owner: str, repo: str, number: int
) -> Recheck:
    """Queue a check of one PR; one the bot has no record of is queued too, when the bot knows
    how to reach the repository (its installation)."""
    validate_repo(platform, owner, repo, number)
    check = (
        await session.scalars(
            find_check_query(platform, owner, repo).where(PrCheck.number == number)
        )
    ).first()
    if check is not None:
        return Recheck(await enqueue_checks(session, [check], "api"), True)
    repo_row = (
        await session.scalars(
            select(Repository).where(
                Repository.platform == platform,
                func.lower(Repository.full_name) == f"{owner}/{repo}".lower(),
                Repository.removed_at.is_(None),
            )
        )
    ).first()
    other = (await session.scalars(find_check_query(platform, owner, repo).limit(1))).first()
    installation_id = (repo_row.installation_id if repo_row is not None else None) or (
        other.installation_id if other is not None else None
    )
    repo_id = (repo_row.forge_repo_id if repo_row is not None else None) or (
        other.repo_id if other is not None else None
    )
    if registry.forge(platform).installations and installation_id is None:
        raise NotFound("the bot is not installed on this repository (no installation on record)")
    if repo_row is not None:
        owner, _, repo = repo_row.full_name.partition("/")
    elif other is not None:
        owner, _, repo = other.repo_full_name.partition("/")
    await enqueue(
        session,
        NewJob(
            platform=platform,
            delivery_key=f"recheck:{uuid.uuid4().hex}",
            event="recheck",
            action="api",
            kind=JobKind.CHECK,
            payload=CheckRequest(
                RepoRef(Platform(platform), owner, repo, repo_id), number, "api"
            ).to_json(),
            pr_key=pr_key(platform, owner, repo, number),
            installation_id=installation_id,
        ),
    )
    return Recheck(1, False)


async def recheck_repo(session: AsyncSession, *, platform: str, owner: str, repo: str) -> Recheck:
    """Queue a check of every open PR the bot has a record of in this repository."""
    validate_repo(platform, owner, repo)
    checks = (
        await session.scalars(
            find_check_query(platform, owner, repo)
            .where(PrCheck.state == "open")
            .order_by(PrCheck.number)
        )
    ).all()
    if not checks:
        known = (
            await session.scalars(
                select(Repository.id).where(
                    Repository.platform == platform,
                    func.lower(Repository.full_name) == f"{owner}/{repo}".lower(),
                )
            )
        ).first() is not None or (
            await session.scalars(find_check_query(platform, owner, repo).limit(1))
        ).first() is not None
        if not known:
            raise NotFound("the bot has no record of this repository")
        return Recheck(0, True)
    return Recheck(await enqueue_checks(session, checks, "api"), True)
