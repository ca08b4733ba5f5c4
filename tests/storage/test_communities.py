"""Communities and links as stored: app.yaml's synced (idempotently, its own rows only), the
console's kept through every file sync, a scope bound to two communities refused naming both,
and the default community always there."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.communities import DEFAULT_COMMUNITY, LinkTable
from bot.storage.communities import (
    CommunityExists,
    FileLink,
    FileSync,
    LinkConflict,
    StoredLink,
    UnknownCommunity,
    add_community,
    add_link,
    get_community,
    list_communities,
    list_links,
    remove_link,
    require_community,
    sync_file_communities,
)
from bot.storage.models import CommunityLink, CommunityRow, CommunitySource

FILE, CONSOLE = CommunitySource.FILE, CommunitySource.CONSOLE

MINDSPORE = ("mindspore", "MindSpore", [("gitee", "MindSpore", None), ("github", "Acme", "Lib")])
LOOKENG = ("openlookeng", "openLooKeng", [("gitee", "openlookeng", None)])


@pytest.fixture(autouse=True)
async def _default_stored(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The migration stores the default community; the PostgreSQL tests empty every table
    before each test, and so start where an emptied database does."""
    async with sessions() as s, s.begin():
        await require_community(s, DEFAULT_COMMUNITY)


async def communities(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    async with sessions() as s:
        return [(r.id, r.name, r.source) for r in await list_communities(s)]


async def links(sessions: async_sessionmaker[AsyncSession]) -> list[StoredLink]:
    async with sessions() as s:
        return await list_links(s)


def link(
    community: str, platform: str, owner: str, repo: str | None, source: CommunitySource = FILE
) -> StoredLink:
    return StoredLink(community, platform, owner, repo, source)


async def test_a_file_sync_stores_the_files_communities_and_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        first = await sync_file_communities(s, [MINDSPORE, LOOKENG])
    assert first == FileSync(
        added=["mindspore", "openlookeng"],
        links_added=["gitee:mindspore", "github:acme/lib", "gitee:openlookeng"],
        undeclared=[DEFAULT_COMMUNITY],  # the file declares communities, not this one
    )
    expected_communities = [
        (DEFAULT_COMMUNITY, "Default", FILE),
        ("mindspore", "MindSpore", FILE),
        ("openlookeng", "openLooKeng", FILE),
    ]
    expected_links = [
        link("mindspore", "gitee", "mindspore", None),
        link("openlookeng", "gitee", "openlookeng", None),
        link("mindspore", "github", "acme", "lib"),
    ]
    assert await communities(sessions) == expected_communities
    assert await links(sessions) == expected_links
    async with sessions() as s:
        rows = (await s.scalars(select(CommunityLink).order_by(CommunityLink.id))).all()
        assert [(r.owner, r.repo) for r in rows] == [
            ("mindspore", ""),
            ("acme", "lib"),
            ("openlookeng", ""),
        ]
        ids = [r.id for r in rows]

    async with sessions() as s, s.begin():
        again = await sync_file_communities(s, [MINDSPORE, LOOKENG])
    assert again == FileSync(undeclared=[DEFAULT_COMMUNITY])
    assert await communities(sessions) == expected_communities
    assert await links(sessions) == expected_links
    async with sessions() as s:  # the same rows, not new ones
        assert [
            r.id for r in (await s.scalars(select(CommunityLink).order_by(CommunityLink.id)))
        ] == ids


async def test_a_file_sync_renames_moves_and_removes_only_its_own_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await sync_file_communities(s, [MINDSPORE, LOOKENG])
        await add_community(s, "tidb", "TiDB")
        await add_link(s, "tidb", "github", "PingCAP", None)
        await add_link(s, "mindspore", "gitee", "mindspore", "docs")
    async with sessions() as s, s.begin():
        changed = await sync_file_communities(
            s,
            [
                ("mindspore", "MindSpore AI", [("gitee", "mindspore", None)]),
                ("openeuler", "openEuler", [("github", "acme", "lib")]),
            ],
        )
    assert changed == FileSync(
        added=["openeuler"],
        renamed=["mindspore"],
        links_moved=["github:acme/lib"],
        links_removed=["gitee:openlookeng"],
        undeclared=[DEFAULT_COMMUNITY, "openlookeng"],
    )
    assert await communities(sessions) == [
        (DEFAULT_COMMUNITY, "Default", FILE),
        ("mindspore", "MindSpore AI", FILE),
        ("openeuler", "openEuler", FILE),
        ("openlookeng", "openLooKeng", FILE),  # kept (its agreements would be), without links
        ("tidb", "TiDB", CONSOLE),
    ]
    assert await links(sessions) == [
        link("mindspore", "gitee", "mindspore", None),
        link("mindspore", "gitee", "mindspore", "docs", CONSOLE),
        link("openeuler", "github", "acme", "lib"),
        link("tidb", "github", "pingcap", None, CONSOLE),
    ]
    async with sessions() as s, s.begin():  # an empty file: only the console's links remain
        await sync_file_communities(s, [])
    assert await links(sessions) == [
        link("mindspore", "gitee", "mindspore", "docs", CONSOLE),
        link("tidb", "github", "pingcap", None, CONSOLE),
    ]


async def test_a_file_link_the_console_gave_another_community_is_refused_naming_both(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await add_community(s, "tidb", "TiDB")
        await add_link(s, "tidb", "gitee", "MindSpore", None)
    with pytest.raises(LinkConflict) as caught:
        async with sessions() as s, s.begin():
            await sync_file_communities(s, [MINDSPORE])
    assert str(caught.value) == (
        "gitee:mindspore is linked to community 'mindspore' (in app.yaml) and to community "
        "'tidb' (in the console); remove one of them"
    )
    assert (caught.value.first, caught.value.second) == (
        "community 'mindspore' (in app.yaml)",
        "community 'tidb' (in the console)",
    )
    # Nothing of the refused sync was written.
    assert await communities(sessions) == [
        (DEFAULT_COMMUNITY, "Default", FILE),
        ("tidb", "TiDB", CONSOLE),
    ]
    assert await links(sessions) == [link("tidb", "gitee", "mindspore", None, CONSOLE)]


async def test_a_file_link_the_console_gave_the_same_community_stands_as_the_console_made_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await sync_file_communities(s, [("mindspore", "MindSpore", [])])
        await add_link(s, "mindspore", "gitee", "mindspore", None)
    async with sessions() as s, s.begin():
        result = await sync_file_communities(s, [MINDSPORE])
    assert result.links_added == ["github:acme/lib"]
    assert await links(sessions) == [
        link("mindspore", "gitee", "mindspore", None, CONSOLE),
        link("mindspore", "github", "acme", "lib"),
    ]


async def test_a_scope_in_two_file_communities_and_a_console_communitys_id_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(LinkConflict, match="gitee:mindspore is linked to community 'mindspore'"):
        async with sessions() as s, s.begin():
            await sync_file_communities(
                s, [MINDSPORE, ("other", "Other", [("gitee", "mindspore", "")])]
            )
    async with sessions() as s, s.begin():
        await add_community(s, "tidb", "TiDB")
    with pytest.raises(CommunityExists, match=r"'tidb' exists already \(made in the console\)"):
        async with sessions() as s, s.begin():
            await sync_file_communities(s, [("tidb", "TiDB", [])])
    assert await communities(sessions) == [
        (DEFAULT_COMMUNITY, "Default", FILE),
        ("tidb", "TiDB", CONSOLE),
    ]
    assert await links(sessions) == []


async def test_the_console_adds_and_removes_its_links_and_not_the_files(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await sync_file_communities(s, [MINDSPORE])
        added = await add_link(s, "mindspore", "github", "Acme", "Widgets")
    assert added == link("mindspore", "github", "acme", "widgets", CONSOLE)
    assert added.scope == "github:acme/widgets"
    table = LinkTable([stored.link() for stored in await links(sessions)], None)
    assert table.resolve("github", "ACME/Widgets") == "mindspore"
    assert table.resolve("github", "acme/other") is None
    assert table.resolve("gitee", "MindSpore/docs") == "mindspore"

    async with sessions() as s:
        with pytest.raises(LinkConflict, match=r"'mindspore' \(in app.yaml\)"):
            await add_link(s, DEFAULT_COMMUNITY, "github", "ACME", "lib")
        with pytest.raises(LinkConflict, match=r"'mindspore' \(in the console\)"):
            await add_link(s, "mindspore", "github", "acme", "widgets")
        with pytest.raises(UnknownCommunity, match="no community 'nope'"):
            await add_link(s, "nope", "github", "someone", None)
        with pytest.raises(
            FileLink, match=r"gitee:mindspore .* by app\.yaml; remove the link there"
        ):
            await remove_link(s, "gitee", "mindspore")
        with pytest.raises(ValueError, match="not a link scope"):
            await add_link(s, "mindspore", "github", "acme/widgets", None)
        with pytest.raises(ValueError, match="not a link scope"):
            await add_link(s, "mindspore", "github", " ", None)

    async with sessions() as s, s.begin():
        removed = await remove_link(s, "github", "ACME", "widgets")
        missing = await remove_link(s, "github", "acme", "widgets")
    assert removed == added
    assert missing is None
    assert await links(sessions) == [
        link("mindspore", "gitee", "mindspore", None),
        link("mindspore", "github", "acme", "lib"),
    ]
    async with sessions() as s:
        assert await list_links(s, community=DEFAULT_COMMUNITY) == []
        assert len(await list_links(s, community="mindspore")) == 2


async def test_removing_a_community_removes_its_links(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await add_community(s, "tidb", "TiDB")
        await add_link(s, "tidb", "github", "pingcap", None)
        with pytest.raises(CommunityExists, match="made in the console"):
            await add_community(s, "tidb", "Again")
    async with sessions() as s, s.begin():
        row = await get_community(s, "tidb")
        assert row is not None
        await s.delete(row)
    assert await links(sessions) == []


async def test_the_default_community_is_always_there_and_no_other_is_made_up(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        row = await get_community(s, DEFAULT_COMMUNITY)
        assert row is not None and (row.name, row.source) == ("Default", FILE)
        await s.delete(row)  # an emptied database
    async with sessions() as s, s.begin():
        again = await require_community(s, DEFAULT_COMMUNITY)
        assert (again.id, again.name, again.source) == (DEFAULT_COMMUNITY, "Default", FILE)
        with pytest.raises(UnknownCommunity):
            await require_community(s, "mindspore")
    async with sessions() as s:
        assert [r.id for r in (await s.scalars(select(CommunityRow)))] == [DEFAULT_COMMUNITY]
