"""The forge installations the bot was told of and the repositories each covers: kept from
installation webhooks and reconciliation, read to reach a repository or ask the forge about
users. Every function takes a session and never commits: the caller owns the unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Installation, PrCheck, Repository, utcnow


async def lookup_installation(session: AsyncSession, platform: str) -> int | None:
    """An installation whose token may ask the forge about users: the newest live one the bot
    was told of, else the one of the most recently checked PR (``None`` when there is none)."""
    installation = await session.scalar(
        select(Installation.installation_id)
        .where(
            Installation.platform == platform,
            Installation.deleted_at.is_(None),
            Installation.suspended_at.is_(None),
        )
        .order_by(Installation.updated_at.desc(), Installation.id.desc())
        .limit(1)
    )
    if installation is not None:
        return int(installation)
    recent = await session.scalar(
        select(PrCheck.installation_id)
        .where(PrCheck.platform == platform, PrCheck.installation_id.is_not(None))
        .order_by(PrCheck.updated_at.desc(), PrCheck.id.desc())
        .limit(1)
    )
    return int(recent) if recent is not None else None


async def installation_for_owner(session: AsyncSession, platform: str, owner: str) -> int | None:
    """The live installation on ``platform``'s account ``owner`` (a user or an organisation,
    compared without case): the only one whose token the forge answers questions about that
    owner's members and repositories to. The newest when the bot was told of several; ``None``
    when it has none there, or only deleted or suspended ones."""
    installation = await session.scalar(
        select(Installation.installation_id)
        .where(
            Installation.platform == platform,
            func.lower(Installation.account_login) == owner.lower(),
            Installation.deleted_at.is_(None),
            Installation.suspended_at.is_(None),
        )
        .order_by(Installation.updated_at.desc(), Installation.id.desc())
        .limit(1)
    )
    return int(installation) if installation is not None else None


async def upsert_installation(
    session: AsyncSession, *, platform: str, installation_id: int, account_login: str
) -> Installation:
    row = (
        await session.scalars(
            select(Installation).where(
                Installation.platform == platform, Installation.installation_id == installation_id
            )
        )
    ).first()
    if row is None:
        row = Installation(
            platform=platform, installation_id=installation_id, account_login=account_login
        )
        session.add(row)
    else:
        row.account_login = account_login
        row.deleted_at = None
    await session.flush()
    return row


async def set_installation_state(
    session: AsyncSession,
    *,
    platform: str,
    installation_id: int,
    deleted: bool | None = None,
    suspended: bool | None = None,
) -> None:
    values: dict[str, datetime | None] = {}
    now = utcnow()
    if deleted is not None:
        values["deleted_at"] = now if deleted else None
    if suspended is not None:
        values["suspended_at"] = now if suspended else None
    await session.execute(
        update(Installation)
        .where(Installation.platform == platform, Installation.installation_id == installation_id)
        .values(**values)
    )


async def upsert_repository(
    session: AsyncSession,
    *,
    platform: str,
    full_name: str,
    forge_repo_id: int | None,
    installation_id: int | None,
) -> None:
    row = (
        await session.scalars(
            select(Repository).where(
                Repository.platform == platform, Repository.full_name == full_name
            )
        )
    ).first()
    if row is None:
        session.add(
            Repository(
                platform=platform,
                full_name=full_name,
                forge_repo_id=forge_repo_id,
                installation_id=installation_id,
            )
        )
    else:
        row.forge_repo_id = forge_repo_id or row.forge_repo_id
        row.installation_id = installation_id
        row.removed_at = None
    await session.flush()


async def remove_repository(session: AsyncSession, *, platform: str, full_name: str) -> None:
    await session.execute(
        update(Repository)
        .where(Repository.platform == platform, Repository.full_name == full_name)
        .values(removed_at=utcnow())
    )


async def installation_paused_until(
    session: AsyncSession, *, platform: str, installation_id: int
) -> datetime | None:
    row = (
        await session.scalars(
            select(Installation.paused_until).where(
                Installation.platform == platform, Installation.installation_id == installation_id
            )
        )
    ).first()
    return row
