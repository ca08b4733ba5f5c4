"""The check service: what the forge confirms about noreply account ids (asked once, remembered
for a while), and the exact writes of a check."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.communities import DEFAULT_COMMUNITY, LinkTable
from bot.core.coverage import allowlisted
from bot.core.identity import Contributor, Identity, NoreplyAddress
from bot.core.model import Account, AiAgentPolicy, Platform, Role, StatusState
from bot.platforms.base import ForgeNotFound, RateLimited, RetryableForgeError
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge import Call
from bot.services.checks import ConfirmedAccounts, build_allowlist
from bot.services.checks.config import Scopes
from bot.services.checks.links import LINKS_CHANGED, StoredLinks
from bot.settings import Policy, load_config_file
from bot.storage.communities import add_link
from bot.storage.models import JobKind
from tests.services.conftest import (
    AMY,
    BEA,
    COVERED,
    PASSED,
    REPO,
    Bot,
    add_labels,
    blocked,
    commit,
    create_comment,
    edit_comment,
    remove_label,
    set_status,
)

GH = GITHUB
GE = GITEE


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Forge:
    """A forge that knows some accounts, records every question and can fail or stall."""

    def __init__(self, platform: Platform, *accounts: Account, by_login: bool = False) -> None:
        self.platform = platform
        self.accounts = {a.account_id: a for a in accounts}
        self.by_login = by_login  # Gitee: the id is confirmed only through its login
        self.asked: list[tuple[str, str | None]] = []
        self.fail: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None:
        self.asked.append((account_id, login))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        account = self.accounts.get(account_id)
        if self.by_login and (account is None or (login or "").lower() != account.login.lower()):
            return None
        return account


def claim(account_id: str, login: str, platform: Platform = GH) -> NoreplyAddress:
    return NoreplyAddress(platform, account_id, login)


OCTO = Account(GH, "1", "octocat")
FENG = Account(GE, "88", "feng")


async def test_each_id_is_asked_once_and_remembered_for_the_ttl() -> None:
    clock = Clock()
    accounts = ConfirmedAccounts(ttl_s=60, clock=clock)
    forge = Forge(GH, OCTO)
    claims = [claim("1", "victim"), claim("2", "nobody")]
    assert await accounts.confirm(forge, claims) == {"1": OCTO}
    assert await accounts.confirm(forge, claims) == {"1": OCTO}
    assert forge.asked == [("1", "victim"), ("2", "nobody")]
    clock.now += 59
    assert await accounts.confirm(forge, [claim("1", "other-hint")]) == {"1": OCTO}
    assert len(forge.asked) == 2
    clock.now += 1  # the answers expire
    assert await accounts.confirm(forge, claims) == {"1": OCTO}
    assert forge.asked[2:] == [("1", "victim"), ("2", "nobody")]


async def test_a_missing_account_is_remembered_per_login_asked_with() -> None:
    accounts = ConfirmedAccounts(clock=Clock())
    forge = Forge(GE, FENG, by_login=True)
    assert await accounts.confirm(forge, [claim("88", "victim", GE)]) == {}
    assert await accounts.confirm(forge, [claim("88", "victim", GE)]) == {}
    # another login for the same id is another question on Gitee, and the right one confirms
    assert await accounts.confirm(forge, [claim("88", "feng", GE)]) == {"88": FENG}
    # once confirmed, the id is known whatever login is written next to it
    assert await accounts.confirm(forge, [claim("88", "victim", GE)]) == {"88": FENG}
    assert forge.asked == [("88", "victim"), ("88", "feng")]


async def test_checks_at_once_share_one_question() -> None:
    accounts = ConfirmedAccounts(clock=Clock())
    forge = Forge(GH, OCTO)
    forge.gate = asyncio.Event()
    waiting = [asyncio.create_task(accounts.confirm(forge, [claim("1", "x")])) for _ in range(5)]
    await asyncio.sleep(0)
    forge.gate.set()
    assert await asyncio.gather(*waiting) == [{"1": OCTO}] * 5
    assert forge.asked == [("1", "x")]


@pytest.mark.parametrize(
    "failure", [RetryableForgeError("HTTP 502", status=502), ForgeNotFound("HTTP 404")]
)
async def test_a_failed_lookup_confirms_nothing_and_is_asked_again(failure: Exception) -> None:
    accounts = ConfirmedAccounts(clock=Clock())
    forge = Forge(GH, OCTO)
    forge.fail = failure
    assert await accounts.confirm(forge, [claim("1", "x")]) == {}
    forge.fail = None
    assert await accounts.confirm(forge, [claim("1", "x")]) == {"1": OCTO}
    assert forge.asked == [("1", "x"), ("1", "x")]


async def test_a_rate_limit_is_raised_for_the_queue_to_wait() -> None:
    accounts = ConfirmedAccounts(clock=Clock())
    forge = Forge(GH, OCTO)
    forge.fail = RateLimited("limited", until=datetime(2030, 1, 1, tzinfo=UTC), status=403)
    with pytest.raises(RateLimited):
        await accounts.confirm(forge, [claim("1", "x")])


async def test_answers_about_another_platform_or_id_confirm_nothing() -> None:
    accounts = ConfirmedAccounts(clock=Clock())
    assert await accounts.confirm(Forge(GE, OCTO), [claim("1", "x", GE)]) == {}
    assert await accounts.confirm(Forge(GH, OCTO), [claim("1", "x", GE)]) == {}


async def test_at_most_max_entries_answers_are_kept() -> None:
    accounts = ConfirmedAccounts(max_entries=2, clock=Clock())
    forge = Forge(GH, *(Account(GH, str(i), f"u{i}") for i in range(3)))
    for i in range(3):
        await accounts.confirm(forge, [claim(str(i), f"u{i}")])
    await accounts.confirm(forge, [claim("2", "u2"), claim("1", "u1"), claim("0", "u0")])
    assert [a for a, _ in forge.asked] == ["0", "1", "2", "0"]


def _stock_policy(*, default_bots: bool = True, ai_agents: str = "allow") -> Policy:
    root = Path(__file__).resolve().parents[2]
    _manifest, policy = load_config_file(root / "app.yaml", root / "templates")
    allowlist = dataclasses.replace(policy.allowlist, default_bots=default_bots)
    return dataclasses.replace(policy, allowlist=allowlist, ai_agents=ai_agents)


def _contributor(account_id: str, login: str) -> Contributor:
    identity = Identity(platform=GITHUB, account_id=account_id, login=login)
    return Contributor(identity, frozenset({Role.AUTHOR}), ("a" * 40,), ())


DEPENDABOT = _contributor("49699333", "dependabot[bot]")
COPILOT = _contributor("198982749", "Copilot")


def test_the_stock_allowlist_knows_the_bots_and_lets_ai_agents_be() -> None:
    allowlist = build_allowlist(_stock_policy())
    assert allowlisted(DEPENDABOT, allowlist)
    assert allowlist.ai_agents is AiAgentPolicy.ALLOW
    assert getattr(allowlist.recognise(COPILOT), "name", None) == "GitHub Copilot coding agent"


def test_without_default_bots_the_ai_agents_are_still_known() -> None:
    allowlist = build_allowlist(_stock_policy(default_bots=False, ai_agents="require"))
    assert not allowlisted(DEPENDABOT, allowlist)
    assert allowlist.recognise(DEPENDABOT) is None
    assert allowlist.ai_agents is AiAgentPolicy.REQUIRE
    assert getattr(allowlist.recognise(COPILOT), "name", None) == "GitHub Copilot coding agent"


# -- the writes of a check, exactly (the services on the real database, a recording forge) ------

SUCCESS, FAILURE = StatusState.SUCCESS, StatusState.FAILURE


@pytest.mark.parametrize(
    ("comment_when_covered", "comments"), [("edit-only", []), ("always", [COVERED])]
)
async def test_all_signed_is_one_success_status_and_the_yes_label(
    make_bot: Callable[..., Bot], comment_when_covered: str, comments: list[str]
) -> None:
    bot = make_bot(comment_when_covered=comment_when_covered)
    await bot.sign(AMY)
    await bot.sign(BEA)
    pr = bot.open_pr(1, AMY, commit(AMY), commit(BEA))
    await bot.check(1)
    assert bot.forge.writes() == [
        set_status(1, pr.head_sha, SUCCESS, PASSED),
        add_labels(1, "cla/yes"),
        *(create_comment(1, body) for body in comments),
    ]
    assert [c.body for c in bot.forge.comments_on(pr.repo, 1)] == comments


async def test_an_unsigned_author_fails_with_the_no_label_and_one_comment(bot: Bot) -> None:
    await bot.sign(BEA)
    pr = bot.open_pr(1, AMY, commit(AMY), commit(BEA))
    await bot.check(1)
    assert bot.forge.writes() == [
        set_status(1, pr.head_sha, FAILURE, "1 contributor must sign the CLA"),
        add_labels(1, "cla/no"),
        create_comment(1, blocked(1, "amy")),
    ]


async def test_a_recheck_with_nothing_changed_writes_nothing(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    await bot.check(1)
    assert len(bot.forge.writes()) == 3
    bot.forge.calls.clear()
    await bot.check(1)
    assert bot.forge.writes() == []


async def test_a_new_commit_after_signing_edits_the_failing_comment_in_place(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    await bot.check(1)
    [first] = bot.forge.comments_on(REPO, 1)
    assert first.body == blocked(1, "amy")
    await bot.sign(AMY)
    pushed = bot.forge.push(REPO, 1, commit(AMY, "Fix after review"))
    bot.forge.calls.clear()
    await bot.check(1)
    assert bot.forge.writes() == [
        set_status(1, pushed.head_sha, SUCCESS, PASSED),
        add_labels(1, "cla/yes"),
        remove_label(1, "cla/no"),
        edit_comment(first.comment_id, COVERED),
    ]
    assert [(c.comment_id, c.body) for c in bot.forge.comments_on(REPO, 1)] == [
        (first.comment_id, COVERED)
    ]


# -- which community checks a repository ------------------------------------------------------


def _no_cla(console_url: str) -> str:
    return (
        "<!-- cla-bot -->\n### CLA check: no agreement configured\n\n"
        "This repository is not linked to any community of this CLA bot, so there is no "
        "agreement to check this pull request against, and nobody is asked to sign.\n\n"
        "A maintainer of the repository or its organisation links it to a community in the "
        f"[maintainers' console]({console_url}); the check then runs again by itself. Until "
        "then, comment `/cla check` to run it again.\n"
    )


async def test_a_repository_no_community_covers_gets_error_no_cla_and_one_comment(
    make_bot: Callable[..., Bot],
) -> None:
    policy = make_bot().checks.policy
    bot = make_bot(scopes=Scopes({"mindspore": policy}, lambda _repo: None))
    pr = bot.open_pr(1, AMY, commit(AMY))
    await bot.check(1)
    console = "https://cla.example.org/console"
    assert bot.forge.writes() == [
        Call(
            "set_status",
            (
                REPO,
                pr.head_sha,
                StatusState.ERROR,
                "No CLA is configured for this repository",
                "cla",
                console,
            ),
        ),
        create_comment(1, _no_cla(console)),
    ]
    bot.forge.calls.clear()
    await bot.check(1)
    assert bot.forge.writes() == []


async def test_a_community_s_repository_is_reported_with_its_context_and_signing_link(
    make_bot: Callable[..., Bot],
) -> None:
    base = make_bot().checks.policy
    other = dataclasses.replace(
        base, report=dataclasses.replace(base.report, status_context="cla/ms")
    )
    bot = make_bot(scopes=Scopes({"mindspore": other}, lambda _repo: "mindspore"))
    await bot.add_community("mindspore", other)
    pr = bot.open_pr(1, AMY, commit(AMY))
    await bot.check(1)
    link = (
        "https://cla.example.org/sign/mindspore/individual?platform=github&repo=acme%2Fwidgets&pr=1"
    )
    [status] = [c for c in bot.forge.writes() if c.method == "set_status"]
    assert status.args[3:] == ("1 contributor must sign the CLA", "cla/ms", link)
    assert link in bot.forge.comments_on(pr.repo, 1)[0].body


async def test_a_signature_counts_and_re_checks_only_in_its_own_community(
    make_bot: Callable[..., Bot],
) -> None:
    """The repository is the ``mindspore`` community's: a signature of the default community's
    agreement of the same name neither covers its PR nor queues a check of it."""
    base = make_bot().checks.policy
    bot = make_bot(
        scopes=Scopes({DEFAULT_COMMUNITY: base, "mindspore": base}, lambda _repo: "mindspore")
    )
    await bot.add_community("mindspore", base)
    pr = bot.open_pr(1, AMY, commit(AMY))
    await bot.check(1)
    assert await bot.sign(AMY) == 0  # the default community's: nothing re-checked
    assert await bot.run_jobs() == 0
    bot.forge.calls.clear()
    await bot.check(1)
    assert bot.forge.writes() == []  # still blocked, nothing to change
    assert await bot.sign(AMY, community="mindspore") == 1
    assert await bot.run_jobs() == 1
    link = (
        "https://cla.example.org/sign/mindspore/individual?platform=github&repo=acme%2Fwidgets&pr=1"
    )
    assert bot.forge.writes()[0] == Call(
        "set_status", (REPO, pr.head_sha, SUCCESS, PASSED, "cla", link)
    )


async def test_a_link_made_elsewhere_counts_once_the_links_are_read_again(
    make_bot: Callable[..., Bot], sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A link stored by the console or another replica: the repository that had no CLA is
    checked against the linked community's agreement once the links are read again (after
    the TTL), not before."""
    base = make_bot().checks.policy
    clock = Clock()
    links = StoredLinks(sessions, LinkTable((), None), ttl_s=30, clock=clock)
    bot = make_bot(scopes=Scopes({"mindspore": base}, links.resolve, links.refresh))
    await bot.add_community("mindspore", base)
    pr = bot.open_pr(1, AMY, commit(AMY))
    await bot.check(1)
    [status] = [c for c in bot.forge.writes() if c.method == "set_status"]
    assert status.args[2] == StatusState.ERROR
    async with sessions() as s, s.begin():
        await add_link(s, "mindspore", "github", "Acme")
    bot.forge.calls.clear()
    await bot.check(1)
    assert bot.forge.writes() == []  # the links were read within the TTL
    clock.now += 31
    await bot.check(1)
    [status] = [c for c in bot.forge.writes() if c.method == "set_status"]
    assert status.args[1:4] == (pr.head_sha, FAILURE, "1 contributor must sign the CLA")


async def test_the_re_check_a_link_change_queues_reads_the_links_at_once(
    make_bot: Callable[..., Bot], sessions: async_sessionmaker[AsyncSession]
) -> None:
    base = make_bot().checks.policy
    links = StoredLinks(sessions, LinkTable((), None), ttl_s=30, clock=Clock())
    bot = make_bot(scopes=Scopes({"mindspore": base}, links.resolve, links.refresh))
    await bot.add_community("mindspore", base)
    pr = bot.open_pr(1, AMY, commit(AMY))
    await bot.check(1)
    async with sessions() as s, s.begin():
        await add_link(s, "mindspore", "github", "acme")
    bot.forge.calls.clear()
    await bot.enqueue(JobKind.CHECK, 1, {"trigger": LINKS_CHANGED}, key="link-1")
    await bot.run_jobs()
    [status] = [c for c in bot.forge.writes() if c.method == "set_status"]
    assert status.args[1:4] == (pr.head_sha, FAILURE, "1 contributor must sign the CLA")
