"""Re-check every open PR a signer was blocking, on any repository and installation.

The check records which identities block which PR (account ids, email blind indexes); a new
signature looks those up — no search API sweep, no comment needed from the contributor.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Platform, RepoRef
from bot.platforms.routing import pr_key
from bot.services.jobs import NewJob, enqueue
from bot.services.requests import CheckRequest
from bot.storage.models import JobKind, PrCheck
from bot.storage.pr_checks import checks_blocked_by
from bot.storage.signatures import signer_identity_keys


async def enqueue_rechecks(
    session: AsyncSession, signer_ids: Iterable[int], *, community: str | None
) -> int:
    """Queue a check of each open PR blocked by these signers — in ``community`` only, where
    they signed (``None``: in every community, for what can unblock them anywhere, such as a
    newly proven address); returns how many were queued."""
    keys: list[str] = []
    for signer_id in set(signer_ids):
        keys.extend(await signer_identity_keys(session, signer_id))
    blocked = await checks_blocked_by(session, keys, community=community)
    return await enqueue_checks(session, blocked, "signature")


async def enqueue_checks(session: AsyncSession, checks: Iterable[PrCheck], trigger: str) -> int:
    """Queue a check of each of these PRs (they coalesce with any check already queued)."""
    queued = 0
    for check in checks:
        owner, _, name = check.repo_full_name.partition("/")
        await enqueue_pr(
            session,
            platform=check.platform,
            owner=owner,
            name=name,
            number=check.number,
            repo_id=check.repo_id,
            installation_id=check.installation_id,
            trigger=trigger,
        )
        queued += 1
    return queued


async def enqueue_pr(
    session: AsyncSession,
    *,
    platform: str,
    owner: str,
    name: str,
    number: int,
    repo_id: int | None,
    installation_id: int | None,
    trigger: str,
) -> None:
    await enqueue(
        session,
        NewJob(
            platform=platform,
            delivery_key=f"recheck:{uuid.uuid4().hex}",
            event="recheck",
            action=trigger,
            kind=JobKind.CHECK,
            payload=CheckRequest(
                RepoRef(Platform(platform), owner, name, repo_id), number, trigger
            ).to_json(),
            pr_key=pr_key(platform, owner, name, number),
            installation_id=installation_id,
        ),
    )
