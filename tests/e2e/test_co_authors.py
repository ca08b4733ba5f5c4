"""Co-authors named as co-authors, linked to accounts as GitHub links them (GraphQL
``Commit.authors``), and the bot's own comment told apart from another App's."""

from __future__ import annotations

import re
from pathlib import Path

from bot.sandbox.fakeforge.github import FakePR
from tests.e2e.conftest import Bot
from tests.e2e.test_mentions import import_signature  # a signature by account id, no email

REPO = "acme/widgets"
INSTALLATION = 71
GRAPHQL = "/graphql"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9][\w.\-\[\]]*)")


async def opened(bot: Bot, pr: FakePR) -> None:
    event = bot.github.pull_request_event(pr, installation_id=INSTALLATION)
    assert await bot.deliver("pull_request", event) == 202
    await bot.run_jobs()


def coauthored_pr(bot: Bot, *trailers: str, number: int = 5) -> FakePR:
    gh = bot.github
    lines = "\n".join(f"Co-authored-by: {t}" for t in trailers)
    commit = gh.make_commit(
        message=f"Compute the trajectory\n\n{lines}",
        author=("Alan Turing", "alan@example.com"),
        author_login="alan",
    )
    return gh.add_pr(REPO, number=number, author="alan", commits=[commit])


async def test_a_co_author_with_a_verified_email_is_named_by_login_and_covered_by_account(
    bot: Bot, tmp_path: Path
) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    gh.user("katherine")
    gh.set_emails("katherine", ("katherine@example.com", True))
    await import_signature(bot, tmp_path, "alan")
    pr = coauthored_pr(bot, "Katherine Johnson <katherine@example.com>")
    await opened(bot, pr)
    (comment,) = gh.bot_comments(pr)
    assert MENTION.findall(comment.body) == ["katherine"]
    assert "Co-authors who must sign the CLA too" in comment.body
    assert "not attached to any account" not in comment.body and "--author" not in comment.body
    assert "katherine@example.com" not in comment.body
    assert gh.count("POST", GRAPHQL) == 1
    assert gh.status_for(pr.head_sha, "cla").state == "failure"  # type: ignore[union-attr]

    # Her signature is found by her account id: the PR turns green by itself.
    await import_signature(bot, tmp_path, "katherine")
    assert gh.status_for(pr.head_sha, "cla").state == "success"  # type: ignore[union-attr]
    (edited,) = gh.bot_comments(pr)
    assert edited.id == comment.id and "All contributors are covered" in edited.body


async def test_an_unlinked_co_author_is_named_by_the_trailer_with_the_fix_that_fits(
    bot: Bot, tmp_path: Path
) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    await import_signature(bot, tmp_path, "alan")
    pr = coauthored_pr(bot, "Dorothy Vaughan <dorothy@old-laptop.example>")
    await opened(bot, pr)
    (comment,) = gh.bot_comments(pr)
    assert "- Dorothy Vaughan (`do***@old-laptop.example`): " in comment.body
    assert "corrects the trailer" in comment.body and "--author" not in comment.body
    assert MENTION.findall(comment.body.replace("do***@", "")) == []
    assert "dorothy@old-laptop.example" not in comment.body


async def test_no_graphql_for_a_pr_without_trailers(bot: Bot, tmp_path: Path) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    pr = gh.add_pr(REPO, number=6, author="bob", commits=3)
    await opened(bot, pr)
    assert MENTION.findall(gh.bot_comments(pr)[0].body) == ["bob"]
    assert gh.count("POST", GRAPHQL) == 0


async def test_another_apps_comment_with_our_marker_is_never_edited(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    prs = [gh.add_pr(REPO, number=n, author="bob", commits=1) for n in (7, 8)]
    impostor = gh.user("other-cla-bot[bot]", type="Bot")
    theirs = [
        gh.add_comment(pr, "<!-- cla-bot -->\nSomeone else's check", user=impostor) for pr in prs
    ]
    for pr in prs:
        await opened(bot, pr)
    for pr, other in zip(prs, theirs, strict=True):
        assert other.body == "<!-- cla-bot -->\nSomeone else's check"  # untouched
        ours = [c for c in gh.bot_comments(pr) if c.user is gh.bot]
        assert len(ours) == 1 and MENTION.findall(ours[0].body) == ["bob"]
    assert gh.count("POST", COMMENTS) == 2
    assert gh.count("GET", "/app") == 1  # once for the process, not per comment
