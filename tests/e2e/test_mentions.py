"""The bot mentions only logins the forge confirms, and at most 50 people in one comment.

A commit's ``ID+login@users.noreply.github.com`` address is written by whoever commits: the id
is asked of the forge (``GET /user/{account_id}``; Gitee: ``GET /users/{login}`` and the id
compared), and only the login the forge answers is mentioned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.cli.imports import run_import
from bot.sandbox.fakeforge.github import FakeGitHub, FakePR
from bot.services.importer import HEADER
from tests.e2e.conftest import Bot, GiteeBot

REPO = "acme/widgets"
INSTALLATION = 41
USER_BY_ID = "/user/{account_id}"
MENTION = re.compile(r"(?<![\w`])@([A-Za-z0-9][\w.\-\[\]]*)")


def mentions(body: str) -> list[str]:
    return MENTION.findall(body)


async def check(bot: Bot, pr: FakePR, action: str = "opened") -> str:
    gh = bot.github
    event = gh.pull_request_event(pr, action=action, installation_id=INSTALLATION)
    assert await bot.deliver("pull_request", event) == 202
    await bot.run_jobs()
    (comment,) = gh.bot_comments(pr)
    return comment.body


def noreply(account_id: int | str, login: str) -> str:
    return f"{account_id}+{login}@users.noreply.github.com"


async def import_signature(bot: Bot, tmp_path: Path, login: str) -> None:
    user = bot.github.user(login)
    csv_file = tmp_path / f"{login}.csv"
    csv_file.write_text(
        ",".join(HEADER) + f"\ngithub,{login},{user.id},,,individual,1.0,2024-01-01\n"
    )
    assert await run_import(bot.runtime.settings, csv_file) == 0
    await bot.run_jobs()


async def test_a_noreply_author_or_co_author_is_mentioned_only_as_the_forge_confirms(
    bot: Bot,
) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    alice, carol = gh.user("alice"), gh.user("carol")
    gh.user("victim")
    commits = [
        # alice's id with another login: GitHub says the id is alice's
        gh.make_commit(author=("V", noreply(alice.id, "victim"))),
        # an id no account has
        gh.make_commit(author=("V", noreply(987654321, "victim"))),
        # a co-author trailer in bob's commit, with carol's id
        gh.make_commit(
            author=("Bob", "bob@example.com"),
            author_login="bob",
            message=f"Change\n\nCo-authored-by: V <{noreply(carol.id, 'victim')}>",
        ),
    ]
    pr = gh.add_pr(REPO, number=1, author="bob", commits=commits)
    body = await check(bot, pr)
    assert "victim" not in body
    assert sorted(mentions(body)) == ["alice", "bob", "carol"]
    assert "`github:987654321`" in body
    assert [r.path for r in gh.requests if r.route == USER_BY_ID] == [
        f"/user/{alice.id}",
        "/user/987654321",
        f"/user/{carol.id}",
    ]
    # a re-check asks nothing again and changes nothing
    writes = len(gh.writes())
    await check(bot, pr, action="reopened")
    assert gh.count("GET", USER_BY_ID) == 3
    assert len(gh.writes()) == writes


async def test_one_lookup_per_id_per_check(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    alice = gh.user("alice")
    commits = [
        gh.make_commit(
            author=("A", noreply(alice.id, f"name{i}")),
            message=f"Change\n\nCo-authored-by: A <{noreply(alice.id, f'other{i}')}>",
        )
        for i in range(20)
    ]
    pr = gh.add_pr(REPO, number=2, author="alice", commits=commits)
    body = await check(bot, pr)
    assert mentions(body) == ["alice"]
    assert gh.count("GET", USER_BY_ID) == 1


async def test_a_lookup_that_fails_names_without_a_mention_and_is_asked_again(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    alice = gh.user("alice")
    pr = gh.add_pr(
        REPO,
        number=3,
        author="alice",
        commits=[gh.make_commit(author=("A", noreply(alice.id, "x")))],
    )
    gh.inject("GET", USER_BY_ID, status=502)
    body = await check(bot, pr)
    assert mentions(body) == []
    assert f"`github:{alice.id}`" in body
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    gh.add_commit(pr, author=("A", noreply(alice.id, "x")))
    body = await check(bot, pr, action="synchronize")
    assert mentions(body) == ["alice"]
    assert gh.count("GET", USER_BY_ID) == 2


async def test_a_confirmed_noreply_identity_is_covered_by_its_account_id(
    bot: Bot, tmp_path: Path
) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    await import_signature(bot, tmp_path, "alice")
    pr = gh.add_pr(
        REPO,
        number=4,
        author="alice",
        commits=[gh.make_commit(author=("A", noreply(gh.user("alice").id, "old-name")))],
    )
    event = gh.pull_request_event(pr, installation_id=INSTALLATION)
    assert await bot.deliver("pull_request", event) == 202
    await bot.run_jobs()
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "success"
    assert gh.bot_comments(pr) == []


async def test_a_bot_login_in_a_noreply_address_is_not_allowlisted(bot: Bot) -> None:
    gh = bot.github
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    gh.user("dependabot[bot]", type="Bot", user_id=49699333)
    fake_bot = gh.add_pr(
        REPO,
        number=5,
        author="mallory",
        commits=[gh.make_commit(author=("d", noreply(99999999, "dependabot[bot]")))],
    )
    real_bot = gh.add_pr(
        REPO,
        number=6,
        author="mallory",
        commits=[gh.make_commit(author=("d", noreply(49699333, "dependabot[bot]")))],
    )
    for pr in (fake_bot, real_bot):
        event = gh.pull_request_event(pr, installation_id=INSTALLATION)
        assert await bot.deliver("pull_request", event) == 202
    await bot.run_jobs()
    states = [gh.status_for(pr.head_sha, "cla") for pr in (fake_bot, real_bot)]
    assert [s.state if s else None for s in states] == ["failure", "success"]
    (comment,) = gh.bot_comments(fake_bot)
    assert mentions(comment.body) == [] and "`github:99999999`" in comment.body


def blocked_by(gh: FakeGitHub, people: int) -> FakePR:
    gh.add_installation(INSTALLATION, account="acme", repos=[REPO])
    commits = [
        gh.make_commit(author=(f"U{i}", f"u{i}@example.com"), author_login=f"u{i}")
        for i in range(people)
    ]
    return gh.add_pr(REPO, number=7, author="u0", commits=commits)


async def test_a_pr_with_200_unsigned_authors_mentions_exactly_50(bot: Bot) -> None:
    gh = bot.github
    pr = blocked_by(gh, 200)
    body = await check(bot, pr)
    assert mentions(body) == [f"u{i}" for i in range(50)]
    assert re.findall(r"^- and \d+ more$", body, flags=re.MULTILINE) == ["- and 150 more"]
    status = gh.status_for(pr.head_sha, "cla")
    assert status is not None and status.description == "200 contributors must sign the CLA"


async def test_the_status_of_a_pr_lists_at_most_50_people(bot: Bot) -> None:
    gh = bot.github
    pr = blocked_by(gh, 120)
    gh.set_permission(REPO, "mia", "write")
    ask = gh.add_comment(pr, "/cla status", user="mia")
    event: dict[str, Any] = gh.issue_comment_event(ask, installation_id=INSTALLATION)
    assert await bot.deliver("issue_comment", event) == 202
    await bot.run_jobs()
    (reply,) = [c.body for c in gh.bot_comments(pr) if f"reply:{ask.id}:status" in c.body]
    assert mentions(reply) == ["mia", *(f"u{i}" for i in range(50))]
    assert reply.rstrip().endswith("- and 70 more")


async def test_on_gitee_an_id_is_confirmed_by_its_login(gitee_bot: GiteeBot) -> None:
    g = gitee_bot.gitee
    feng, li = g.user("feng"), g.user("li-na")
    commits = [
        g.make_commit(author=("F", f"{feng.id}+feng@user.noreply.gitee.com")),
        # li-na's id with a login nobody has, and a login that is someone else's
        g.make_commit(author=("V", f"{li.id}+victim@user.noreply.gitee.com")),
        g.make_commit(author=("V", "424242+li-na@user.noreply.gitee.com")),
    ]
    pr = g.add_pr("open-cla/demo", number=3, author="feng", commits=commits)
    assert await gitee_bot.deliver(g.merge_request_event(pr)) == 202
    await gitee_bot.run_jobs()
    (comment,) = g.bot_comments(pr)
    assert mentions(comment.body) == ["feng"]
    assert "victim" not in comment.body
    assert f"`gitee:{li.id}`" in comment.body and "`gitee:424242`" in comment.body
    asked = sorted(r.path for r in g.matching("GET", "/users/{username}"))
    assert asked == ["/users/feng", "/users/li-na", "/users/victim"]
