"""What a routed delivery becomes in the database: jobs, or bookkeeping done at once.

The webhook handler verifies and routes a delivery (``bot.platforms.<forge>.routing``) and
hands the result here. A check or a comment's commands become queued jobs (:func:`new_jobs`,
stored through the queue's inbox for group commit); a closed PR and an installation change
are done in the delivery's own transaction and recorded as finished jobs, so that a
redelivery is recognised as a duplicate. Nothing here answers HTTP.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.model import Platform
from bot.platforms.routing import (
    CheckJob,
    CommentJobs,
    InstallationChange,
    MergeGroupJob,
    PrClosed,
    RecheckJobs,
)
from bot.services import retention
from bot.services.jobs import NewJob, enqueue
from bot.services.requests import CheckRequest, CommandRequest, MergeGroupRequest
from bot.storage.installations import (
    remove_repository,
    set_installation_state,
    upsert_installation,
    upsert_repository,
)
from bot.storage.models import JobKind, JobStatus
from bot.storage.pr_checks import open_checks_at_sha


def new_jobs(
    platform: str,
    delivery: str,
    event: str,
    action: str | None,
    decision: CheckJob | CommentJobs,
) -> list[NewJob]:
    """The jobs of one delivery, their payloads typed requests (:mod:`bot.services.requests`:
    a PR snapshot is stored as a core ``PullRequest``). Commands are keyed by comment id: acted
    on once however often delivered."""
    check = decision if isinstance(decision, CheckJob) else decision.check
    command = decision.command if isinstance(decision, CommentJobs) else None
    jobs: list[NewJob] = []
    if check is not None:
        jobs.append(
            NewJob(
                platform=platform,
                delivery_key=delivery,
                event=event,
                action=action,
                kind=JobKind.CHECK,
                payload=CheckRequest(
                    check.repo, check.number, check.trigger, check.comment_id, check.pull
                ).to_json(),
                pr_key=check.pr_key,
                installation_id=check.installation_id,
            )
        )
    if command is not None:
        jobs.append(
            NewJob(
                platform=platform,
                delivery_key=command.comment_key,
                event=event,
                action=action,
                kind=JobKind.COMMAND,
                payload=CommandRequest(
                    repo=command.repo,
                    number=command.number,
                    comment_id=command.comment_id,
                    author_login=command.author_login,
                    author_id=command.author_id,
                    commands=command.commands,
                ).to_json(),
                pr_key=command.pr_key,
                installation_id=command.installation_id,
            )
        )
    return jobs


def merge_group_job(
    platform: Platform, delivery: str, event: str, action: str | None, group: MergeGroupJob
) -> NewJob:
    """A merge queue entry's job, keyed by its PR (so it never runs beside that PR's check)."""
    return NewJob(
        platform=platform,
        delivery_key=delivery,
        event=event,
        action=action,
        kind=JobKind.MERGE_GROUP,
        payload=MergeGroupRequest(group.repo, group.head_sha, group.number).to_json(),
        pr_key=group.pr_key,
        installation_id=group.installation_id,
    )


async def recheck_jobs(
    sessions: async_sessionmaker[AsyncSession],
    delivery: str,
    event: str,
    action: str | None,
    recheck: RecheckJobs,
) -> list[NewJob]:
    """The check jobs of a Re-run or Re-check: for the PRs the forge named, else for the open
    PRs whose head the bot last saw at the run's commit (fork PRs' runs name none). Each is
    keyed by the delivery and its PR: a redelivery stores nothing."""
    numbers: tuple[int, ...] | None = None
    if not recheck.numbers:
        async with sessions() as session:
            records = await open_checks_at_sha(
                session,
                platform=recheck.repo.platform,
                repo_full_name=recheck.repo.full_name,
                head_sha=recheck.head_sha,
            )
        numbers = tuple(r.number for r in records)
    jobs = []
    for check in recheck.jobs(numbers):
        jobs += new_jobs(recheck.repo.platform, f"{delivery}:{check.number}", event, action, check)
    return jobs


async def store_bookkeeping(
    sessions: async_sessionmaker[AsyncSession],
    *,
    platform: Platform,
    delivery: str,
    event: str,
    action: str | None,
    decision: PrClosed | InstallationChange,
) -> bool:
    """Do a closed PR's or an installation change's bookkeeping in one transaction; False when
    the delivery was seen before (nothing is done again)."""
    async with sessions() as session, session.begin():
        if isinstance(decision, PrClosed):
            return await apply_pr_closed(session, delivery, event, action, decision)
        stored = await enqueue(
            session,
            NewJob(
                platform=platform,
                delivery_key=delivery,
                event=event,
                action=action,
                kind=JobKind.INSTALLATION,
                payload={
                    "installation_id": decision.installation_id,
                    "action": decision.action,
                },
                installation_id=decision.installation_id,
            ),
            status=JobStatus.DONE,
        )
        if stored:
            await apply_installation_change(session, platform, decision)
        return stored


async def apply_pr_closed(
    session: AsyncSession, delivery: str, event: str, action: str | None, closed: PrClosed
) -> bool:
    """Recorded as a finished job (for dedupe); the PR's contributor records are dropped."""
    stored = await enqueue(
        session,
        NewJob(
            platform=closed.platform,
            delivery_key=delivery,
            event=event,
            action=action,
            kind=JobKind.BOOKKEEPING,
            payload={},
        ),
        status=JobStatus.DONE,
    )
    if stored:
        await retention.close_pr(
            session,
            platform=closed.platform,
            repo_full_name=closed.repo_full_name,
            number=closed.number,
        )
    return stored


async def apply_installation_change(
    session: AsyncSession, platform: Platform, change: InstallationChange
) -> None:
    """The installation and its repositories as the forge now says they are."""
    if change.action == "deleted":
        await set_installation_state(
            session, platform=platform, installation_id=change.installation_id, deleted=True
        )
        return
    await upsert_installation(
        session,
        platform=platform,
        installation_id=change.installation_id,
        account_login=change.account_login,
    )
    if change.action == "suspend":
        await set_installation_state(
            session, platform=platform, installation_id=change.installation_id, suspended=True
        )
    elif change.action == "unsuspend":
        await set_installation_state(
            session, platform=platform, installation_id=change.installation_id, suspended=False
        )
    for full_name, repo_id in change.repos_added:
        await upsert_repository(
            session,
            platform=platform,
            full_name=full_name,
            forge_repo_id=repo_id,
            installation_id=change.installation_id,
        )
    for full_name in change.repos_removed:
        await remove_repository(session, platform=platform, full_name=full_name)
