"""The recording fake forge: the whole ForgeClient protocol, reads from the seeded state,
writes that change it, and every call recorded with its arguments."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect

import pytest

from bot.core.decision import CheckConclusion, CheckRunWrite
from bot.core.model import Account, CommentRef, Commit, GitPerson, PullRequest, RepoRef
from bot.core.model import StatusState as S
from bot.platforms.base import (
    CheckRuns,
    ForgeClient,
    ForgeNotFound,
    RetryableForgeError,
    StaleCommitList,
)
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge import WRITES, Call, FakeForgeClient, Status

GH = GITHUB
REPO = RepoRef(GH, "acme", "widgets", 7)
AMY = Account(GH, "11", "amy")
BOT = Account(GH, "1000", "cla-bot[bot]", is_bot=True)


def _commit(n: int, who: Account = AMY) -> Commit:
    person = GitPerson(who.login, f"{who.login}@example.com")
    return Commit(f"{n:040x}", person, person, f"change {n}", who, who)


def _seeded() -> tuple[FakeForgeClient, PullRequest]:
    forge = FakeForgeClient(GH)
    pr = forge.add_pr(
        PullRequest(REPO, 1, "0" * 40, "main", "open", AMY, labels=("bug",)),
        [_commit(1), _commit(2)],
    )
    return forge, pr


def _protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for protocol in (ForgeClient, CheckRuns)
        for name, member in vars(protocol).items()
        if inspect.iscoroutinefunction(member)
    }


def test_every_protocol_method_is_there_with_the_protocols_signature() -> None:
    methods = _protocol_methods()
    assert "get_pull" in methods and "user_by_login" in methods
    for name, wanted in methods.items():
        implemented = getattr(FakeForgeClient, name)
        assert inspect.iscoroutinefunction(implemented), name
        assert str(inspect.signature(implemented)) == str(wanted), name
    assert FakeForgeClient(GH).platform is GH
    assert set(methods) >= WRITES


def test_the_factory_hands_out_the_fake_for_every_installation() -> None:
    forge = FakeForgeClient(GITEE)
    factory = forge.factory()
    assert factory(None) is forge and factory(42) is forge
    assert forge.bot == Account(GITEE, "1000", "cla-bot[bot]", is_bot=True)


async def test_reads_answer_from_the_seeded_state_and_are_recorded() -> None:
    forge, pr = _seeded()
    assert (pr.head_sha, pr.labels, pr.commit_count) == (_commit(2).sha, ("bug",), 2)
    assert await forge.get_pull(REPO, 1) == pr
    assert await forge.list_commits(pr) == [_commit(1), _commit(2)]
    forge.add_user(AMY)
    forge.set_permission(REPO, "AMY", "write")
    assert await forge.get_permission(REPO, "amy") == "write"
    assert await forge.get_permission(REPO, "bea") == "none"
    assert await forge.user_by_login("Amy") == AMY
    assert await forge.user_by_id("11", login="whoever") == AMY
    assert await forge.user_by_id("12") is None
    assert forge.calls == [
        Call("get_pull", (REPO, 1)),
        Call("list_commits", (pr,)),
        Call("get_permission", (REPO, "amy")),
        Call("get_permission", (REPO, "bea")),
        Call("user_by_login", ("Amy",)),
        Call("user_by_id", ("11", "whoever")),
        Call("user_by_id", ("12", None)),
    ]
    assert forge.writes() == []


async def test_owner_roles_are_the_seeded_ones_and_an_account_is_its_own_admin() -> None:
    forge = FakeForgeClient(GH)
    forge.set_owner_role("Acme", "AMY", "admin")
    forge.set_owner_role("acme", "bea", "member")
    assert await forge.owner_role("acme", "amy") == "admin"
    assert await forge.owner_role("ACME", "Bea") == "member"
    assert await forge.owner_role("acme", "cyd") == "none"
    assert await forge.owner_role("Cyd", "cyd") == "admin"  # a person's own account
    assert await forge.owner_role("other", "amy") == "none"
    assert [c.args for c in forge.calls if c.method == "owner_role"] == [
        ("acme", "amy"),
        ("ACME", "Bea"),
        ("acme", "cyd"),
        ("Cyd", "cyd"),
        ("other", "amy"),
    ]
    assert forge.writes() == []


async def test_writes_change_what_the_next_read_sees() -> None:
    forge, pr = _seeded()
    await forge.set_status(
        REPO, pr.head_sha, state=S.FAILURE, description="sign", context="cla", target_url=None
    )
    await forge.set_status(
        REPO, pr.head_sha, state=S.SUCCESS, description="ok", context="cla", target_url="u"
    )
    await forge.add_labels(REPO, 1, ["cla/no", "bug", "cla/no"])
    await forge.remove_label(REPO, 1, "bug")
    await forge.remove_label(REPO, 1, "absent")
    first = await forge.create_comment(REPO, 1, "<!-- m --> first")
    await forge.edit_comment(REPO, first, "<!-- m --> edited")
    assert forge.status_for(REPO, pr.head_sha, "cla") == Status(S.SUCCESS, "ok", "cla", "u")
    assert (await forge.get_pull(REPO, 1)).labels == ("cla/no",)
    assert await forge.find_comment(REPO, 1, "<!-- m -->") == CommentRef(
        first, "<!-- m --> edited", BOT.login, BOT.account_id
    )
    assert forge.writes() == [
        Call("set_status", (REPO, pr.head_sha, S.FAILURE, "sign", "cla", None)),
        Call("set_status", (REPO, pr.head_sha, S.SUCCESS, "ok", "cla", "u")),
        Call("add_labels", (REPO, 1, ["cla/no", "bug", "cla/no"])),
        Call("remove_label", (REPO, 1, "bug")),
        Call("remove_label", (REPO, 1, "absent")),
        Call("create_comment", (REPO, 1, "<!-- m --> first")),
        Call("edit_comment", (REPO, first, "<!-- m --> edited")),
    ]
    assert [c.method for c in forge.calls] == [c.method for c in forge.writes()] + [
        "get_pull",
        "find_comment",
    ]


async def test_only_the_bots_own_comment_is_found() -> None:
    forge, _ = _seeded()
    theirs = forge.add_comment(REPO, 1, "<!-- m --> a copy", author=AMY)
    assert await forge.find_comment(REPO, 1, "<!-- m -->") is None
    assert await forge.get_comment(REPO, theirs) == CommentRef(
        theirs, "<!-- m --> a copy", "amy", "11"
    )
    assert await forge.get_comment(RepoRef(GH, "acme", "other"), theirs) is None
    ours = await forge.create_comment(REPO, 1, "<!-- m --> ours")
    assert (await forge.find_comment(REPO, 1, "<!-- m -->")) == CommentRef(
        ours, "<!-- m --> ours", BOT.login, BOT.account_id
    )
    assert [c.comment_id for c in forge.comments_on(REPO, 1)] == [theirs, ours]


async def test_a_push_moves_the_head_and_a_stale_snapshot_is_refused() -> None:
    forge, before = _seeded()
    after = forge.push(REPO, 1, _commit(3))
    assert (after.head_sha, after.commit_count) == (_commit(3).sha, 3)
    with pytest.raises(StaleCommitList):
        await forge.list_commits(before)
    assert forge.set_state(REPO, 1, "closed").state == "closed"
    assert await forge.open_pulls(REPO) == []
    forge.set_state(REPO, 1, "open")
    assert await forge.open_pulls(REPO) == [after]


async def test_what_the_forge_does_not_have_is_not_found() -> None:
    forge, _ = _seeded()
    with pytest.raises(ForgeNotFound):
        await forge.get_pull(REPO, 2)
    with pytest.raises(ForgeNotFound):
        await forge.create_comment(REPO, 2, "x")
    with pytest.raises(ForgeNotFound):
        await forge.edit_comment(REPO, 99, "x")
    assert await forge.get_comment(REPO, 99) is None
    assert forge.writes() == [
        Call("create_comment", (REPO, 2, "x")),
        Call("edit_comment", (REPO, 99, "x")),
    ]


async def test_an_id_is_confirmed_through_its_login_where_the_forge_needs_one() -> None:
    forge = FakeForgeClient(GITEE, ids_by_login=True)
    feng = forge.add_user(Account(GITEE, "88", "feng"))
    assert await forge.user_by_id("88") is None
    assert await forge.user_by_id("88", login="victim") is None
    assert await forge.user_by_id("88", login="Feng") == feng


async def test_a_queued_failure_is_raised_once_after_the_call_is_recorded() -> None:
    forge, pr = _seeded()
    forge.fail("get_pull", RetryableForgeError("HTTP 502", status=502))
    with pytest.raises(RetryableForgeError):
        await forge.get_pull(REPO, 1)
    assert await forge.get_pull(REPO, 1) == pr
    assert forge.calls == [Call("get_pull", (REPO, 1))] * 2
    with pytest.raises(AttributeError):
        forge.fail("get_pulls", RuntimeError())


def test_check_runs_are_the_protocols_and_kept_by_id_when_the_forge_has_them() -> None:
    assert FakeForgeClient(GH).check_runs is None  # a forge with statuses only
    forge = FakeForgeClient(GH, has_check_runs=True)
    assert forge.check_runs is forge
    first = CheckRunWrite("a" * 40, "cla", CheckConclusion.ACTION_REQUIRED, "t", "s")
    run_id = asyncio.run(forge.create_check_run(REPO, first))
    second = dataclasses.replace(first, conclusion=CheckConclusion.SUCCESS, run_id=run_id)
    asyncio.run(forge.update_check_run(REPO, run_id, second))
    assert forge.check_run(run_id) == second
    with pytest.raises(ForgeNotFound):
        asyncio.run(forge.update_check_run(REPO, run_id + 1, second))
    assert forge.writes() == [
        Call("create_check_run", (REPO, first)),
        Call("update_check_run", (REPO, run_id, second)),
        Call("update_check_run", (REPO, run_id + 1, second)),
    ]
