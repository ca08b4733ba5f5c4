"""Installations and their repositories: one row each, updated in place, found again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.installations import (
    installation_for_owner,
    installation_paused_until,
    lookup_installation,
    remove_repository,
    set_installation_state,
    upsert_installation,
    upsert_repository,
)
from bot.storage.models import Installation, PrCheck, Repository

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


async def installations(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[str, int, str, bool, bool]]:
    async with sessions() as s:
        rows = (await s.scalars(select(Installation).order_by(Installation.id))).all()
        return [
            (
                r.platform,
                r.installation_id,
                r.account_login,
                r.deleted_at is not None,
                r.suspended_at is not None,
            )
            for r in rows
        ]


async def repositories(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str, int | None, int | None, bool]]:
    async with sessions() as s:
        rows = (await s.scalars(select(Repository).order_by(Repository.id))).all()
        return [
            (r.platform, r.full_name, r.forge_repo_id, r.installation_id, r.removed_at is not None)
            for r in rows
        ]


async def test_an_installation_is_one_row_updated_in_place(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await upsert_installation(s, platform="github", installation_id=5, account_login="acme")
        await upsert_installation(s, platform="gitee", installation_id=5, account_login="acme")
        await set_installation_state(s, platform="github", installation_id=5, deleted=True)
        await set_installation_state(s, platform="gitee", installation_id=5, suspended=True)
    assert await installations(sessions) == [
        ("github", 5, "acme", True, False),
        ("gitee", 5, "acme", False, True),
    ]
    async with sessions() as s, s.begin():
        # A new installation event undoes a deletion and takes the renamed account.
        await upsert_installation(s, platform="github", installation_id=5, account_login="acme2")
        await set_installation_state(s, platform="gitee", installation_id=5, suspended=False)
    assert await installations(sessions) == [
        ("github", 5, "acme2", False, False),
        ("gitee", 5, "acme", False, False),
    ]


async def test_a_repository_is_one_row_removed_and_added_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await upsert_repository(
            s, platform="github", full_name="acme/widgets", forge_repo_id=77, installation_id=5
        )
        await remove_repository(s, platform="github", full_name="acme/widgets")
    assert await repositories(sessions) == [("github", "acme/widgets", 77, 5, True)]
    async with sessions() as s, s.begin():
        # An event without the repository id keeps the one on record.
        await upsert_repository(
            s, platform="github", full_name="acme/widgets", forge_repo_id=None, installation_id=6
        )
    assert await repositories(sessions) == [("github", "acme/widgets", 77, 6, False)]


async def test_lookup_takes_the_newest_live_installation_else_the_latest_checked_pr(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        assert await lookup_installation(s, "github") is None
    async with sessions() as s, s.begin():
        s.add_all(
            [
                PrCheck(
                    platform="github",
                    repo_full_name="a/b",
                    number=1,
                    head_sha="a",
                    installation_id=3,
                    updated_at=T0,
                ),
                PrCheck(
                    platform="github",
                    repo_full_name="a/b",
                    number=2,
                    head_sha="a",
                    installation_id=4,
                    updated_at=T0 + timedelta(hours=1),
                ),
            ]
        )
    async with sessions() as s:
        assert await lookup_installation(s, "github") == 4
    async with sessions() as s, s.begin():
        s.add_all(
            [
                Installation(
                    platform="github", installation_id=10, account_login="a", updated_at=T0
                ),
                Installation(
                    platform="github",
                    installation_id=11,
                    account_login="b",
                    updated_at=T0 + timedelta(hours=1),
                ),
                Installation(
                    platform="github",
                    installation_id=12,
                    account_login="c",
                    updated_at=T0 + timedelta(hours=2),
                    suspended_at=T0,
                ),
                Installation(
                    platform="github",
                    installation_id=13,
                    account_login="d",
                    updated_at=T0 + timedelta(hours=3),
                    deleted_at=T0,
                ),
            ]
        )
    async with sessions() as s:
        assert await lookup_installation(s, "github") == 11
        assert await lookup_installation(s, "gitee") is None


async def test_paused_until(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        row = await upsert_installation(s, platform="github", installation_id=5, account_login="a")
        assert await installation_paused_until(s, platform="github", installation_id=5) is None
        row.paused_until = T0
        await s.flush()
    async with sessions() as s:
        paused = await installation_paused_until(s, platform="github", installation_id=5)
        assert paused is not None and paused.replace(tzinfo=UTC) == T0
        assert await installation_paused_until(s, platform="github", installation_id=6) is None


async def test_the_installation_on_an_owner_is_its_newest_live_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await upsert_installation(s, platform="github", installation_id=1, account_login="Acme")
        await upsert_installation(s, platform="github", installation_id=2, account_login="other")
        await upsert_installation(s, platform="gitee", installation_id=3, account_login="acme")
    async with sessions() as s:
        # Only that owner's, on that platform, compared without case.
        assert await installation_for_owner(s, "github", "ACME") == 1
        assert await installation_for_owner(s, "github", "other") == 2
        assert await installation_for_owner(s, "gitee", "acme") == 3
        assert await installation_for_owner(s, "github", "nobody") is None
    async with sessions() as s, s.begin():
        # A reinstallation on the same account is newer; the older one no longer answers.
        await upsert_installation(s, platform="github", installation_id=4, account_login="acme")
        await s.execute(
            update(Installation)
            .where(Installation.installation_id == 1)
            .values(updated_at=T0 - timedelta(days=1))
        )
    async with sessions() as s:
        assert await installation_for_owner(s, "github", "acme") == 4
    async with sessions() as s, s.begin():
        await set_installation_state(s, platform="github", installation_id=4, suspended=True)
    async with sessions() as s:
        assert await installation_for_owner(s, "github", "acme") == 1
    async with sessions() as s, s.begin():
        await set_installation_state(s, platform="github", installation_id=1, deleted=True)
    async with sessions() as s:
        # Deleted or suspended: the bot cannot ask there (no fallback to another owner's).
        assert await installation_for_owner(s, "github", "acme") is None
