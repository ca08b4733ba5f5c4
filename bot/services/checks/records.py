"""The bot's record of a PR (``PrCheck``) as a check reads and writes it: what the core is told
the PR shows (:func:`view`), and what is recorded once the forge writes are done
(:func:`save_check`, :func:`save_failure`, :func:`save_closed`)."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import decision
from bot.core.model import CommentRef, PullRequest, StatusState
from bot.services.jobs import now_utc
from bot.storage.models import PrCheck
from bot.storage.pr_checks import get_pr_check, replace_contributors


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def read(session: AsyncSession, pr: PullRequest) -> PrCheck | None:
    """The record of ``pr``, if the bot has one."""
    return await get_pr_check(
        session, platform=pr.repo.platform, repo_full_name=pr.repo.full_name, number=pr.number
    )


def view(
    pr: PullRequest, record: PrCheck | None, report: decision.Report | None
) -> decision.PrView:
    """The PR as the core decides on it: the forge's state, and what the record says the bot
    last wrote on it."""
    comment: CommentRef | None = None
    if record is not None and record.comment_id is not None:
        # Only a digest of the last body is stored; hand the core the new body when the
        # digests match (nothing to edit), else an empty one (edit).
        same = report is not None and record.comment_sha256 == sha256(report.body)
        comment = CommentRef(record.comment_id, report.body if same and report else "", "")
    last: decision.LastStatus | None = None
    if (
        record is not None
        and record.status_sha == pr.head_sha
        and record.status_state
        and record.status_description is not None
    ):
        last = decision.LastStatus(
            StatusState(record.status_state), record.status_description, record.status_sha
        )
    run: decision.LastCheckRun | None = None
    if (
        record is not None
        and record.check_run_id is not None
        and record.check_run_sha is not None
        and record.check_run_sha256 is not None
    ):
        run = decision.LastCheckRun(
            record.check_run_id, record.check_run_sha, record.check_run_sha256
        )
    return decision.PrView(
        state=pr.state,
        head_sha=pr.head_sha,
        labels=pr.labels,
        comment=comment,
        last_status=last,
        last_check_run=run,
    )


def current(record: PrCheck | None, pr: PullRequest) -> bool:
    """The record holds a finished check of the PR's head as it is now."""
    return (
        record is not None
        and pr.state == "open"
        and record.head_sha == pr.head_sha
        and record.checked_at is not None
        and record.outcome in (decision.Outcome.COVERED.value, decision.Outcome.BLOCKED.value)
    )


async def _written(
    session: AsyncSession,
    pr: PullRequest,
    plan: decision.Plan,
    comment_id: int | None,
    run_id: int | None,
    community: str | None,
) -> PrCheck:
    """The record of ``pr`` (created when there is none: a record without a check time, so
    that sweeps see it) with what ``plan`` wrote: state, outcome, status, comment, check run.
    Read again in the writing transaction: the PR may have been recorded closed meanwhile."""
    record = await read(session, pr)
    if record is None:
        record = PrCheck(
            platform=pr.repo.platform,
            repo_full_name=pr.repo.full_name,
            number=pr.number,
            head_sha=pr.head_sha,
        )
        session.add(record)
    record.repo_id = pr.repo.repo_id or record.repo_id
    record.installation_id = pr.installation_id or record.installation_id
    record.state = pr.state
    record.community_id = community
    record.outcome = plan.outcome.value
    if plan.status is not None:
        record.status_state = plan.status.state.value
        record.status_description = plan.status.description
        record.status_sha = plan.status.sha
    if comment_id is not None:
        record.comment_id = comment_id
        if plan.comment is not None:
            record.comment_sha256 = sha256(plan.comment.body)
    if plan.check_run is not None and run_id is not None:
        record.check_run_id = run_id
        record.check_run_sha = plan.check_run.sha
        record.check_run_conclusion = plan.check_run.conclusion.value
        record.check_run_sha256 = plan.check_run.digest
    return record


async def save_check(
    session: AsyncSession,
    pr: PullRequest,
    plan: decision.Plan,
    comment_id: int | None,
    contributors: dict[str, bool],
    run_id: int | None = None,
    *,
    community: str | None,
) -> None:
    """A finished check in ``community``: its head, its time and who blocks the PR (identity
    key → blocks)."""
    record = await _written(session, pr, plan, comment_id, run_id, community)
    record.head_sha = pr.head_sha
    record.checked_at = now_utc()
    await session.flush()
    await replace_contributors(session, record, contributors)


async def save_failure(
    session: AsyncSession,
    pr: PullRequest,
    plan: decision.Plan,
    comment_id: int | None,
    run_id: int | None = None,
    *,
    community: str | None,
) -> None:
    """A check that could not run (in ``community``; ``None``: none covers the repository):
    the record keeps who blocked the PR before, and its last check time, so that signing and
    the sweep still re-check it."""
    await _written(session, pr, plan, comment_id, run_id, community)


async def save_closed(session: AsyncSession, pr: PullRequest) -> None:
    """A PR the forge reports closed or merged: its state, and nobody blocks it any more."""
    record = await read(session, pr)
    if record is not None:
        record.state = pr.state
        await replace_contributors(session, record, {})
