"""GiteeClient (the ForgeClient of the Gitee bot account) against the fake Gitee."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from bot.core.model import Account, CommentRef, GitPerson, RepoRef, StatusState
from bot.platforms import registry
from bot.platforms.base import ForgeClient, ForgeError, ForgeNotFound, StaleCommitList
from bot.platforms.gitee.client import GiteeClient, GiteePlatform, GiteeSettings, TooManyCommits
from bot.platforms.gitee.facts import GITEE
from bot.sandbox.fakeforge.gitee import FakeGitee

REPO = RepoRef(GITEE, "open-cla", "cla-demo")
MARKER = "<!-- cla-bot:status -->"
LABELS = "/repos/{owner}/{repo}/pulls/{number}/labels"
LABEL = "/repos/{owner}/{repo}/pulls/{number}/labels/{name}"
COMMENTS = "/repos/{owner}/{repo}/pulls/{number}/comments"
COMMENT = "/repos/{owner}/{repo}/pulls/comments/{id}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitee]:
    async with FakeGitee(bot_login="cla-robot") as f:
        yield f
        assert f.violations == []


@pytest.fixture
async def platform(fake: FakeGitee) -> AsyncIterator[GiteePlatform]:
    async with aiohttp.ClientSession() as session:
        settings = GiteeSettings(token=fake.token, api_url=fake.url, retry_backoff_s=0)
        yield GiteePlatform(session=session, settings=settings)


@pytest.fixture
def client(platform: GiteePlatform) -> GiteeClient:
    return platform.client(None)


def test_it_is_a_forge_client_without_statuses(client: GiteeClient) -> None:
    forge: ForgeClient = client
    assert forge.platform is GITEE
    assert registry.forge(GITEE).reports.statuses is False  # labels and the comment report
    assert client.installation_id is None
    assert "token" not in repr(client).lower()


def test_settings_hide_the_token() -> None:
    assert "s3cr3t" not in repr(GiteeSettings(token="s3cr3t"))


async def test_get_pull(fake: FakeGitee, client: GiteeClient) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=3, author="li-na", commits=2, labels=["cla/no"])
    got = await client.get_pull(REPO, 3)
    assert got.repo == REPO
    assert got.number == 3
    assert got.head_sha == pr.head_sha and got.base_sha == pr.base_sha
    assert got.state == "open" and got.base_ref == "master"
    assert got.author == Account(GITEE, str(fake.user("li-na").id), "li-na")
    assert got.labels == ("cla/no",)


async def test_a_missing_pull_is_not_found(fake: FakeGitee, client: GiteeClient) -> None:
    fake.add_repo("open-cla/cla-demo")
    with pytest.raises(ForgeNotFound):
        await client.get_pull(REPO, 99)


async def test_list_commits(fake: FakeGitee, client: GiteeClient) -> None:
    linked = fake.make_commit(author=("Li Na", "li.na@example.net"), author_login="li-na")
    unlinked = fake.make_commit(
        author=("Wang Fang", "wang.fang@example.org"), committer=("Gitee", "noreply@gitee.com")
    )
    fake.add_pr("open-cla/cla-demo", number=1, commits=[linked, unlinked])
    pr = await client.get_pull(REPO, 1)
    commits = await client.list_commits(pr)
    assert [c.sha for c in commits] == [linked.sha, unlinked.sha]
    assert commits[0].author_account == Account(GITEE, str(fake.user("li-na").id), "li-na")
    assert commits[1].author == GitPerson("Wang Fang", "wang.fang@example.org")
    assert commits[1].author_account is None and commits[1].committer_account is None
    (rec,) = fake.matching("GET", "/repos/{owner}/{repo}/pulls/{number}/commits")
    assert rec.query == {}  # the endpoint has no paging


async def test_a_newest_first_list_is_put_oldest_first(
    fake: FakeGitee, client: GiteeClient
) -> None:
    fake_pr = fake.add_pr("open-cla/cla-demo", number=1, commits=3)
    fake_pr.commits.reverse()  # as if Gitee listed newest first
    pr = await client.get_pull(REPO, 1)
    commits = await client.list_commits(pr)
    assert commits[-1].sha == pr.head_sha
    assert [c.sha for c in commits] == [c.sha for c in reversed(fake_pr.commits)]


async def test_a_stale_list_raises(fake: FakeGitee, client: GiteeClient) -> None:
    fake_pr = fake.add_pr("open-cla/cla-demo", number=1, commits=2)
    pr = await client.get_pull(REPO, 1)
    fake_pr.commits.pop()  # the list lags behind the head the PR reports
    with pytest.raises(StaleCommitList):
        await client.list_commits(pr)


async def test_more_than_250_commits_cannot_be_checked(
    fake: FakeGitee, client: GiteeClient
) -> None:
    fake.add_pr("open-cla/cla-demo", number=1, commits=260)
    pr = await client.get_pull(REPO, 1)
    with pytest.raises(TooManyCommits):
        await client.list_commits(pr)
    # a known count above the limit fails before any request
    before = len(fake.requests)
    with pytest.raises(TooManyCommits):
        await client.list_commits(replace(pr, commit_count=300))
    assert len(fake.requests) == before


async def test_exactly_250_known_commits_pass(fake: FakeGitee, client: GiteeClient) -> None:
    fake.add_pr("open-cla/cla-demo", number=1, commits=250)
    pr = await client.get_pull(REPO, 1)
    with pytest.raises(TooManyCommits):  # the count is unknown: a full list may be cut off
        await client.list_commits(pr)
    assert len(await client.list_commits(replace(pr, commit_count=250))) == 250


async def test_set_status_is_a_no_op(fake: FakeGitee, client: GiteeClient) -> None:
    await client.set_status(
        REPO,
        "a" * 40,
        state=StatusState.SUCCESS,
        description="All signed",
        context="cla",
        target_url=None,
    )
    assert fake.requests == []


async def test_labels_are_posted_as_a_bare_array(fake: FakeGitee, client: GiteeClient) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=1)
    await client.add_labels(REPO, 1, ["cla/yes"])
    (rec,) = fake.matching("POST", LABELS)
    assert rec.json == ["cla/yes"]
    assert rec.headers["content-type"].startswith("application/json")
    assert fake.labels_of(pr) == ["cla/yes"]
    await client.add_labels(REPO, 1, [])
    assert fake.count("POST", LABELS) == 1


async def test_a_label_with_a_slash_is_removed_as_percent_2f(
    fake: FakeGitee, client: GiteeClient
) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=1, labels=["cla/no", "bug"])
    await client.remove_label(REPO, 1, "cla/no")
    (rec,) = fake.matching("DELETE", LABEL)
    assert rec.raw_path == "/repos/open-cla/cla-demo/pulls/1/labels/cla%2Fno"
    assert fake.labels_of(pr) == ["bug"]


async def test_removing_an_absent_label_is_fine(fake: FakeGitee, client: GiteeClient) -> None:
    fake.add_pr("open-cla/cla-demo", number=1, labels=["bug"])
    await client.remove_label(REPO, 1, "cla/yes")
    assert fake.matching("DELETE", LABEL)[0].status == 404


async def test_find_comment_searches_every_page_for_the_bots_marker(
    fake: FakeGitee, client: GiteeClient
) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=1)
    fake.add_comment(pr, f"{MARKER} I am not the bot", user="mallory")
    for i in range(180):
        fake.add_comment(pr, f"comment {i}")
    mine = fake.add_comment(pr, f"{MARKER}\nstatus", user=fake.bot)
    ref = await client.find_comment(REPO, 1, MARKER)
    assert ref == CommentRef(mine.id, f"{MARKER}\nstatus", "cla-robot", str(fake.bot.id))
    assert fake.count("GET", COMMENTS) == 2
    assert await client.find_comment(REPO, 1, "<!-- other -->") is None
    assert fake.count("GET", "/user") == 1  # the bot login is asked once


async def test_a_configured_bot_login_spares_the_user_call(fake: FakeGitee) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=1)
    fake.add_comment(pr, MARKER, user=fake.bot)
    async with aiohttp.ClientSession() as session:
        settings = GiteeSettings(token=fake.token, api_url=fake.url, bot_login="CLA-Robot")
        client = GiteePlatform(session=session, settings=settings).client()
        assert await client.find_comment(REPO, 1, MARKER) is not None
    assert fake.count("GET", "/user") == 0


async def test_bot_login(fake: FakeGitee, platform: GiteePlatform) -> None:
    assert await platform.bot_login() == "cla-robot"
    assert await platform.bot_login() == "cla-robot"
    assert fake.count("GET", "/user") == 1


async def test_create_and_edit_a_comment(fake: FakeGitee, client: GiteeClient) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=1)
    comment_id = await client.create_comment(REPO, 1, f"{MARKER}\nfirst")
    (created,) = fake.matching("POST", COMMENTS)
    assert created.raw_path == "/repos/open-cla/cla-demo/pulls/1/comments"
    assert created.json == {"body": f"{MARKER}\nfirst"}

    await client.edit_comment(REPO, comment_id, f"{MARKER}\nsecond")
    (edited,) = fake.matching("PATCH", COMMENT)
    assert edited.raw_path == f"/repos/open-cla/cla-demo/pulls/comments/{comment_id}"
    assert edited.json == {"body": f"{MARKER}\nsecond"}
    assert [c.body for c in fake.bot_comments(pr)] == [f"{MARKER}\nsecond"]
    assert fake.count("DELETE", COMMENT) == 0

    ref = await client.get_comment(REPO, comment_id)
    assert ref == CommentRef(comment_id, f"{MARKER}\nsecond", "cla-robot", str(fake.bot.id))
    assert fake.matching("GET", COMMENT)[0].raw_path.endswith(f"/pulls/comments/{comment_id}")


async def test_a_missing_comment_is_none(fake: FakeGitee, client: GiteeClient) -> None:
    fake.add_repo("open-cla/cla-demo")
    assert await client.get_comment(REPO, 424242) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("admin", "admin"),
        ("write", "write"),
        ("push", "write"),
        ("read", "read"),
        ("pull", "read"),
        ("Admin", "admin"),
        ("owner?", "none"),
    ],
)
async def test_permission(fake: FakeGitee, client: GiteeClient, value: str, expected: str) -> None:
    fake.add_repo("open-cla/cla-demo")
    fake.set_permission("open-cla/cla-demo", "li-na", value)
    assert await client.get_permission(REPO, "li-na") == expected


async def test_no_collaborator_means_no_permission(fake: FakeGitee, client: GiteeClient) -> None:
    fake.add_repo("open-cla/cla-demo")
    assert await client.get_permission(REPO, "stranger") == "none"


MEMBERSHIP = "/orgs/{org}/memberships/{username}"


async def test_owner_role_of_an_organisation(fake: FakeGitee, client: GiteeClient) -> None:
    fake.set_membership("open-cla", "cla-robot", "member")  # the bot account is in the org
    fake.set_membership("open-cla", "Li-Na", "admin")
    fake.set_membership("open-cla", "feng", "member")
    fake.set_membership("open-cla", "waiting", "admin", active=False)
    fake.user("stranger")
    assert await client.owner_role("open-cla", "li-na") == "admin"
    assert await client.owner_role("Open-CLA", "feng") == "member"
    assert await client.owner_role("open-cla", "waiting") == "none"
    assert await client.owner_role("open-cla", "stranger") == "none"  # 404
    asked = [r.path for r in fake.matching("GET", MEMBERSHIP)]
    assert asked == [
        "/orgs/open-cla/memberships/li-na",
        "/orgs/Open-CLA/memberships/feng",
        "/orgs/open-cla/memberships/waiting",
        "/orgs/open-cla/memberships/stranger",
    ]


async def test_owner_role_of_a_personal_namespace_and_an_unseen_organisation(
    fake: FakeGitee, client: GiteeClient
) -> None:
    fake.user("li-na")
    fake.set_membership("elsewhere", "li-na", "admin")  # the bot account is not a member
    assert await client.owner_role("Li-Na", "li-na") == "admin"  # her own namespace
    assert fake.count("GET", MEMBERSHIP) == 0
    assert await client.owner_role("li-na", "feng") == "none"  # not an organisation: 404
    assert await client.owner_role("elsewhere", "li-na") == "none"
    assert fake.count("GET", MEMBERSHIP) == 2


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"role": "admin", "active": "true"}, "admin"),  # the swagger's string
        ({"role": "admin", "active": "false"}, "none"),
        ({"role": "viewer", "active": True}, "member"),  # a role Gitee may add: not admin
        ({"active": True}, "none"),
    ],
)
async def test_owner_role_reads_the_answer_defensively(
    fake: FakeGitee, client: GiteeClient, answer: dict[str, object], expected: str
) -> None:
    fake.set_membership("open-cla", "cla-robot")
    fake.inject("GET", MEMBERSHIP, status=200, body=answer)
    assert await client.owner_role("open-cla", "li-na") == expected


async def test_owner_role_failures_are_forge_errors(fake: FakeGitee, client: GiteeClient) -> None:
    fake.set_membership("open-cla", "cla-robot")
    fake.inject("GET", MEMBERSHIP, status=403, body={"message": "403 Forbidden"})
    with pytest.raises(ForgeError) as err:
        await client.owner_role("open-cla", "li-na")
    assert err.value.status == 403
    fake.inject("GET", MEMBERSHIP, status=200, body=["not", "an", "object"])
    with pytest.raises(ForgeError):
        await client.owner_role("open-cla", "li-na")


USER = "/users/{username}"


async def test_user_by_id_asks_by_login_and_compares_the_id(
    fake: FakeGitee, client: GiteeClient
) -> None:
    feng = fake.user("feng")
    other = fake.user("li-na")
    assert await client.user_by_id(str(feng.id), login="Feng") == Account(
        GITEE, str(feng.id), "feng"
    )
    assert await client.user_by_id(str(feng.id), login="li-na") is None  # another account's id
    assert await client.user_by_id(str(other.id), login="nobody-here") is None  # 404
    assert [r.path for r in fake.matching("GET", USER)] == [
        "/users/Feng",
        "/users/li-na",
        "/users/nobody-here",
    ]
    assert await client.user_by_id(str(feng.id)) is None  # no login: Gitee cannot be asked
    assert fake.count("GET", USER) == 3


async def test_the_platform_gives_the_same_account_for_any_installation(
    platform: GiteePlatform,
) -> None:
    assert platform.client(None).api is platform.client(123).api


async def test_user_by_login_gives_the_account_id(fake: FakeGitee, client: GiteeClient) -> None:
    fake.user("Zhang-San", user_id=8_123_456)
    assert await client.user_by_login("zhang-san") == Account(GITEE, "8123456", "Zhang-San")
    assert await client.user_by_login("nobody-at-all") is None
    assert [r.status for r in fake.requests if r.route == "/users/{username}"] == [200, 404]
