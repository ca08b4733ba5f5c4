"""A PR's record and its blockers: replaced exactly, found again by the keys that block it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import PrBlocker, PrCheck
from bot.storage.pr_checks import (
    checks_blocked_by,
    checks_with_contributor,
    get_pr_check,
    replace_contributors,
)


async def add_check(s: AsyncSession, number: int, *, state: str = "open") -> PrCheck:
    check = PrCheck(
        platform="github", repo_full_name="acme/widgets", number=number, head_sha="a", state=state
    )
    s.add(check)
    await s.flush()
    return check


async def blockers(s: AsyncSession) -> list[tuple[int, str, bool]]:
    rows = (await s.scalars(select(PrBlocker).order_by(PrBlocker.pr_check_id, PrBlocker.id))).all()
    return [(b.pr_check_id, b.identity_key, b.blocking) for b in rows]


async def test_get_pr_check_finds_exactly_that_pr(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        check = await add_check(s, 7)
    async with sessions() as s:
        found = await get_pr_check(s, platform="github", repo_full_name="acme/widgets", number=7)
        assert found is not None and found.id == check.id
        for platform, repo, number in (
            ("gitee", "acme/widgets", 7),
            ("github", "acme/gadgets", 7),
            ("github", "acme/widgets", 8),
        ):
            assert (
                await get_pr_check(s, platform=platform, repo_full_name=repo, number=number) is None
            )


async def test_replace_contributors_adds_updates_and_drops_exactly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        check = await add_check(s, 1)
        other = await add_check(s, 2)
        await replace_contributors(s, other, {"github:9": True})
        await replace_contributors(s, check, {"github:1": True, "github:2": True, "email:x": False})
        await s.flush()
        assert await blockers(s) == [
            (check.id, "github:1", True),
            (check.id, "github:2", True),
            (check.id, "email:x", False),
            (other.id, "github:9", True),
        ]
        await replace_contributors(
            s, check, {"github:1": False, "email:x": False, "github:3": True}
        )
        await s.flush()
        assert await blockers(s) == [
            (check.id, "github:1", False),
            (check.id, "email:x", False),
            (check.id, "github:3", True),
            (other.id, "github:9", True),
        ]


async def test_open_prs_are_found_by_who_blocks_them_or_contributed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        blocked = await add_check(s, 1)
        contributed = await add_check(s, 2)
        closed = await add_check(s, 3, state="closed")
        await replace_contributors(s, blocked, {"github:1": True, "email:e": True})
        await replace_contributors(s, contributed, {"github:1": False})
        await replace_contributors(s, closed, {"github:1": True})
    async with sessions() as s:
        by_block = await checks_blocked_by(s, ["github:1", "email:e"])
        by_contribution = await checks_with_contributor(s, ["github:1", "email:e"])
        assert [c.number for c in by_block] == [1]
        assert sorted(c.number for c in by_contribution) == [1, 2]
        assert await checks_blocked_by(s, ["github:2"]) == []
        assert await checks_blocked_by(s, []) == []
        assert await checks_with_contributor(s, []) == []
