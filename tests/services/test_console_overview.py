"""The console's use cases on the real database: which communities a signed-in person
administers (named, or an admin of a linked owner or repository by the forge's word), each
community's overview (links, agreements with their signatures, PRs blocked now on its own
repositories only) and a search of its signatures by login with masked emails."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.communities import Communities, load_communities
from bot.core.model import Platform, RepoRef
from bot.platforms import registry
from bot.platforms.base import ForgeClient
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge import FakeForgeClient
from bot.services import signing
from bot.services.console import (
    FROM_CONSOLE,
    FROM_FILE,
    Administrators,
    BlockedPr,
    CommunityItem,
    Console,
    LinkView,
    Person,
    VersionView,
)
from bot.storage.agreements import sync_agreements
from bot.storage.communities import add_link, sync_file_communities
from bot.storage.crypto import FieldCipher
from bot.storage.models import PrBlocker, PrCheck, Signature

ROOT = Path(__file__).resolve().parents[2]
GH, GE = GITHUB, GITEE

APP_YAML = {
    "cla": {
        "required_agreement": "individual",
        "agreements": [
            {
                "id": "individual",
                "title": "Individual CLA",
                "versions": [
                    {"version": "1.0", "text": "agreements/individual-1.0.md"},
                    {
                        "version": "2.0",
                        "text": "agreements/corporate-1.0.md",
                        "compatibility": "re-sign",
                    },
                ],
            }
        ],
    },
    "default_community": "acme",
    "communities": [
        {
            "id": "acme",
            "name": "Acme",
            "links": ["github:acme", "github:other/tool"],
        },
        {
            "id": "ms",
            "name": "MindSpore",
            "languages": ["zh", "en"],
            "admins": ["gitee:Mona"],
            "links": ["gitee:mindspore", "github:acme/special"],
            "required_agreement": "ms-cla",
            "agreements": [
                {
                    "id": "ms-cla",
                    "title": "MindSpore CLA",
                    "versions": [{"version": "1.0", "text": "agreements/individual-1.0.md"}],
                }
            ],
        },
    ],
}


class Clients:
    def __init__(self, *forges: FakeForgeClient) -> None:
        self.forges = {f.platform: f for f in forges}

    async def __call__(self, platform: Platform, owner: str) -> ForgeClient | None:
        return self.forges.get(platform)


@pytest.fixture
def communities() -> Communities:
    return load_communities(APP_YAML, ROOT / "templates", forges=[f.name for f in registry.FORGES])


@pytest.fixture
def forge() -> FakeForgeClient:
    return FakeForgeClient(GH)


@pytest.fixture
async def console(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    communities: Communities,
    forge: FakeForgeClient,
) -> Console:
    async with sessions() as s, s.begin():
        # As the runtime stores app.yaml at start-up.
        await sync_file_communities(
            s,
            [
                (c.id, c.name, [(link.platform, link.owner, link.repo) for link in c.links])
                for c in communities.communities
            ],
        )
        for c in communities.communities:
            await sync_agreements(s, c.policy.agreements, community=c.id)
    return Console(
        sessions=sessions,
        cipher=cipher,
        declared=lambda: communities,
        administrators=Administrators(Clients(forge)),
    )


async def sign(
    console: Console,
    platform: str,
    account_id: str,
    login: str,
    agreement: str,
    version: str = "1.0",
    email: str | None = None,
    community: str = "acme",
) -> None:
    async with console.sessions() as s, s.begin():
        await signing.sign(
            s,
            console.cipher,
            platform=platform,
            account_id=account_id,
            login=login,
            verified_emails=[email or f"{login.lower()}@example.com"],
            agreement_id=agreement,
            version=version,
            fields={"name": f"{login} Person", "address": "1 Secret Road", "phone": "+1 555"},
            community=community,
        )


async def test_who_administers_which_community(console: Console, forge: FakeForgeClient) -> None:
    forge.set_owner_role("acme", "olga", "admin")  # owns the linked organisation
    forge.set_owner_role("acme", "mel", "member")
    forge.set_permission(RepoRef(GH, "acme", "special"), "rita", "admin")
    acme_item = CommunityItem("acme", "Acme")
    ms_item = CommunityItem("ms", "MindSpore")
    assert await console.communities_of(Person(GH, "olga")) == [acme_item]
    # A repository link of another community: its admin administers that community.
    assert await console.communities_of(Person(GH, "rita")) == [ms_item]
    # Named in app.yaml (any case), on its forge only.
    assert await console.communities_of(Person(GE, "mona")) == [ms_item]
    assert await console.communities_of(Person(GH, "mona")) == []
    # A member, and someone the forge does not know: nothing to manage.
    assert await console.communities_of(Person(GH, "mel")) == []
    assert await console.communities_of(Person(GH, "nobody")) == []


async def test_the_overview_counts_valid_signatures_by_version(
    console: Console, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign(console, GH, "1", "amy", "individual")
    await sign(console, GH, "2", "bea", "individual")
    await sign(console, GH, "3", "cyd", "individual", "2.0")
    await sign(console, GE, "4", "dan", "ms-cla", community="ms")
    async with sessions() as s, s.begin():
        # bea's signature is revoked: it no longer counts.
        await s.execute(
            update(Signature).where(Signature.id == 2).values(revoked_at=Signature.signed_at)
        )
    community = await console.community("acme")
    assert community is not None
    overview = await console.overview(community)
    assert (overview.community_id, overview.name, overview.languages) == ("acme", "Acme", ("en",))
    assert overview.default
    assert overview.links == (
        LinkView("github:acme", FROM_FILE),
        LinkView("github:other/tool", FROM_FILE),
    )
    (agreement,) = overview.agreements
    assert (agreement.agreement_id, agreement.title, agreement.required) == (
        "individual",
        "Individual CLA",
        True,
    )
    assert agreement.versions == (VersionView("1.0", True, 1), VersionView("2.0", False, 1))
    assert agreement.signatures == 2
    ms = await console.community("ms")
    assert ms is not None
    ms_view = await console.overview(ms)
    assert not ms_view.default and ms_view.languages == ("zh", "en")
    assert [(a.agreement_id, a.versions) for a in ms_view.agreements] == [
        ("ms-cla", (VersionView("1.0", True, 1),))
    ]


async def test_blocked_prs_are_the_community_s_open_ones(
    console: Console, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def pr(
        community: str | None, repo: str, number: int, outcome: str, state: str = "open"
    ) -> PrCheck:
        return PrCheck(
            platform=GE if repo.startswith("mindspore/") else GH,
            repo_full_name=repo,
            number=number,
            community_id=community,
            head_sha="a" * 40,
            state=state,
            outcome=outcome,
        )

    async with sessions() as s, s.begin():
        s.add_all(
            [
                pr("acme", "acme/widgets", 1, "blocked"),
                pr("acme", "acme/widgets", 2, "covered"),
                pr("acme", "acme/widgets", 3, "blocked", "closed"),
                pr("ms", "acme/special", 4, "blocked"),
                pr("acme", "Other/Tool", 5, "blocked"),
                pr(None, "stray/thing", 6, "error"),
                pr("ms", "mindspore/docs", 7, "blocked"),
            ]
        )
        (blocked_one,) = [c for c in s.new if isinstance(c, PrCheck) and c.number == 1]
        await s.flush()
        s.add_all(
            [
                PrBlocker(pr_check_id=blocked_one.id, identity_key="github:11"),
                PrBlocker(pr_check_id=blocked_one.id, identity_key="github:12"),
                PrBlocker(pr_check_id=blocked_one.id, identity_key="github:13", blocking=False),
            ]
        )
    acme, ms = await console.community("acme"), await console.community("ms")
    assert acme is not None and ms is not None

    def listed(blocked: tuple[BlockedPr, ...]) -> list[tuple[str, str, int, int]]:
        return [(b.platform, b.repository, b.number, b.blockers) for b in blocked]

    # Each community's own, as its checks recorded them: open and blocked only.
    assert listed((await console.overview(acme)).blocked) == [
        (GH, "acme/widgets", 1, 2),
        (GH, "Other/Tool", 5, 0),
    ]
    assert listed((await console.overview(ms)).blocked) == [
        (GH, "acme/special", 4, 0),
        (GE, "mindspore/docs", 7, 0),
    ]


async def test_a_console_made_link_says_so_and_makes_its_admins(
    console: Console, forge: FakeForgeClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    forge.set_owner_role("beta", "bo", "admin")
    assert await console.communities_of(Person(GH, "bo")) == []
    async with sessions() as s, s.begin():
        await add_link(s, "ms", GH, "Beta")
    ms = await console.community("ms")
    assert ms is not None
    assert (await console.overview(ms)).links == (
        LinkView("gitee:mindspore", FROM_FILE),
        LinkView("github:acme/special", FROM_FILE),
        LinkView("github:beta", FROM_CONSOLE),
    )
    assert await console.communities_of(Person(GH, "bo")) == [CommunityItem("ms", "MindSpore")]
    assert await console.community("nope") is None


async def test_search_finds_a_login_s_signatures_with_a_masked_email(console: Console) -> None:
    await sign(console, GH, "1", "Amy", "individual", email="amy.jones@example.com")
    await sign(console, GH, "1", "Amy", "individual", "2.0", email="amy.jones@example.com")
    await sign(console, GE, "9", "amy", "ms-cla", email="amy@gitee.example", community="ms")
    await sign(console, GH, "2", "amyx", "individual")
    acme, ms = await console.community("acme"), await console.community("ms")
    assert acme is not None and ms is not None
    hits = await console.search(acme, "  @AMY ")
    assert [(h.platform, h.login, h.agreement_id, h.version, h.email) for h in hits] == [
        (GH, "Amy", "individual", "2.0", "am***@example.com"),
        (GH, "Amy", "individual", "1.0", "am***@example.com"),
    ]
    # Another community's signatures are not this community's records.
    assert [(h.platform, h.agreement_id) for h in await console.search(ms, "amy")] == [
        (GE, "ms-cla")
    ]
    # Exact login only, and never a contact field.
    assert await console.search(acme, "am") == []
    assert await console.search(acme, "") == []
    text = repr(hits)
    assert "amy.jones" not in text and "Secret Road" not in text and "555" not in text
