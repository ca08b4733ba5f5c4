"""Reconciliation on the real database with a recording forge: the sweep re-checks exactly the
open PRs whose check went stale and writes only what changed; a current PR, and one closed
while its delivery was lost, get no write at all."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.core.model import PullRequest, RepoRef, StatusState
from bot.platforms.gitee.facts import GITEE
from bot.sandbox.fakeforge import Call, FakeForgeClient, Status
from bot.services import reconcile
from bot.storage.models import Job, PrCheck, utcnow
from tests.services.conftest import (
    AMY,
    BEA,
    REPO,
    Bot,
    add_labels,
    blocked,
    commit,
    create_comment,
    set_status,
    sign_url,
)

FAILURE = StatusState.FAILURE
MUST_SIGN = "1 contributor must sign the CLA"
DAY_S = 86_400


async def _age(bot: Bot, *numbers: int) -> None:
    """The last check of these PRs was two days ago."""
    async with bot.sessions() as s, s.begin():
        await s.execute(
            update(PrCheck)
            .where(PrCheck.number.in_(numbers))
            .values(checked_at=utcnow() - timedelta(days=2))
        )


async def _sweep(bot: Bot) -> int:
    async with bot.sessions() as s, s.begin():
        return await reconcile.sweep(s, stale_after_s=DAY_S)


async def test_a_stale_pr_is_rechecked_and_gets_only_what_changed(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    current = bot.open_pr(2, AMY)
    await bot.check(1)
    await bot.check(2)
    assert await _sweep(bot) == 0  # both fresh
    # a push to PR 1 whose delivery was lost, and two days pass for it
    pushed = bot.forge.push(REPO, 1, commit(AMY))
    await _age(bot, 1)
    bot.forge.calls.clear()
    assert await _sweep(bot) == 1
    assert await bot.run_jobs() == 1
    # the head moved: a status on the new head; label and comment were already right
    assert bot.forge.writes() == [set_status(1, pushed.head_sha, FAILURE, MUST_SIGN)]
    assert [c.args[:2] for c in bot.forge.calls if c.method == "get_pull"] == [(REPO, 1)]
    assert bot.forge.status_for(REPO, current.head_sha, "cla") == Status(
        FAILURE, MUST_SIGN, "cla", sign_url(2)
    )
    assert await _sweep(bot) == 0


async def test_a_stale_pr_with_nothing_new_is_rechecked_without_a_write(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    await bot.check(1)
    await _age(bot, 1)
    bot.forge.calls.clear()
    assert await _sweep(bot) == 1
    assert await bot.run_jobs() == 1
    assert [c.method for c in bot.forge.calls] == ["get_pull", "list_commits"]
    assert bot.forge.writes() == []


async def test_a_signature_found_by_the_sweep_turns_the_pr_green(bot: Bot) -> None:
    pr = bot.open_pr(1, AMY, commit(AMY), commit(BEA))
    await bot.check(1)
    assert bot.forge.writes() == [
        set_status(1, pr.head_sha, FAILURE, "2 contributors must sign the CLA"),
        add_labels(1, "cla/no"),
        create_comment(1, blocked(1, "amy", "bea")),
    ]
    [comment] = bot.forge.comments_on(REPO, 1)
    await bot.sign(BEA)  # imported, say: no re-check queued by it
    await _age(bot, 1)
    bot.forge.calls.clear()
    assert await _sweep(bot) == 1
    await bot.run_jobs()
    assert bot.forge.writes() == [
        set_status(1, pr.head_sha, FAILURE, MUST_SIGN),
        Call("edit_comment", (REPO, comment.comment_id, blocked(1, "amy"))),
    ]


async def test_a_pr_closed_while_its_delivery_was_lost_gets_no_write(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    await bot.check(1)
    bot.forge.set_state(REPO, 1, "closed")
    await _age(bot, 1)
    bot.forge.calls.clear()
    assert await _sweep(bot) == 1
    assert await bot.run_jobs() == 1
    assert [c.method for c in bot.forge.calls] == ["get_pull"]
    assert bot.forge.writes() == []
    async with bot.sessions() as s:
        assert (await s.scalars(select(PrCheck.state))).all() == ["closed"]
    await _age(bot, 1)
    assert await _sweep(bot) == 0  # recorded closed: never swept again


GITEE_REPO = RepoRef(GITEE, "open-cla", "demo", 9)


async def test_the_gitee_sweep_queues_the_prs_it_has_no_current_record_of(bot: Bot) -> None:
    forge = FakeForgeClient(GITEE)
    shas = {}
    for number in (1, 2, 3, 4):
        pr = PullRequest(GITEE_REPO, number, f"{number:040x}", "master", "open", None)
        shas[number] = forge.add_pr(pr).head_sha
    forge.set_state(GITEE_REPO, 4, "closed")
    async with bot.sessions() as s, s.begin():
        for number, head, state in [
            (1, shas[1], "open"),  # current
            (2, "f" * 40, "open"),  # pushed to since its check
            (3, shas[3], "closed"),  # recorded closed, reopened since
            (4, shas[4], "open"),  # closed since, not listed as open: the PR's own job
        ]:
            s.add(
                PrCheck(
                    platform="gitee",
                    repo_full_name=GITEE_REPO.full_name,
                    number=number,
                    head_sha=head,
                    state=state,
                    checked_at=utcnow(),
                )
            )
    queued = await reconcile.sweep_open_pulls(GITEE, forge, bot.sessions)
    assert queued == 2
    assert forge.calls == [Call("open_pulls", (RepoRef(GITEE, "open-cla", "demo"),))]
    async with bot.sessions() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
    assert [(j.platform, j.kind, j.pr_key, j.payload["trigger"]) for j in jobs] == [
        ("gitee", "check", "gitee:open-cla/demo#2", "sweep"),
        ("gitee", "check", "gitee:open-cla/demo#3", "sweep"),
    ]


def test_redelivery_passes_add_field_by_field() -> None:
    """Passes over several forges' logs add up into one count per field (the runtime's total)."""
    first = reconcile.Redelivered(seen=10, failed_guids=3, already_stored=1, redelivered=2)
    second = reconcile.Redelivered(seen=5, failed_guids=2, already_stored=0, redelivered=2)
    assert first + second == reconcile.Redelivered(
        seen=15, failed_guids=5, already_stored=1, redelivered=4
    )
    none = reconcile.Redelivered(0, 0, 0, 0)
    assert none + first == first + none == first
