"""What the bot last reported on each PR, and which identities block it (``pr_blockers``), so
that a signature or an erasure finds the PRs to check again. Every function takes a session
and never commits: the caller owns the unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import PrBlocker, PrCheck


async def get_pr_check(
    session: AsyncSession, *, platform: str, repo_full_name: str, number: int
) -> PrCheck | None:
    return (
        await session.scalars(
            select(PrCheck).where(
                PrCheck.platform == platform,
                PrCheck.repo_full_name == repo_full_name,
                PrCheck.number == number,
            )
        )
    ).first()


async def replace_contributors(
    session: AsyncSession, check: PrCheck, contributors: Mapping[str, bool]
) -> None:
    """Record the PR's contributors (identity key → blocks the PR), replacing the old list."""
    current = {
        b.identity_key: b
        for b in (
            await session.scalars(select(PrBlocker).where(PrBlocker.pr_check_id == check.id))
        ).all()
    }
    stale = [b.id for k, b in current.items() if k not in contributors]
    if stale:
        await session.execute(delete(PrBlocker).where(PrBlocker.id.in_(stale)))
    for key, blocking in contributors.items():
        row = current.get(key)
        if row is None:
            session.add(PrBlocker(pr_check_id=check.id, identity_key=key, blocking=blocking))
        elif row.blocking != blocking:
            row.blocking = blocking


async def checks_blocked_by(
    session: AsyncSession, keys: Sequence[str], *, community: str | None = None
) -> list[PrCheck]:
    """Open PRs that any of these identity keys blocks (for re-checks after signing); only
    ``community``'s when one is given (a signature counts in its own community only)."""
    if not keys:
        return []
    query = (
        select(PrCheck)
        .join(PrBlocker, PrBlocker.pr_check_id == PrCheck.id)
        .where(
            PrBlocker.identity_key.in_(keys),
            PrBlocker.blocking.is_(True),
            PrCheck.state == "open",
        )
    )
    if community is not None:
        query = query.where(PrCheck.community_id == community)
    return list((await session.scalars(query.distinct())).all())


async def checks_with_contributor(session: AsyncSession, keys: Sequence[str]) -> list[PrCheck]:
    """Open PRs these identities contributed to, blocking or not (re-checks after erasure)."""
    if not keys:
        return []
    return list(
        (
            await session.scalars(
                select(PrCheck)
                .join(PrBlocker, PrBlocker.pr_check_id == PrCheck.id)
                .where(PrBlocker.identity_key.in_(keys), PrCheck.state == "open")
                .distinct()
            )
        ).all()
    )


async def open_checks_at_sha(
    session: AsyncSession, *, platform: str, repo_full_name: str, head_sha: str
) -> list[PrCheck]:
    """The open PRs of a repository whose head the bot last saw at ``head_sha`` (a fork PR's
    check run names no PR: its head sha is what finds it again)."""
    return list(
        (
            await session.scalars(
                select(PrCheck)
                .where(
                    PrCheck.platform == platform,
                    func.lower(PrCheck.repo_full_name) == repo_full_name.lower(),
                    PrCheck.head_sha == head_sha,
                    PrCheck.state == "open",
                )
                .order_by(PrCheck.number)
            )
        ).all()
    )
