"""Who administers a community: named people, and whoever the forge says administers a linked
repository or owner — asked of the recording fake forge, remembered for the TTL only."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.model import Platform, RepoRef
from bot.platforms.base import ForgeAuthError, ForgeClient, RetryableForgeError
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge import Call, FakeForgeClient
from bot.services.console import ADMIN_TTL_S, Administrators

GH = GITHUB
WIDGETS = RepoRef(GH, "acme", "widgets")
REPO_LINK = (GH, "acme", "widgets")
ORG_LINK = (GH, "acme", None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Clients:
    """The forge clients by platform, and every (platform, owner) a client was asked for."""

    def __init__(self, *forges: FakeForgeClient) -> None:
        self.forges = {f.platform: f for f in forges}
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, platform: Platform, owner: str) -> ForgeClient | None:
        self.asked.append((platform, owner))
        return self.forges.get(platform)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def forge() -> FakeForgeClient:
    return FakeForgeClient(GH)


@pytest.fixture
def clients(forge: FakeForgeClient) -> Clients:
    return Clients(forge)


@pytest.fixture
def admins(clients: Clients, clock: Clock) -> Administrators:
    return Administrators(clients, clock=clock)


def owner_calls(forge: FakeForgeClient) -> list[Call]:
    return [c for c in forge.calls if c.method in ("owner_role", "get_permission")]


async def test_a_named_admin_needs_no_forge(
    admins: Administrators, forge: FakeForgeClient, clients: Clients
) -> None:
    named = [(GH, "Amy"), (GITEE, "bea")]
    assert await admins.administers(GH, "amy", named=named, links=[ORG_LINK])
    assert await admins.administers(GH, "AMY", named=named, links=[])
    # A login names an account on one forge: Gitee's bea is not GitHub's bea.
    assert not await admins.administers(GH, "bea", named=named, links=[])
    assert not await admins.administers(GH, "", named=[(GH, "")], links=[ORG_LINK])
    assert forge.calls == [] and clients.asked == []


async def test_a_repository_link_asks_the_repository_permission(
    admins: Administrators, forge: FakeForgeClient, clients: Clients
) -> None:
    forge.set_permission(WIDGETS, "amy", "admin")
    forge.set_permission(WIDGETS, "bea", "write")
    assert await admins.administers(GH, "amy", named=[], links=[REPO_LINK])
    assert not await admins.administers(GH, "bea", named=[], links=[REPO_LINK])
    assert forge.calls == [
        Call("get_permission", (WIDGETS, "amy")),
        Call("get_permission", (WIDGETS, "bea")),
    ]
    assert clients.asked == [(GH, "acme"), (GH, "acme")]


async def test_an_owner_link_asks_the_owner_role(
    admins: Administrators, forge: FakeForgeClient
) -> None:
    forge.set_owner_role("acme", "amy", "admin")
    forge.set_owner_role("acme", "bea", "member")
    assert await admins.administers(GH, "amy", named=[], links=[ORG_LINK])
    assert not await admins.administers(GH, "bea", named=[], links=[ORG_LINK])
    assert not await admins.administers(GH, "cyd", named=[], links=[ORG_LINK])
    # A person's own account is linked: they administer it.
    assert await admins.administers(GH, "Cyd", named=[], links=[(GH, "cyd", None)])
    assert forge.calls == [
        Call("owner_role", ("acme", "amy")),
        Call("owner_role", ("acme", "bea")),
        Call("owner_role", ("acme", "cyd")),
        Call("owner_role", ("cyd", "Cyd")),
    ]


async def test_links_on_another_forge_are_not_asked(
    admins: Administrators, forge: FakeForgeClient, clients: Clients
) -> None:
    forge.set_owner_role("acme", "amy", "admin")
    links = [(GITEE, "acme", None), (GITEE, "acme", "widgets")]
    assert not await admins.administers(GH, "amy", named=[(GITEE, "amy")], links=links)
    assert forge.calls == [] and clients.asked == []


async def test_the_first_admin_scope_ends_the_questions(
    admins: Administrators, forge: FakeForgeClient
) -> None:
    forge.set_permission(WIDGETS, "amy", "admin")
    links = [REPO_LINK, (GH, "ACME", "Widgets"), ORG_LINK, (GH, "other", None)]
    assert await admins.administers(GH, "amy", named=[], links=links)
    assert owner_calls(forge) == [Call("get_permission", (WIDGETS, "amy"))]
    # Not an admin anywhere: each distinct scope is asked once, in the links' order.
    assert not await admins.administers(GH, "bea", named=[], links=links)
    assert owner_calls(forge)[1:] == [
        Call("get_permission", (WIDGETS, "bea")),
        Call("owner_role", ("acme", "bea")),
        Call("owner_role", ("other", "bea")),
    ]


async def test_answers_are_remembered_for_the_ttl_only(
    admins: Administrators, forge: FakeForgeClient, clock: Clock
) -> None:
    forge.set_owner_role("acme", "amy", "admin")
    links = [REPO_LINK, ORG_LINK]
    assert await admins.administers(GH, "amy", named=[], links=links)
    assert await admins.administers(GH, "AMY", named=[], links=links)
    clock.now += ADMIN_TTL_S - 1
    assert await admins.administers(GH, "amy", named=[], links=links)
    asked_once = [
        Call("get_permission", (WIDGETS, "amy")),
        Call("owner_role", ("acme", "amy")),
    ]
    assert owner_calls(forge) == asked_once
    # The TTL is over, and the organisation removed her meanwhile: the forge is asked again.
    forge.set_owner_role("acme", "amy", "member")
    clock.now += 1
    assert not await admins.administers(GH, "amy", named=[], links=links)
    assert owner_calls(forge) == asked_once + asked_once
    # "Not an admin" is an answer too, remembered as long.
    assert not await admins.administers(GH, "amy", named=[], links=links)
    assert owner_calls(forge) == asked_once + asked_once


async def test_answers_are_per_login_and_per_forge(clock: Clock) -> None:
    github, gitee = FakeForgeClient(GH), FakeForgeClient(GITEE)
    github.set_owner_role("acme", "amy", "admin")
    admins = Administrators(Clients(github, gitee), clock=clock)
    assert await admins.administers(GH, "amy", named=[], links=[ORG_LINK])
    assert not await admins.administers(GH, "bea", named=[], links=[ORG_LINK])
    assert not await admins.administers(GITEE, "amy", named=[], links=[(GITEE, "acme", None)])
    assert [c.args for c in github.calls] == [("acme", "amy"), ("acme", "bea")]
    assert [c.args for c in gitee.calls] == [("acme", "amy")]


async def test_a_failure_answers_false_for_that_scope_and_is_not_remembered(
    admins: Administrators, forge: FakeForgeClient, caplog: pytest.LogCaptureFixture
) -> None:
    forge.set_owner_role("acme", "amy", "admin")
    forge.fail("owner_role", RetryableForgeError("membership: HTTP 502 <secret body>", status=502))
    with caplog.at_level(logging.WARNING, logger="bot.console"):
        assert not await admins.administers(GH, "amy", named=[], links=[ORG_LINK])
    (record,) = caplog.records
    said = record.getMessage()
    assert "amy" in said and "acme" in said and "502" in said and "RetryableForgeError" in said
    assert "secret" not in said  # the forge's own words stay out of the log
    # Not remembered: the next page asks again, and the forge says yes.
    assert await admins.administers(GH, "amy", named=[], links=[ORG_LINK])
    assert owner_calls(forge) == [Call("owner_role", ("acme", "amy"))] * 2


async def test_a_failing_scope_does_not_hide_another(
    admins: Administrators, forge: FakeForgeClient
) -> None:
    forge.set_owner_role("acme", "amy", "admin")
    forge.fail("get_permission", ForgeAuthError("gone", status=401))
    assert await admins.administers(GH, "amy", named=[], links=[REPO_LINK, ORG_LINK])
    assert owner_calls(forge) == [
        Call("get_permission", (WIDGETS, "amy")),
        Call("owner_role", ("acme", "amy")),
    ]
    # The admin answer was remembered; the failed scope was not, and is asked again.
    assert await admins.administers(GH, "amy", named=[], links=[REPO_LINK, ORG_LINK])
    assert owner_calls(forge)[2:] == [Call("get_permission", (WIDGETS, "amy"))]


async def test_no_client_for_a_scope_is_no_admin_and_asked_again(clock: Clock) -> None:
    clients = Clients()  # the bot has no installation there
    admins = Administrators(clients, clock=clock)
    assert not await admins.administers(GH, "amy", named=[], links=[ORG_LINK])
    assert not await admins.administers(GH, "amy", named=[], links=[ORG_LINK])
    assert clients.asked == [(GH, "acme"), (GH, "acme")]


async def test_pages_asking_at_once_share_one_question(
    admins: Administrators, forge: FakeForgeClient
) -> None:
    forge.set_owner_role("acme", "amy", "admin")
    answers = await asyncio.gather(
        *(admins.administers(GH, "amy", named=[], links=[ORG_LINK]) for _ in range(5))
    )
    assert answers == [True] * 5
    assert owner_calls(forge) == [Call("owner_role", ("acme", "amy"))]


async def test_the_oldest_answers_go_first_past_the_limit(
    forge: FakeForgeClient, clients: Clients, clock: Clock
) -> None:
    admins = Administrators(clients, clock=clock, max_entries=2)
    for login in ("amy", "bea", "cyd", "amy"):
        await admins.administers(GH, login, named=[], links=[ORG_LINK])
    assert [c.args[1] for c in owner_calls(forge)] == ["amy", "bea", "cyd", "amy"]
    await admins.administers(GH, "cyd", named=[], links=[ORG_LINK])  # still remembered
    assert len(owner_calls(forge)) == 4
