"""Reconciliation: lost GitHub deliveries are redelivered (never successful ones), and the
sweep re-checks PRs whose check went stale."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.storage.models import PrCheck, utcnow
from tests.e2e.conftest import Bot, GiteeBot

REPO = "acme/widgets"


async def test_one_pass_redelivers_what_never_arrived(bot: Bot) -> None:
    gh = bot.github
    gh.hook_url = str(bot.client.make_url("/webhooks/github"))
    gh.add_installation(1, account="acme", repos=[REPO])
    arrived = gh.add_pr(REPO, number=1, author="amy")
    ok = await gh.send_hook("pull_request", gh.pull_request_event(arrived, installation_id=1))
    assert ok.status == "OK"
    gh.hooks_blocked = True  # the bot is unreachable for a while
    lost = [gh.add_pr(REPO, number=n, author="amy") for n in (2, 3)]
    failed = [
        await gh.send_hook("pull_request", gh.pull_request_event(p, installation_id=1))
        for p in lost
    ]
    assert all(d.status != "OK" for d in failed)
    gh.hooks_blocked = False
    # one the bot stored, but whose answer GitHub never heard: not redelivered
    answered = gh.add_pr(REPO, number=5, author="amy")
    stored_but_failed = await gh.send_hook(
        "pull_request", gh.pull_request_event(answered, installation_id=1)
    )
    stored_but_failed.status_code = 0
    await bot.run_jobs()
    assert all(gh.status_for(p.head_sha, "cla") is None for p in lost)

    result = await bot.runtime.redeliver()
    assert result is not None
    assert (result.failed_guids, result.already_stored, result.redelivered) == (3, 1, 2)
    assert sorted(gh.redelivered) == sorted(d.id for d in failed)
    assert stored_but_failed.id not in gh.redelivered and ok.id not in gh.redelivered
    await bot.run_jobs()
    for p in [arrived, answered, *lost]:
        assert gh.status_for(p.head_sha, "cla").state == "failure"  # type: ignore[union-attr]
        assert len(gh.bot_comments(p)) == 1
    # a second pass finds nothing left to do
    again = await bot.runtime.redeliver()
    assert again is not None and again.redelivered == 0
    text = bot.runtime.metrics.render()
    assert "cla_reconcile_redeliveries_total 2" in text


async def test_sweep_rechecks_stale_prs(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(1, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=4, author="bea")
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=1))
    await bot.run_jobs()
    assert await bot.runtime.sweep() == 0  # fresh
    # a push whose webhook was lost, and a day passes
    gh.add_commit(pr, author=("Bea", "bea@example.com"), author_login="bea")
    async with bot.runtime.sessions() as s, s.begin():
        await s.execute(update(PrCheck).values(checked_at=utcnow() - timedelta(days=2)))
    assert await bot.runtime.sweep() == 1
    await bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]


async def test_gitee_sweep_finds_prs_whose_deliveries_were_lost(gitee_bot: GiteeBot) -> None:
    g = gitee_bot.gitee
    seen = g.add_pr("open-cla/demo", number=1, author="li-na")
    assert await gitee_bot.deliver(g.merge_request_event(seen)) == 202
    await gitee_bot.run_jobs()
    # deliveries lost: a new PR, and a push to the known one
    unseen = g.add_pr("open-cla/demo", number=2, author="li-na")
    g.add_commit(seen, author=("Li Na", "li-na@example.com"), author_login="li-na")
    assert g.labels_of(unseen) == []
    assert await gitee_bot.runtime.sweep() == 2
    await gitee_bot.run_jobs()
    assert g.labels_of(unseen) == ["cla/no"] and len(g.bot_comments(unseen)) == 1
    assert await gitee_bot.runtime.sweep() == 0  # everything right: nothing more to do
