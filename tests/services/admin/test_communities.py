"""Managing communities and links through the admin service, on the real database: the rules
of app.yaml for ids, file-declared rows refused, deleting only without agreements, every change
audited, and a link re-checking the open PRs of the repositories it covers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.communities import DEFAULT_COMMUNITY
from bot.services.admin import Invalid, NotFound
from bot.services.admin import communities as svc
from bot.storage import communities as stored
from bot.storage.models import AgreementRow, AuditEvent, CommunityRow, Job, PrCheck

FORGES = ("github", "gitee")
WHO: dict[str, Any] = {"actor": "operator", "via": "cli", "request_id": "r1"}


async def _prs(s: AsyncSession, *names: str, state: str = "open") -> None:
    for n, name in enumerate(names, start=1):
        s.add(
            PrCheck(
                platform="github",
                repo_full_name=name,
                number=n,
                head_sha="a" * 40,
                installation_id=1,
                state=state,
            )
        )
    await s.flush()


async def _queued(s: AsyncSession) -> list[str]:
    return sorted(j.pr_key or "" for j in (await s.scalars(select(Job))).all())


async def _actions(s: AsyncSession) -> list[tuple[str, str, str]]:
    rows = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    return [(e.action, e.actor, e.via) for e in rows]


async def test_list_shows_file_communities_with_their_links_and_agreements(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await stored.sync_file_communities(
            s, [(DEFAULT_COMMUNITY, "Default", [("github", "Acme", None)])]
        )
        listed = await svc.list_communities(s)
    assert listed == [
        {
            "id": "default",
            "name": "Default",
            "source": "file",
            "links": [{"scope": "github:acme", "source": "file"}],
            "agreements": ["corporate", "individual"],
        }
    ]


async def test_create_rename_and_delete_a_console_community_are_audited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        made = await svc.create_community(s, community_id="mindspore", name=" MindSpore ", **WHO)
        assert made == {
            "id": "mindspore",
            "name": "MindSpore",
            "source": "console",
            "links": [],
            "agreements": [],
        }
        renamed = await svc.rename_community(s, "mindspore", name="MindSpore AI", **WHO)
        assert renamed["name"] == "MindSpore AI"
        await svc.rename_community(s, "mindspore", name="MindSpore AI", **WHO)  # no change
        assert await svc.delete_community(s, "mindspore", **WHO) == 0
        assert await s.get(CommunityRow, "mindspore") is None
        assert await _actions(s) == [
            ("community-create", "operator", "cli"),
            ("community-rename", "operator", "cli"),
            ("community-delete", "operator", "cli"),
        ]


@pytest.mark.parametrize(
    "bad", ["", "Upper", "-dash", "a" * 64, "has space", "login", "oauth", "logout", "ü"]
)
async def test_ids_follow_app_yaml_rules(
    sessions: async_sessionmaker[AsyncSession], bad: str
) -> None:
    async with sessions() as s, s.begin():
        with pytest.raises(Invalid):
            await svc.create_community(s, community_id=bad, name="X", **WHO)
        assert await s.get(CommunityRow, bad) is None


async def test_refusals_write_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        await stored.sync_file_communities(
            s, [(DEFAULT_COMMUNITY, "Default", [("github", "acme", None)])]
        )
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        before = await _actions(s)
        with pytest.raises(svc.Conflict, match="exists already"):
            await svc.create_community(s, community_id="lab", name="Again", **WHO)
        with pytest.raises(Invalid, match="name"):
            await svc.create_community(s, community_id="lab2", name="  ", **WHO)
        with pytest.raises(svc.Conflict, match=r"app\.yaml"):
            await svc.rename_community(s, DEFAULT_COMMUNITY, name="Other", **WHO)
        with pytest.raises(svc.Conflict, match=r"app\.yaml"):
            await svc.delete_community(s, DEFAULT_COMMUNITY, **WHO)
        with pytest.raises(svc.Conflict, match=r"app\.yaml"):
            await svc.remove_link(s, DEFAULT_COMMUNITY, "github:acme", forges=FORGES, **WHO)
        with pytest.raises(svc.Conflict, match="linked to"):
            await svc.add_link(s, "lab", "github:ACME", forges=FORGES, **WHO)
        with pytest.raises(NotFound):
            await svc.rename_community(s, "nope", name="X", **WHO)
        with pytest.raises(NotFound):
            await svc.remove_link(s, "lab", "github:other", forges=FORGES, **WHO)
        assert await _actions(s) == before
        assert (await s.get(CommunityRow, DEFAULT_COMMUNITY)).name == "Default"  # type: ignore[union-attr]
        assert [link.scope for link in await stored.list_links(s)] == ["github:acme"]


async def test_a_community_with_agreements_is_not_deleted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        s.add(AgreementRow(community_id="lab", id="individual", title="ICLA"))
        await s.flush()
        with pytest.raises(svc.Conflict, match="has agreements \\(individual\\)"):
            await svc.delete_community(s, "lab", **WHO)
        assert await s.get(CommunityRow, "lab") is not None


@pytest.mark.parametrize(
    ("scope", "why"),
    [
        ("acme", "names no forge"),
        ("bitbucket:acme", "unknown forge"),
        ("github:acme/w/x", "more than one"),
        ("github:a cme", "without spaces"),
        ("github:ac$me", "not a valid"),
        ("github:..", "not a valid"),
        (42, "must be a string"),
    ],
)
async def test_bad_scopes_are_refused(
    sessions: async_sessionmaker[AsyncSession], scope: Any, why: str
) -> None:
    async with sessions() as s, s.begin():
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        with pytest.raises(Invalid, match=why):
            await svc.add_link(s, "lab", scope, forges=FORGES, **WHO)
        assert await stored.list_links(s) == []


async def test_a_link_rechecks_the_open_prs_it_covers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        await _prs(s, "Acme/widgets", "acme/gadgets", "acme_x/other", "other/widgets")
        await _prs(s, "acme/closed", state="closed")
        view, queued = await svc.add_link(s, "lab", "github:Acme", forges=FORGES, **WHO)
        assert queued == 2
        assert view["links"] == [{"scope": "github:acme", "source": "console"}]
        assert await _queued(s) == ["github:acme/gadgets#2", "github:acme/widgets#1"]


async def test_an_owner_link_leaves_repositories_with_their_own_link(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        await svc.create_community(s, community_id="web", name="Web", **WHO)
        await _prs(s, "acme/widgets", "acme/gadgets")
        _, first = await svc.add_link(s, "web", "github:acme/widgets", forges=FORGES, **WHO)
        assert first == 1
        await s.execute(Job.__table__.delete())
        _, queued = await svc.add_link(s, "lab", "github:acme", forges=FORGES, **WHO)
        assert queued == 1
        assert await _queued(s) == ["github:acme/gadgets#2"]


async def test_unlink_and_delete_recheck_and_are_audited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        await _prs(s, "acme/widgets", "gitee-only/x")
        await svc.add_link(s, "lab", "github:acme/widgets", forges=FORGES, **WHO)
        await svc.add_link(s, "lab", "gitee:mind", forges=FORGES, **WHO)
        await s.execute(Job.__table__.delete())
        view, queued = await svc.remove_link(s, "lab", "github:ACME/Widgets", forges=FORGES, **WHO)
        assert queued == 1
        assert view["links"] == [{"scope": "gitee:mind", "source": "console"}]
        assert await svc.delete_community(s, "lab", **WHO) == 0
        assert await stored.list_links(s) == []
        events = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        assert [e.action for e in events] == [
            "community-create",
            "community-link",
            "community-link",
            "community-unlink",
            "community-delete",
        ]
        assert events[3].details == {
            "community": "lab",
            "scope": "github:acme/widgets",
            "rechecks": 1,
        }
        assert events[4].details == {"community": "lab", "links": ["gitee:mind"]}
        assert await s.scalar(select(func.count()).select_from(Job)) == 1


async def test_a_link_of_another_community_is_not_removed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await svc.create_community(s, community_id="lab", name="Lab", **WHO)
        await svc.create_community(s, community_id="web", name="Web", **WHO)
        await svc.add_link(s, "web", "github:acme", forges=FORGES, **WHO)
        with pytest.raises(NotFound, match="not linked to the community 'lab'"):
            await svc.remove_link(s, "lab", "github:acme", forges=FORGES, **WHO)
        assert [link.community for link in await stored.list_links(s)] == ["web"]
