"""Pull requests of AI agents on (fake) GitHub, with the stock configuration (`ai_agents: allow`).

The Copilot coding agent's shapes, as GitHub makes them: the PR is opened by the account
``Copilot`` (id 198982749, type ``Bot``) from a ``copilot/…`` branch as a draft; its commits are
authored ``copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>`` and linked to
that account; the first one ("Initial plan") has no trailer, the others name the person who
asked as a co-author with their noreply address (github/github-mcp-server#1806; GitHub's docs:
"commits are authored by Copilot, with the developer who assigned the issue or requested the
change to the pull request marked as the co-author").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.cli.imports import run_import
from bot.services.importer import HEADER
from tests.e2e.conftest import Bot

REPO = "acme/widgets"
INSTALLATION = 31
COPILOT_ID = 198982749
COPILOT_EMAIL = f"{COPILOT_ID}+Copilot@users.noreply.github.com"


def copilot_pr(bot: Bot, *, number: int, asker: str) -> Any:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    gh.user("Copilot", type="Bot", user_id=COPILOT_ID)
    person = gh.user(asker)
    agent = ("copilot-swe-agent[bot]", COPILOT_EMAIL)
    plan = gh.make_commit(message="Initial plan", author=agent, author_login="Copilot")
    work = gh.make_commit(
        message=(
            "Fix the parser on empty input\n\n"
            f"Co-authored-by: {asker} <{person.id}+{asker}@users.noreply.github.com>"
        ),
        author=agent,
        author_login="Copilot",
    )
    return gh.add_pr(
        REPO,
        number=number,
        author="Copilot",
        commits=[plan, work],
        head_ref="copilot/fix-parser",
        draft=True,
    )


async def sign(bot: Bot, tmp_path: Path, login: str) -> None:
    csv_file = tmp_path / f"{login}.csv"
    user_id = bot.github.user(login).id
    csv_file.write_text(
        ",".join(HEADER) + f"\ngithub,{login},{user_id},,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(bot.runtime.settings, csv_file) == 0


async def test_a_copilot_pr_whose_asker_signed_passes(bot: Bot, tmp_path: Path) -> None:
    gh = bot.github
    await sign(bot, tmp_path, "mona")
    pr = copilot_pr(bot, number=40, asker="mona")
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    assert await bot.run_jobs() == 1
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.labels_of(pr) == ["cla/yes"]
    assert gh.bot_comments(pr) == []  # covered from the start: nothing to say


async def test_a_copilot_pr_waits_for_the_person_who_asked(bot: Bot, tmp_path: Path) -> None:
    gh = bot.github
    pr = copilot_pr(bot, number=41, asker="mona")
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    assert await bot.run_jobs() == 1

    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert status.description == "1 contributor must sign the CLA"
    assert gh.labels_of(pr) == ["cla/no"]
    (comment,) = gh.bot_comments(pr)
    sections = re.split(r"\n\n(?=\*\*)", comment.body)
    (sign_section,) = [s for s in sections if s.startswith("**Co-authors who must sign")]
    assert "@mona" in sign_section and "Copilot" not in sign_section
    (note,) = [s for s in sections if s.startswith("**AI agents need no signature here.**")]
    shas = ", ".join(f"`{c.sha[:7]}`" for c in pr.commits)
    assert f"- GitHub Copilot coding agent: {shas}" in note
    assert "@Copilot" not in comment.body  # a mention would set the agent to work
    assert "Anyone can re-run it with a comment `/cla check` (or `recheck`)." in comment.body

    # mona signs; anyone's `recheck` (CLA Assistant Lite's word) runs the check again
    await sign(bot, tmp_path, "mona")
    await bot.run_jobs()  # the re-check the signature queued
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.labels_of(pr) == ["cla/yes"]
    (edited,) = gh.bot_comments(pr)
    assert edited.id == comment.id
    assert "All contributors are covered" in edited.body
    assert "AI agents need no signature here." in edited.body and "@mona" not in edited.body


async def test_recheck_runs_the_check(bot: Bot) -> None:
    gh = bot.github
    pr = copilot_pr(bot, number=42, asker="mona")
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    await bot.run_jobs()
    listed = gh.count("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
    comment = gh.add_comment(pr, "recheck", user="hubot")
    assert (
        await bot.deliver(
            "issue_comment", gh.issue_comment_event(comment, installation_id=INSTALLATION)
        )
        == 202
    )
    assert await bot.run_jobs() == 1
    assert gh.count("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits") == listed + 1


async def test_an_agent_address_linked_to_a_stranger_names_nobody(bot: Bot, tmp_path: Path) -> None:
    """Claude Code's default identity ``claude-code@anthropic.com`` was added by a stranger to
    their account, so GitHub links the agent's commits to them: the bot still sees Claude, and
    neither asks the stranger to sign nor mentions them."""
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    await sign(bot, tmp_path, "dev")
    own = gh.make_commit(
        message="Add the endpoint", author=("Dev", "dev@example.com"), author_login="dev"
    )
    agent = gh.make_commit(
        message="Handle errors",
        author=("claude-code", "claude-code@anthropic.com"),
        author_login="karim",
    )
    pr = gh.add_pr(REPO, number=43, author="dev", commits=[own, agent])
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    assert await bot.run_jobs() == 1
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.bot_comments(pr) == []


async def test_a_claude_trailer_linked_to_a_stranger_names_nobody(bot: Bot, tmp_path: Path) -> None:
    """GitHub links ``Co-Authored-By: Claude <noreply@anthropic.com>`` to whoever added that
    address to their account (anthropics/claude-code#1653): the co-author is still Claude."""
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    gh.set_emails("squatter", ("noreply@anthropic.com", True))
    await sign(bot, tmp_path, "dev")
    work = gh.make_commit(
        message="Handle errors\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>",
        author=("Dev", "dev@example.com"),
        author_login="dev",
    )
    pr = gh.add_pr(REPO, number=44, author="dev", commits=[work])
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    assert await bot.run_jobs() == 1
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.bot_comments(pr) == []
