"""Retention: data about people who never signed, and work already done, is not kept.

* When a PR closes, its contributor records go (they exist only to re-check open PRs).
* Contributor records of PRs not checked for ``pending_days`` go too (an abandoned PR).
* Finished jobs already hold no payload; their rows (kept to recognise redeliveries) go after
  ``jobs_days``. Dead jobs keep their payload for operators until then.
* Expired browser sessions and OAuth login attempts go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    CompanyInvitation,
    EmailProof,
    Job,
    JobStatus,
    OAuthState,
    PrBlocker,
    PrCheck,
    WebSession,
    utcnow,
)

EMAIL_CODES_KEPT = timedelta(hours=1)  # the sending limits' window (bot.services.email_proofs)


@dataclass(frozen=True, slots=True)
class Purged:
    contributor_records: int
    jobs: int
    sessions: int
    login_attempts: int
    email_codes: int = 0


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def close_pr(
    session: AsyncSession, *, platform: str, repo_full_name: str, number: int
) -> None:
    """The PR closed or merged: forget who contributed to it."""
    check = (
        await session.scalars(
            select(PrCheck).where(
                PrCheck.platform == platform,
                PrCheck.repo_full_name == repo_full_name,
                PrCheck.number == number,
            )
        )
    ).first()
    if check is not None:
        check.state = "closed"
        await session.execute(delete(PrBlocker).where(PrBlocker.pr_check_id == check.id))


async def purge(
    session: AsyncSession, *, pending_days: int, jobs_days: int, now: datetime | None = None
) -> Purged:
    now = now or utcnow()
    stale = select(PrCheck.id).where(
        (PrCheck.state != "open")
        | (PrCheck.checked_at < now - timedelta(days=pending_days))
        | (PrCheck.checked_at.is_(None) & (PrCheck.created_at < now - timedelta(days=pending_days)))
    )
    contributors = await session.execute(delete(PrBlocker).where(PrBlocker.pr_check_id.in_(stale)))
    jobs = await session.execute(
        delete(Job).where(
            Job.status.in_(
                [JobStatus.DONE, JobStatus.COALESCED, JobStatus.IGNORED, JobStatus.DEAD]
            ),
            Job.finished_at < now - timedelta(days=jobs_days),
        )
    )
    sessions = await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    attempts = await session.execute(delete(OAuthState).where(OAuthState.expires_at <= now))
    # A code is kept past its ten minutes only as long as the sending limits count it (an hour).
    codes = await session.execute(
        delete(EmailProof).where(EmailProof.created_at < now - EMAIL_CODES_KEPT)
    )
    # an invitation to manage a company that nobody accepted in time keeps no address
    await session.execute(
        update(CompanyInvitation)
        .where(CompanyInvitation.expires_at <= now, CompanyInvitation.email_ct.is_not(None))
        .values(email_ct=None, email_bidx=None)
    )
    return Purged(
        _count(contributors), _count(jobs), _count(sessions), _count(attempts), _count(codes)
    )
