"""Merge queues on the fake GitHub, with real ``merge_group`` payload shapes: the bot reports
``cla`` on the queue entry's head commit from its record of the PR the entry names, so that a
queue with the required ``cla`` check merges covered PRs and blocks the others."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.models import Job
from tests.e2e.conftest import Bot
from tests.e2e.test_check_runs import (
    INSTALLATION,
    STATUSES,
    body_of,
    headers_for,
    made,
    opened,
    sign,
)

PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"
COMMITS = "/repos/{owner}/{repo}/pulls/{pull_number}/commits"


async def test_a_queued_covered_pr_gets_success_for_one_write(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=["acme/widgets"])
    await sign(bot, "bob")
    pr = await opened(bot, author="bob")
    group = gh.add_merge_group(pr)
    before = len(gh.requests)
    assert await bot.deliver("merge_group", gh.merge_group_event(group)) == 202
    assert await bot.run_jobs() == 1
    assert made(gh, before) == [("GET", PULL), ("POST", STATUSES)]
    status = gh.status_for(group.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert status.description == "#5: every contributor is covered by the CLA"
    assert gh.check_runs_for(group.head_sha) == []


async def test_a_queued_pr_with_an_unsigned_author_is_blocked(bot: Bot) -> None:
    gh = bot.github
    pr = await opened(bot, author="alice", number=8)
    group = gh.add_merge_group(pr)
    before = len(gh.requests)
    assert await bot.deliver("merge_group", gh.merge_group_event(group)) == 202
    assert await bot.run_jobs() == 1
    assert made(gh, before) == [("GET", PULL), ("POST", STATUSES)]
    status = gh.status_for(group.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert status.description == "#8: the CLA is not signed by everyone"


async def test_the_queue_does_not_stall_waiting_for_cla(bot: Bot) -> None:
    """The queue waits for ``cla`` on its own commit: answering the delivery "ignored" left
    it waiting until it timed out."""
    gh = bot.github
    pr = await opened(bot)
    group = gh.add_merge_group(pr)
    assert gh.status_for(group.head_sha, "cla") is None
    resp = await bot.client.post(
        "/webhooks/github",
        data=body_of(gh.merge_group_event(group)),
        headers=headers_for("merge_group", gh.merge_group_event(group)),
    )
    assert resp.status == 202, await resp.text()
    await bot.run_jobs()
    assert gh.status_for(group.head_sha, "cla") is not None


async def test_a_stale_record_checks_the_pr_first(bot: Bot) -> None:
    gh = bot.github
    await sign(bot, "bob")
    pr = await opened(bot, author="bob")
    # A push whose delivery has not arrived: the record is for the previous head.
    gh.add_commit(pr, author=("Bob", "bob@example.com"), author_login="bob")
    group = gh.add_merge_group(pr)
    before = len(gh.requests)
    assert await bot.deliver("merge_group", gh.merge_group_event(group)) == 202
    assert await bot.run_jobs() == 1
    made_now = made(gh, before)
    assert made_now[0] == ("GET", PULL)
    assert ("GET", COMMITS) in made_now
    writes = [w for w in made_now if w[0] != "GET"]
    assert writes == [
        ("POST", "/repos/{owner}/{repo}/check-runs"),
        ("POST", STATUSES),  # the PR's new head
        ("POST", STATUSES),  # the queue entry
    ]
    pr_status = gh.status_for(pr.head_sha, "cla")
    assert pr_status is not None and pr_status.state == "success"
    status = gh.status_for(group.head_sha, "cla")
    assert status is not None and status.state == "success"


async def test_an_entry_naming_no_pr_fails_closed(bot: Bot) -> None:
    gh = bot.github
    pr = await opened(bot)
    group = gh.add_merge_group(pr)
    event = gh.merge_group_event(group, head_ref="refs/heads/gh-readonly-queue/main/not-a-pr")
    before = len(gh.requests)
    assert await bot.deliver("merge_group", event) == 202
    assert await bot.run_jobs() == 1
    assert made(gh, before) == [("POST", STATUSES)]
    status = gh.status_for(group.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert status.description == "This merge queue entry could not be matched to a pull request"


async def test_a_destroyed_group_needs_nothing(bot: Bot) -> None:
    gh = bot.github
    pr = await opened(bot)
    group = gh.add_merge_group(pr)
    async with bot.runtime.sessions() as s:
        before = await s.scalar(select(func.count()).select_from(Job))
    event = gh.merge_group_event(group, action="destroyed")
    resp = await bot.client.post(
        "/webhooks/github", data=body_of(event), headers=headers_for("merge_group", event)
    )
    assert resp.status == 200 and (await resp.json())["message"] == "ignored"
    async with bot.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Job)) == before
    assert gh.status_for(group.head_sha, "cla") is None
