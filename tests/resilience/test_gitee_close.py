"""Gitee's webhook token covers the timestamp, not the body: anyone holding one captured
delivery can send ``close`` for any open PR within the window. A close or merge is therefore
never taken at its word — the PR is read from the API and only a PR the API reports closed is
recorded closed (and its contributors forgotten) — and the sweep re-checks a PR recorded as
closed that the API lists as open."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.storage.models import PrBlocker, PrCheck
from tests.e2e.conftest import GiteeBot


async def record(bot: GiteeBot, number: int) -> tuple[str, int]:
    """(state, blockers) of the bot's record of ``open-cla/demo#number``."""
    async with bot.runtime.sessions() as s:
        check = (
            await s.scalars(
                select(PrCheck).where(
                    PrCheck.repo_full_name == "open-cla/demo", PrCheck.number == number
                )
            )
        ).one()
        blockers = await s.scalar(
            select(func.count()).select_from(PrBlocker).where(PrBlocker.pr_check_id == check.id)
        )
    return check.state, int(blockers or 0)


async def checked_pr(bot: GiteeBot) -> tuple[Any, int]:
    """A PR checked once: it and the number of its contributor records."""
    g = bot.gitee
    pr = g.add_pr("open-cla/demo", number=1, author="li-na")
    assert await bot.deliver(g.merge_request_event(pr)) == 202
    assert await bot.run_jobs() == 1
    state, blockers = await record(bot, 1)
    assert (state, blockers) == ("open", 3)
    return pr, blockers


@pytest.mark.parametrize("action", ["close", "merge"])
async def test_a_forged_close_of_an_open_pr_changes_nothing(
    gitee_bot: GiteeBot, action: str
) -> None:
    pr, blockers = await checked_pr(gitee_bot)
    forged = gitee_bot.gitee.merge_request_event(pr, action=action)
    forged["pull_request"]["state"] = forged["state"] = "closed"  # the body lies; the API not
    assert await gitee_bot.deliver(forged) == 202
    assert await gitee_bot.run_jobs() == 1
    assert await record(gitee_bot, 1) == ("open", blockers)
    assert gitee_bot.gitee.labels_of(pr) == ["cla/no"]


@pytest.mark.parametrize(("action", "state"), [("close", "closed"), ("merge", "merged")])
async def test_a_real_close_is_recorded_once_the_api_agrees(
    gitee_bot: GiteeBot, action: str, state: str
) -> None:
    pr, _ = await checked_pr(gitee_bot)
    pr.state = state
    assert await gitee_bot.deliver(gitee_bot.gitee.merge_request_event(pr, action=action)) == 202
    assert await gitee_bot.run_jobs() == 1
    assert await record(gitee_bot, 1) == (state, 0)


async def test_the_sweep_rechecks_a_pr_recorded_closed_that_is_open(
    gitee_bot: GiteeBot,
) -> None:
    """E.g. recorded closed by an earlier close, then reopened with the reopen lost."""
    pr, blockers = await checked_pr(gitee_bot)
    pr.state = "closed"
    assert await gitee_bot.deliver(gitee_bot.gitee.merge_request_event(pr, action="close")) == 202
    assert await gitee_bot.run_jobs() == 1
    assert await record(gitee_bot, 1) == ("closed", 0)
    pr.state = "open"  # reopened; that delivery never arrived
    assert await gitee_bot.runtime.sweep() == 1
    assert await gitee_bot.run_jobs() == 1
    assert await record(gitee_bot, 1) == ("open", blockers)
    assert await gitee_bot.runtime.sweep() == 0
