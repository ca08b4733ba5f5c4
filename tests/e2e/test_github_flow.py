"""From a signed delivery to what the PR shows on (fake) GitHub, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.cli.imports import run_import
from bot.services.importer import HEADER
from bot.storage.models import Job, PrBlocker, PrCheck
from tests.e2e.conftest import Bot

REPO = "acme/widgets"
INSTALLATION = 31


def scenario(bot: Bot) -> Any:
    """alice (unsigned) commits once with her linked account and once with an email GitHub
    could not link; dependabot (allowlisted) commits once."""
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    c1 = gh.make_commit(
        message="Add feature", author=("Alice", "alice@example.com"), author_login="alice"
    )
    c2 = gh.make_commit(message="Fix typo", author=("Alice", "joanne.alice@corp.example"))
    c3 = gh.make_commit(
        message="Bump lib",
        author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        author_login="dependabot[bot]",
    )
    gh.user("dependabot[bot]", type="Bot")
    return gh.add_pr(REPO, number=5, author="alice", commits=[c1, c2, c3])


async def test_unsigned_then_imported_then_rechecked(bot: Bot, tmp_path: Path) -> None:
    gh = bot.github
    pr = scenario(bot)
    assert (
        await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
        == 202
    )
    assert await bot.run_jobs() == 1

    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert status.target_url and status.target_url.startswith("https://cla.example.org/sign/")
    assert "alice@example.com" not in status.description
    assert gh.labels_of(pr) == ["cla/no"]
    comments = gh.bot_comments(pr)
    assert len(comments) == 1
    body = comments[0].body
    assert body.startswith("<!-- cla-bot -->")
    assert "@alice" in body
    assert "jo***@corp.example" in body and "joanne.alice@corp.example" not in body
    assert pr.commits[1].sha[:7] in body  # which commit
    assert "git commit --amend" in body and "/settings/emails" in body  # the exact fix
    assert "dependabot" not in body  # allowlisted bots are not asked to sign
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", body.replace("jo***@corp.example", "")), (
        "full email"
    )

    # The PR's blockers are stored without any email in clear.
    async with bot.runtime.sessions() as s:
        keys = {b.identity_key for b in (await s.scalars(select(PrBlocker))).all() if b.blocking}
    alice_id = gh.user("alice").id
    assert f"github:{alice_id}" in keys
    assert all("@" not in k for k in keys)

    # A re-check that changes nothing writes nothing.
    writes_before = len(gh.writes())
    await bot.deliver(
        "pull_request", gh.pull_request_event(pr, action="reopened", installation_id=INSTALLATION)
    )
    await bot.run_jobs()
    assert len(gh.writes()) == writes_before

    # alice's signature arrives by import, covering her account and her other email.
    csv_file = tmp_path / "sigs.csv"
    csv_file.write_text(
        ",".join(HEADER) + "\n"
        f"github,alice,{alice_id},Joanne.Alice@Corp.Example,Alice Example,individual,1.0,2024-05-01T10:00:00Z\n"
    )
    assert await run_import(bot.runtime.settings, csv_file) == 0

    comment = gh.add_comment(pr, "Signed! /cla check", user="alice")
    comment.body = "Signed!\n/cla check"
    assert (
        await bot.deliver(
            "issue_comment", gh.issue_comment_event(comment, installation_id=INSTALLATION)
        )
        == 202
    )
    assert await bot.run_jobs() == 1

    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.labels_of(pr) == ["cla/yes"]
    after = gh.bot_comments(pr)
    assert len(after) == 1 and after[0].id == comments[0].id  # edited in place
    assert "All contributors are covered" in after[0].body
    assert gh.count("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments") == 1
    assert gh.count("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}") == 1
    async with bot.runtime.sessions() as s:
        check = (await s.scalars(select(PrCheck))).one()
        assert check.outcome == "covered" and check.comment_id == comments[0].id
        assert all(not b.blocking for b in (await s.scalars(select(PrBlocker))).all())
        # the re-check queued by the import and the /cla check ran as one evaluation
        assert sorted(j.status for j in (await s.scalars(select(Job))).all()) == [
            "coalesced",
            "done",
            "done",
            "done",
        ]


async def test_all_signed_pr_costs_four_requests_and_no_comment(bot: Bot, tmp_path: Path) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=9, author="bob", commits=2)
    csv_file = tmp_path / "s.csv"
    csv_file.write_text(
        ",".join(HEADER) + f"\ngithub,bob,{gh.user('bob').id},,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(bot.runtime.settings, csv_file) == 0
    # warm the token: one unrelated check first
    other = gh.add_pr(REPO, number=10, author="bob", commits=1)
    await bot.deliver("pull_request", gh.pull_request_event(other, installation_id=INSTALLATION))
    await bot.run_jobs()
    before = len(gh.requests)
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    await bot.run_jobs()
    made = [(r.method, r.route) for r in gh.requests[before:]]
    assert made == [
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"),
        ("POST", "/repos/{owner}/{repo}/check-runs"),
        ("POST", "/repos/{owner}/{repo}/statuses/{sha}"),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ]
    assert gh.bot_comments(pr) == []
    assert gh.status_for(pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]


async def test_new_push_is_checked_on_the_new_head(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=3, author="carol", commits=1)
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    await bot.run_jobs()
    first_head = pr.head_sha
    gh.add_commit(pr, author=("Carol", "carol@example.com"), author_login="carol")
    await bot.deliver(
        "pull_request",
        gh.pull_request_event(pr, action="synchronize", installation_id=INSTALLATION),
    )
    await bot.run_jobs()
    assert pr.head_sha != first_head
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]
    assert len(gh.bot_comments(pr)) == 1


async def test_burst_of_events_for_one_head_is_one_evaluation(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=4, author="dave", commits=1)
    for action in ("opened", "synchronize", "synchronize", "reopened", "synchronize"):
        assert (
            await bot.deliver(
                "pull_request",
                gh.pull_request_event(pr, action=action, installation_id=INSTALLATION),
            )
            == 202
        )
    assert await bot.run_jobs() == 1
    assert gh.count("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits") == 1
    async with bot.runtime.sessions() as s:
        statuses = sorted(j.status for j in (await s.scalars(select(Job))).all())
    assert statuses == ["coalesced"] * 4 + ["done"]


async def test_comment_found_among_hundreds_when_the_record_was_lost(bot: Bot) -> None:
    """A worker that created the comment and died before recording it: the next run finds the
    comment on a late page instead of posting a second one."""
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=6, author="erin", commits=1)
    for i in range(230):
        gh.add_comment(pr, f"chatter {i}", user="someone")
    ours = gh.add_comment(pr, "<!-- cla-bot -->\nold text", user=gh.bot)
    for i in range(40):
        gh.add_comment(pr, f"more chatter {i}", user="someone")
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    await bot.run_jobs()
    assert [c.id for c in gh.bot_comments(pr)] == [ours.id]
    assert "@erin" in ours.body


async def test_forge_outage_is_retried_then_succeeds(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=8, author="frank", commits=1)
    gh.inject("POST", "/repos/{owner}/{repo}/statuses/{sha}", status=502, times=1)
    await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    await bot.run_jobs()
    async with bot.runtime.sessions() as s:
        job = (await s.scalars(select(Job))).one()
        assert job.status == "queued" and job.attempts == 1 and "502" in (job.last_error or "")
        job.run_after = job.created_at  # skip the backoff wait
        await s.commit()
    await bot.run_jobs()
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]
    assert len(gh.bot_comments(pr)) == 1


async def test_an_imported_signature_turns_every_blocked_pr_green_by_itself(
    bot: Bot, tmp_path: Path
) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO, "acme/other"])
    prs = [
        gh.add_pr(REPO, number=20, author="gina"),
        gh.add_pr("acme/other", number=2, author="gina"),
    ]
    for pr in prs:
        await bot.deliver("pull_request", gh.pull_request_event(pr, installation_id=INSTALLATION))
    await bot.run_jobs()
    assert all(gh.status_for(pr.head_sha, "cla").state == "failure" for pr in prs)  # type: ignore[union-attr]
    csv_file = tmp_path / "g.csv"
    csv_file.write_text(
        ",".join(HEADER) + f"\ngithub,gina,{gh.user('gina').id},,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(bot.runtime.settings, csv_file) == 0
    assert await bot.run_jobs() == 2  # no push, no comment
    for pr in prs:
        assert gh.status_for(pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]
        assert gh.labels_of(pr) == ["cla/yes"]
        assert len(gh.bot_comments(pr)) == 1
