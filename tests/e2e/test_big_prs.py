"""PRs of more than 250 commits, on installations with and without *Contents: read*.

``GET …/pulls/{n}/commits`` lists 250 commits at most; the rest come from ``compare``, which
needs *Contents: read* (GitHub's "Permissions required for GitHub Apps"). The manifest asks for
it; an installation whose owner has not accepted it yet gets a clear comment and status, and its
job ends instead of being retried.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.imports import run_import
from bot.sandbox.fakeforge.github import FakePR, manifest_permissions
from bot.services.importer import HEADER
from bot.storage.models import Job
from tests.e2e.conftest import Bot

REPO = "acme/private-widgets"
INSTALLATION = 61
COMPARE = "/repos/{owner}/{repo}/compare/{basehead}"
MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9][\w.\-\[\]]*)")


async def big_pr(bot: Bot, tmp_path: Path, permissions: dict[str, str]) -> FakePR:
    """255 commits by alice (signed), then 5 by bob (unsigned), in a private repository."""
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO], permissions=permissions)
    gh.repo(REPO).private = True
    csv_file = tmp_path / "alice.csv"
    alice = gh.user("alice")
    csv_file.write_text(
        ",".join(HEADER) + f"\ngithub,alice,{alice.id},,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(bot.runtime.settings, csv_file) == 0
    pr = gh.add_pr(REPO, number=3, author="alice", commits=255)
    for i in range(5):
        gh.add_commit(
            pr, message=f"Late fix {i}", author=("Bob", "bob@example.com"), author_login="bob"
        )
    return pr


async def comment_check(bot: Bot, pr: FakePR) -> None:
    gh = bot.github
    comment = gh.add_comment(pr, "/cla check", user="alice")
    event = gh.issue_comment_event(comment, installation_id=INSTALLATION)
    assert await bot.deliver("issue_comment", event) == 202
    await bot.run_jobs()


async def test_a_260_commit_pr_names_the_unsigned_author_of_its_last_commits(
    bot: Bot, tmp_path: Path
) -> None:
    gh = bot.github
    pr = await big_pr(bot, tmp_path, dict(manifest_permissions()))
    assert "contents" in gh.installations[INSTALLATION].permissions  # the manifest asks for it
    event = gh.pull_request_event(pr, installation_id=INSTALLATION)
    assert await bot.deliver("pull_request", event) == 202
    assert await bot.run_jobs() == 1
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    (comment,) = gh.bot_comments(pr)
    assert MENTION.findall(comment.body) == ["bob"]
    assert gh.count("GET", COMPARE) == 3  # 100 + 100 + 60


async def test_without_contents_read_the_pr_says_what_to_accept_and_the_job_ends(
    bot: Bot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gh = bot.github
    granted = {k: v for k, v in manifest_permissions().items() if k != "contents"}
    pr = await big_pr(bot, tmp_path, granted)
    event = gh.pull_request_event(pr, installation_id=INSTALLATION)
    with caplog.at_level(logging.WARNING, logger="bot.checks"):
        assert await bot.deliver("pull_request", event) == 202
        assert await bot.run_jobs() == 1
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "error"
    assert status.description == (
        "The CLA check needs the App permission Contents: read: an owner must accept it"
    )
    (comment,) = gh.bot_comments(pr)
    assert "waiting for a permission" in comment.body
    assert "**Contents: read**" in comment.body and "Review request" in comment.body
    assert "/cla check" in comment.body and MENTION.findall(comment.body) == []
    assert "cla/yes" not in gh.labels_of(pr)
    assert f"installation {INSTALLATION} lacks Contents: read" in caplog.text
    async with bot.runtime.sessions() as s:
        jobs = (await s.scalars(select(Job))).all()
    assert [(j.status, j.attempts) for j in jobs if j.kind == "check"] == [("done", 1)]
    assert gh.count("GET", COMPARE) == 1  # no retry: nothing but an owner can change this

    # Asked again before anything changed: the same answer, nothing written.
    writes = len(gh.writes())
    await comment_check(bot, pr)
    assert len(gh.writes()) == writes and gh.count("GET", COMPARE) == 2

    # An owner accepts the new permission; the next check (with a new token) goes through.
    gh.installations[INSTALLATION].permissions = dict(manifest_permissions())
    await comment_check(bot, pr)
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    (edited,) = gh.bot_comments(pr)
    assert edited.id == comment.id and MENTION.findall(edited.body) == ["bob"]
