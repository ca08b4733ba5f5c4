"""GitHubClient against the fake GitHub over loopback HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.core.model import Account, PullRequest, RepoRef, StatusState
from bot.platforms.base import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    MissingPermission,
    RateLimited,
    RetryableForgeError,
    StaleCommitList,
)
from bot.platforms.github.client import (
    GitHubClient,
    GitHubPlatform,
    GitHubSettings,
    accepted_permissions,
)
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub, FakePR, manifest_permissions
from tests.platforms.conftest import NOW, Clock

APP_ID = "4242"
INSTALLATION = 7
REPO = RepoRef(GITHUB, "octo", "hello")
MARKER = "<!-- cla-bot -->"
PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"
PULL_COMMITS = "/repos/{owner}/{repo}/pulls/{pull_number}/commits"
COMPARE = "/repos/{owner}/{repo}/compare/{basehead}"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
TOKEN_ROUTE = "/app/installations/{installation_id}/access_tokens"
GRAPHQL = "/graphql"
LABELS = "/repos/{owner}/{repo}/issues/{issue_number}/labels"


MakeClient = Callable[..., GitHubClient]


@pytest.fixture
def clock(fake_github: FakeGitHub) -> Clock:
    c = Clock()
    fake_github.clock = c
    return c


@pytest.fixture
def make_client(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> MakeClient:
    fake_github.add_installation(INSTALLATION, repos=[REPO.full_name])

    def make(**settings: object) -> GitHubClient:
        base: dict[str, object] = {
            "app_id": APP_ID,
            "private_key": app_keys.private_pem,
            "api_url": fake_github.url,
        }
        base.update(settings)
        platform = GitHubPlatform(
            session=http_session,
            settings=GitHubSettings(**base),  # type: ignore[arg-type]
            clock=clock,
        )
        return platform.client(INSTALLATION)

    return make


@pytest.fixture
def client(make_client: MakeClient) -> GitHubClient:
    return make_client()


async def pull(client: GitHubClient, pr: FakePR) -> PullRequest:
    return await client.get_pull(REPO, pr.number)


# -- reading a PR ----------------------------------------------------------------------------------


async def test_get_pull_translates_the_answer(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello", author="alice", commits=2, labels=["bug"], draft=True)
    got = await pull(client, pr)
    assert got.repo.full_name == "octo/hello" and got.repo.repo_id == pr.repo.id
    assert (got.number, got.head_sha, got.base_sha) == (pr.number, pr.head_sha, pr.base_sha)
    assert got.base_ref == "main" and got.state == "open" and got.draft
    assert got.author is not None and got.author.login == "alice"
    assert got.labels == ("bug",) and got.commit_count == 2
    assert got.installation_id == INSTALLATION


async def test_list_commits_identities(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello", commits=0)
    fake_github.add_commit(pr, author=("Bob", "bob@example.com"), author_login="bob")
    fake_github.add_commit(pr, author=("Unlinked", "who@nowhere.test"))
    fake_github.add_commit(
        pr,
        author=("Carol", "carol@example.com"),
        committer=("GitHub", "noreply@github.com"),
        author_login="carol",
        committer_login="web-flow",
    )
    commits = await client.list_commits(await pull(client, pr))
    assert [c.sha for c in commits] == [c.sha for c in pr.commits]
    bob, unlinked, carol = commits
    assert bob.author.email == "bob@example.com" and bob.author_account is not None
    assert bob.author_account.login == "bob"
    assert unlinked.author_account is None and unlinked.author.name == "Unlinked"
    assert carol.committer.email == "noreply@github.com"
    assert carol.committer_account is not None and carol.committer_account.login == "web-flow"


async def test_260_commits_use_compare(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello", commits=260)
    info = await pull(client, pr)
    assert info.commit_count == 260
    commits = await client.list_commits(info)
    assert [c.sha for c in commits] == [c.sha for c in pr.commits]
    assert fake_github.count("GET", PULL_COMMITS) == 0
    assert fake_github.count("GET", COMPARE) == 3  # 100 + 100 + 60
    assert all(r.query.get("per_page") == "100" for r in fake_github.requests if r.route == COMPARE)


async def test_unknown_count_with_full_250_falls_back_to_compare(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello", commits=260)
    info = dataclasses.replace(await pull(client, pr), commit_count=None, base_sha=None)
    commits = await client.list_commits(info)
    assert len(commits) == 260 and commits[-1].sha == pr.head_sha
    assert fake_github.count("GET", PULL_COMMITS) == 3  # 100 + 100 + 50: GitHub stops at 250
    assert fake_github.count("GET", COMPARE) == 3


async def test_compare_pages_name_the_last_commits_author(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello", commits=255)
    for _ in range(5):
        fake_github.add_commit(pr, author=("Bob", "bob@example.com"), author_login="bob")
    commits = await client.list_commits(await pull(client, pr))
    assert len(commits) == 260 and len({c.sha for c in commits}) == 260
    assert [c.author_account.login for c in commits[-5:] if c.author_account] == ["bob"] * 5
    pages = [r.query for r in fake_github.requests if r.route == COMPARE]
    assert pages == [{"per_page": "100", "page": str(n)} for n in (1, 2, 3)]


async def test_compare_without_contents_read_names_the_missing_permission(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    granted = {k: v for k, v in manifest_permissions().items() if k != "contents"}
    fake_github.installations[INSTALLATION].permissions = granted
    pr = fake_github.add_pr("octo/hello", commits=260)
    with pytest.raises(MissingPermission) as err:
        await client.list_commits(await pull(client, pr))
    assert err.value.accepted == ((("contents", "read"),),)
    assert err.value.status == 403 and not isinstance(err.value, RetryableForgeError)
    assert fake_github.count("GET", COMPARE) == 1  # asked once, not retried
    # An owner accepts: the token held the old permissions, so the next call mints a new one.
    fake_github.installations[INSTALLATION].permissions = dict(manifest_permissions())
    assert len(await client.list_commits(await pull(client, pr))) == 260
    assert fake_github.count("POST", TOKEN_ROUTE) == 2


async def test_compare_short_of_total_commits_is_retried(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello", commits=260)
    fake_github.inject("GET", COMPARE, status=200, body={"total_commits": 260, "commits": []})
    with pytest.raises(RetryableForgeError) as err:
        await client.list_commits(await pull(client, pr))
    assert "compare listed 0 commits (0 distinct) of 260" in str(err.value)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("contents=read", ((("contents", "read"),),)),
        (
            "pull_requests=read,contents=read; issues=read,contents=read",
            (
                (("pull_requests", "read"), ("contents", "read")),
                (("issues", "read"), ("contents", "read")),
            ),
        ),
        (" Checks=Write ", ((("checks", "write"),),)),
        ("", ()),
        ("nonsense; =read, x=owner", ()),
    ],
)
def test_accepted_permissions(
    header: str, expected: tuple[tuple[tuple[str, str], ...], ...]
) -> None:
    assert accepted_permissions(header) == expected


async def test_exactly_250_commits_need_no_compare(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello", commits=250)
    commits = await client.list_commits(await pull(client, pr))
    assert len(commits) == 250
    assert fake_github.count("GET", COMPARE) == 0


async def test_stale_commit_list(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello", commits=3)
    info = await pull(client, pr)
    # a push the commits endpoint does not show yet: the payload's head is newer
    fake_github.add_commit(pr, move_head=True)
    pr.commits.pop()
    with pytest.raises(StaleCommitList):
        await client.list_commits(dataclasses.replace(info, head_sha=pr.head_sha))
    assert isinstance(StaleCommitList("x"), RetryableForgeError)


# -- errors ----------------------------------------------------------------------------------------


async def test_401_drops_the_token_and_retries_once(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello")
    await pull(client, pr)
    fake_github.revoke_tokens(INSTALLATION)
    await pull(client, pr)
    assert fake_github.token_requests[INSTALLATION] == 2
    statuses = [r.status for r in fake_github.requests if r.route == PULL]
    assert statuses == [200, 401, 200]


async def test_expired_token_is_refreshed_without_a_401(
    client: GitHubClient, fake_github: FakeGitHub, clock: Clock
) -> None:
    pr = fake_github.add_pr("octo/hello")
    await pull(client, pr)
    clock.now += 3600 - 60  # within the refresh margin
    await pull(client, pr)
    assert fake_github.token_requests[INSTALLATION] == 2
    assert [r.status for r in fake_github.requests if r.route == PULL] == [200, 200]


async def test_401_twice_is_an_auth_error(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.inject("GET", PULL, status=401, body={"message": "Bad credentials"}, times=2)
    with pytest.raises(ForgeAuthError) as err:
        await pull(client, pr)
    assert err.value.status == 401
    assert fake_github.token_requests[INSTALLATION] == 2
    assert fake_github.count("GET", PULL) == 2


async def test_502_is_retryable(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.inject("GET", PULL, status=502)
    with pytest.raises(RetryableForgeError) as err:
        await pull(client, pr)
    assert err.value.status == 502 and not isinstance(err.value, RateLimited)
    assert (await pull(client, pr)).number == pr.number


async def test_429_with_retry_after(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.inject("POST", COMMENTS, status=429, headers={"retry-after": "42"})
    with pytest.raises(RateLimited) as err:
        await client.create_comment(REPO, pr.number, "hi")
    assert err.value.until == datetime.fromtimestamp(NOW + 42, tz=UTC)
    assert err.value.status == 429
    assert fake_github.comments_of(pr) == []


async def test_403_primary_limit_uses_reset(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    reset = int(NOW) + 1234
    fake_github.inject(
        "GET",
        PULL,
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded for installation ID 7."},
    )
    with pytest.raises(RateLimited) as err:
        await pull(client, pr)
    assert err.value.until == datetime.fromtimestamp(reset, tz=UTC)


async def test_403_secondary_limit_without_headers_waits_a_minute(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.inject(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        status=403,
        body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
    )
    with pytest.raises(RateLimited) as err:
        await client.add_labels(REPO, pr.number, ["cla/yes"])
    assert err.value.until == datetime.fromtimestamp(NOW + 60, tz=UTC)


async def test_403_naming_a_permission_is_missing_permission(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.inject(
        "POST",
        LABELS,
        status=403,
        headers={"X-Accepted-GitHub-Permissions": "issues=write; pull_requests=write"},
        body={"message": "Resource not accessible by integration", "status": "403"},
    )
    with pytest.raises(MissingPermission) as err:
        await client.add_labels(REPO, pr.number, ["cla/no"])
    assert err.value.accepted == ((("issues", "write"),), (("pull_requests", "write"),))


async def test_repeated_secondary_limits_back_off_until_a_success(
    client: GitHubClient, fake_github: FakeGitHub, clock: Clock
) -> None:
    pr = fake_github.add_pr("octo/hello")
    secondary = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    waits = []
    for _ in range(3):
        fake_github.inject("POST", LABELS, status=403, body=secondary)
        with pytest.raises(RateLimited) as err:
            await client.add_labels(REPO, pr.number, ["cla/yes"])
        waits.append(err.value.until.timestamp() - clock.now)
        clock.now = err.value.until.timestamp()
    assert waits == [60, 120, 240]
    await client.add_labels(REPO, pr.number, ["cla/yes"])  # a success ends the streak
    fake_github.inject("POST", LABELS, status=403, body=secondary)
    with pytest.raises(RateLimited) as err:
        await client.add_labels(REPO, pr.number, ["cla/yes"])
    assert err.value.until.timestamp() - clock.now == 60


async def test_plain_403_and_404(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.inject(
        "GET", PULL, status=403, body={"message": "Resource not accessible by integration"}
    )
    with pytest.raises(ForgeError) as err:
        await pull(client, pr)
    assert type(err.value) is ForgeError and err.value.status == 403
    with pytest.raises(ForgeNotFound):
        await client.get_pull(REPO, 999)
    with pytest.raises(ForgeNotFound):  # a repository the installation cannot see
        await client.get_pull(RepoRef(GITHUB, "octo", "secret"), 1)


async def test_timeout(make_client: MakeClient, fake_github: FakeGitHub) -> None:
    client = make_client(timeout_s=0.2)
    pr = fake_github.add_pr("octo/hello")
    await pull(client, pr)  # token minted
    fake_github.inject("GET", PULL, delay_s=1.0)
    with pytest.raises(RetryableForgeError):
        await pull(client, pr)


async def test_connection_error(
    http_session: aiohttp.ClientSession, app_keys: AppKeyPair, fake_github: FakeGitHub
) -> None:
    platform = GitHubPlatform(
        session=http_session,
        settings=GitHubSettings(
            app_id=APP_ID, private_key=app_keys.private_pem, api_url=fake_github.url
        ),
    )
    fake_github.add_installation(1)
    client = platform.client(1)
    await platform.tokens.get(1)
    platform.settings = dataclasses.replace(platform.settings, api_url="http://127.0.0.1:9")
    with pytest.raises(RetryableForgeError):
        await client.get_pull(REPO, 1)


async def test_in_flight_cap_per_installation(
    make_client: MakeClient, fake_github: FakeGitHub
) -> None:
    client = make_client(max_in_flight=2)
    other = make_client(max_in_flight=2)  # another platform: its own slots
    pr = fake_github.add_pr("octo/hello")
    await pull(client, pr)
    await pull(other, pr)
    fake_github.peak_in_flight = 0
    fake_github.inject("GET", PULL, delay_s=0.1, times=8)
    await asyncio.gather(*(pull(client, pr) for _ in range(8)))
    assert fake_github.peak_in_flight == 2


async def test_clients_of_one_platform_share_the_cap(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    fake_github.add_installation(INSTALLATION, repos=[REPO.full_name])
    platform = GitHubPlatform(
        session=http_session,
        settings=GitHubSettings(
            app_id=APP_ID,
            private_key=app_keys.private_pem,
            api_url=fake_github.url,
            max_in_flight=3,
        ),
    )
    pr = fake_github.add_pr("octo/hello")
    await platform.tokens.get(INSTALLATION)
    fake_github.inject("GET", PULL, delay_s=0.1, times=9)
    clients = [platform.client(INSTALLATION) for _ in range(3)]
    await asyncio.gather(*(c.get_pull(REPO, pr.number) for c in clients for _ in range(3)))
    assert fake_github.peak_in_flight == 3


# -- comments --------------------------------------------------------------------------------------


async def test_find_comment_on_page_3(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    fake_github.add_comment(pr, f"quoting the bot: {MARKER}", user="mallory")  # a human: ignored
    for i in range(248):
        fake_github.add_comment(pr, f"comment {i}", user="someone")
    own = fake_github.add_comment(pr, f"CLA status {MARKER}", user=fake_github.bot)
    assert len(fake_github.comments_of(pr)) == 250
    found = await client.find_comment(REPO, pr.number, MARKER)
    assert found is not None and found.comment_id == own.id
    assert found.author_login == "cla-bot[bot]"
    assert fake_github.count("GET", COMMENTS) == 3
    assert all(r.query["per_page"] == "100" for r in fake_github.requests if r.route == COMMENTS)


async def test_another_apps_comment_with_our_marker_is_never_ours(
    make_client: MakeClient, fake_github: FakeGitHub
) -> None:
    client = make_client()
    pr = fake_github.add_pr("octo/hello")
    other = fake_github.user("other-cla[bot]", type="Bot")
    fake_github.add_comment(pr, f"{MARKER} another App's bot, same marker", user=other)
    assert await client.find_comment(REPO, pr.number, MARKER) is None
    own = fake_github.add_comment(pr, MARKER, user=fake_github.bot)
    found = await client.find_comment(REPO, pr.number, MARKER)
    assert found is not None and found.comment_id == own.id
    other_client = client._p.client(INSTALLATION + 1)
    fake_github.add_installation(INSTALLATION + 1, repos=[REPO.full_name])
    assert await other_client.find_comment(REPO, pr.number, MARKER) is not None
    assert fake_github.count("GET", "/app") == 1  # once per process (platform), not per call


async def test_find_comment_by_configured_login(
    make_client: MakeClient, fake_github: FakeGitHub
) -> None:
    client = make_client(bot_login="Cla-Bot[bot]")
    pr = fake_github.add_pr("octo/hello")
    fake_github.add_comment(pr, "no marker", user=fake_github.bot)
    assert await client.find_comment(REPO, pr.number, MARKER) is None
    own = fake_github.add_comment(pr, MARKER, user=fake_github.bot)
    found = await client.find_comment(REPO, pr.number, MARKER)
    assert found is not None and found.comment_id == own.id


async def test_comment_lifecycle(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    cid = await client.create_comment(REPO, pr.number, f"first {MARKER}")
    await client.edit_comment(REPO, cid, f"second {MARKER}")
    got = await client.get_comment(REPO, cid)
    assert got is not None and got.body == f"second {MARKER}"
    assert [c.body for c in fake_github.bot_comments(pr)] == [f"second {MARKER}"]
    assert await client.get_comment(REPO, 123456) is None
    await client.add_reaction(REPO, cid, "+1")
    await client.add_reaction(REPO, cid, "+1")  # 200: already there
    assert [r.content for r in fake_github.reactions_on(cid)] == ["+1"]


# -- labels, statuses, permissions ---------------------------------------------------------------


async def test_label_with_slash_is_percent_encoded(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello", labels=["cla: no"])
    await client.add_labels(REPO, pr.number, ["cla/yes"])
    assert fake_github.labels_of(pr) == ["cla: no", "cla/yes"]
    await client.remove_label(REPO, pr.number, "cla/yes")
    assert fake_github.labels_of(pr) == ["cla: no"]
    await client.remove_label(REPO, pr.number, "cla: no")
    assert fake_github.labels_of(pr) == []
    await client.remove_label(REPO, pr.number, "cla/yes")  # absent: 404, not an error
    deletes = [r for r in fake_github.requests if r.method == "DELETE"]
    raw_names = [r.raw_path.rsplit("/", 1)[1] for r in deletes]
    assert raw_names[0] == raw_names[2] == "cla%2Fyes"  # "/" encoded, not a path separator
    assert [urllib.parse.unquote(n) for n in raw_names] == ["cla/yes", "cla: no", "cla/yes"]
    assert [r.status for r in deletes] == [200, 200, 404]


async def test_add_no_labels_sends_nothing(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    await client.add_labels(REPO, pr.number, [])
    assert fake_github.writes(include_failed=True) == []


async def test_status_description_is_truncated(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    pr = fake_github.add_pr("octo/hello")
    await client.set_status(
        REPO,
        pr.head_sha,
        state=StatusState.FAILURE,
        description="x" * 141,
        context="cla",
        target_url="https://cla.example.org/sign",
    )
    status = fake_github.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert status.description is not None and len(status.description) == 140
    assert status.target_url == "https://cla.example.org/sign"
    (write,) = fake_github.writes(include_failed=True)
    assert len(write.json["description"]) <= 140


async def test_status_without_target_url(client: GitHubClient, fake_github: FakeGitHub) -> None:
    pr = fake_github.add_pr("octo/hello")
    await client.set_status(
        REPO,
        pr.head_sha,
        state=StatusState.SUCCESS,
        description="ok",
        context="cla",
        target_url=None,
    )
    (write,) = fake_github.writes()
    assert write.json == {"state": "success", "description": "ok", "context": "cla"}


async def test_permission(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.set_permission("octo/hello", "maint", "write", role_name="maintain")
    fake_github.user("reader")
    assert await client.get_permission(REPO, "maint") == "write"
    assert await client.get_permission(REPO, "reader") == "read"
    assert await client.get_permission(REPO, "ghost-of-nobody") == "none"


MEMBERSHIP = "/orgs/{org}/memberships/{username}"


@pytest.fixture
def org_client(client: GitHubClient, fake_github: FakeGitHub) -> GitHubClient:
    """The client of an installation on the organisation ``octo-org`` with *Members: read*."""
    fake_github.add_org("octo-org")
    fake_github.installations[INSTALLATION].permissions["members"] = "read"
    return client


async def test_owner_role_of_an_organisation(
    org_client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.set_membership("octo-org", "Olive", "admin")
    fake_github.set_membership("octo-org", "mem", "member")
    fake_github.set_membership("octo-org", "invited", "admin", state="pending")
    fake_github.set_membership("octo-org", "biller", "billing_manager")
    fake_github.user("outsider")
    assert await org_client.owner_role("octo-org", "olive") == "admin"
    assert await org_client.owner_role("OCTO-ORG", "mem") == "member"
    assert await org_client.owner_role("octo-org", "invited") == "none"  # not accepted yet
    assert await org_client.owner_role("octo-org", "biller") == "none"  # not a member
    assert await org_client.owner_role("octo-org", "outsider") == "none"  # 404
    assert await org_client.owner_role("octo-org", "ghost-of-nobody") == "none"  # 404
    asked = [r.path for r in fake_github.requests if r.route == MEMBERSHIP]
    assert asked[:2] == ["/orgs/octo-org/memberships/olive", "/orgs/OCTO-ORG/memberships/mem"]
    assert len(asked) == 6


async def test_owner_role_of_a_persons_account_and_of_another_organisation(
    org_client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.user("alice")
    fake_github.set_membership("elsewhere", "alice", "admin")  # the App is not installed there
    assert await org_client.owner_role("Alice", "alice") == "admin"  # her own account
    assert fake_github.count("GET", MEMBERSHIP) == 0  # known without asking
    assert await org_client.owner_role("alice", "bob") == "none"  # a person's account: 404
    assert await org_client.owner_role("elsewhere", "alice") == "none"
    assert fake_github.count("GET", MEMBERSHIP) == 2


async def test_owner_role_without_members_read_is_none_and_said_once(
    client: GitHubClient, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake_github.add_org("octo-org")
    fake_github.set_membership("octo-org", "olive", "admin")
    fake_github.installations[INSTALLATION].permissions.pop("members", None)
    with caplog.at_level(logging.WARNING, logger="bot.platforms.github.client"):
        assert await client.owner_role("octo-org", "olive") == "none"
    (record,) = caplog.records
    assert "octo-org" in record.getMessage() and "members=read" in record.getMessage()
    assert [r.status for r in fake_github.requests if r.route == MEMBERSHIP] == [403]
    # An owner accepts the permission: the next token holds it, and the answer is the forge's.
    fake_github.installations[INSTALLATION].permissions["members"] = "read"
    assert await client.owner_role("octo-org", "olive") == "admin"


async def test_owner_role_failures_are_forge_errors(
    org_client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.set_membership("octo-org", "olive", "admin")
    fake_github.inject("GET", MEMBERSHIP, status=502)
    with pytest.raises(RetryableForgeError):
        await org_client.owner_role("octo-org", "olive")
    fake_github.inject("GET", MEMBERSHIP, status=403, body={"message": "Forbidden"})
    with pytest.raises(ForgeError) as err:
        await org_client.owner_role("octo-org", "olive")
    assert err.value.status == 403 and not isinstance(err.value, MissingPermission)
    assert await org_client.owner_role("octo-org", "olive") == "admin"


USER_BY_ID = "/user/{account_id}"


async def test_user_by_id(client: GitHubClient, fake_github: FakeGitHub) -> None:
    octo = fake_github.user("octocat")
    bot = fake_github.user("dependabot[bot]", type="Bot", user_id=49699333)
    org = fake_github.user("acme-org", type="Organization")
    found = await client.user_by_id(str(octo.id), login="someone-else")
    assert found == Account(GITHUB, str(octo.id), "octocat")
    assert await client.user_by_id("49699333") == Account(
        GITHUB, str(bot.id), "dependabot[bot]", is_bot=True
    )
    assert await client.user_by_id("999999999") is None  # no such account: 404
    assert await client.user_by_id(str(org.id)) is None  # organisations author no commits
    assert await client.user_by_id("0" + str(octo.id)) is None  # not the id GitHub answers
    assert fake_github.count("GET", USER_BY_ID) == 5
    assert await client.user_by_id("１２") is None  # not an id: nothing is asked
    assert fake_github.count("GET", USER_BY_ID) == 5


async def test_user_by_id_failures_raise(client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", USER_BY_ID, status=502)
    with pytest.raises(RetryableForgeError):
        await client.user_by_id(str(fake_github.user("octocat").id))


async def test_user_by_login_gives_the_account_id(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    alice = fake_github.user("Alice", user_id=583231)
    fake_github.user("acme-inc", type="Organization")
    fake_github.user("helper[bot]", type="Bot")
    assert await client.user_by_login("alice") == Account(GITHUB, "583231", "Alice")
    assert alice.login == "Alice"
    assert await client.user_by_login("ghost-of-nobody") is None
    assert await client.user_by_login("acme-inc") is None  # an organisation authors nothing
    bot = await client.user_by_login("helper[bot]")
    assert bot is not None and bot.is_bot
    assert [r.status for r in fake_github.requests if r.route == "/users/{username}"] == [
        200,
        404,
        200,
        200,
    ]


# -- GitHub Enterprise Server base URL -------------------------------------------------------------


async def test_ghes_base_url_with_path_prefix(
    make_client: MakeClient, fake_github: FakeGitHub
) -> None:
    client = make_client(api_url=fake_github.ghes_url + "/")
    pr = fake_github.add_pr("octo/hello", commits=2)
    info = await pull(client, pr)
    assert len(await client.list_commits(info)) == 2
    await client.add_labels(REPO, pr.number, ["cla/yes"])
    await client.remove_label(REPO, pr.number, "cla/yes")
    cid = await client.create_comment(REPO, pr.number, MARKER)
    assert (await client.find_comment(REPO, pr.number, MARKER)) is not None
    await client.edit_comment(REPO, cid, MARKER + " again")
    await client.set_status(
        REPO,
        pr.head_sha,
        state=StatusState.PENDING,
        description="checking",
        context="cla",
        target_url=None,
    )
    assert fake_github.requests and all(r.prefix == "/api/v3" for r in fake_github.requests)
    assert fake_github.count("POST", TOKEN_ROUTE) == 1
    fake_github.add_commit(pr, message="Pair\n\nCo-authored-by: Kat <kat@example.com>")
    await client.list_commits(await pull(client, pr))
    assert [r.raw_path for r in fake_github.requests if r.route == GRAPHQL] == ["/api/graphql"]


# -- co-authors through GraphQL --------------------------------------------------------------------


def coauthored(fake: FakeGitHub, pr: FakePR, *trailers: str) -> None:
    lines = "\n".join(f"Co-authored-by: {t}" for t in trailers)
    fake.add_commit(
        pr,
        message=f"Pair on it\n\n{lines}",
        author=("Alice", "alice@example.com"),
        author_login="alice",
    )


async def test_co_author_linked_by_graphql(client: GitHubClient, fake_github: FakeGitHub) -> None:
    kat = fake_github.user("katherine")
    fake_github.set_emails("katherine", ("Kat@Example.com", True))
    fake_github.set_emails("nobody", ("unverified@example.com", False))
    pr = fake_github.add_pr("octo/hello", commits=1)
    coauthored(fake_github, pr, "Kat <kat@example.com>", "Un <unverified@example.com>")
    commits = await client.list_commits(await pull(client, pr))
    assert commits[0].co_author_accounts == ()
    assert commits[1].co_author_accounts == (
        ("kat@example.com", Account(GITHUB, str(kat.id), "katherine")),
    )
    assert fake_github.count("POST", GRAPHQL) == 1
    (request,) = [r for r in fake_github.requests if r.route == GRAPHQL]
    assert request.json["variables"] == {
        "owner": "octo",
        "name": "hello",
        "number": 1,
        "after": None,
    }


@pytest.mark.parametrize(
    "trailer",
    [
        None,  # no trailer at all: the common case costs nothing
        "Alice Again <ALICE@example.com>",  # an email REST already linked in this PR
        "Bot <49699333+dependabot[bot]@users.noreply.github.com>",  # asked about by id instead
    ],
)
async def test_no_graphql_when_rest_links_every_trailer(
    client: GitHubClient, fake_github: FakeGitHub, trailer: str | None
) -> None:
    pr = fake_github.add_pr("octo/hello", commits=2)
    if trailer is not None:
        coauthored(fake_github, pr, trailer)
    await client.list_commits(await pull(client, pr))
    assert fake_github.count("POST", GRAPHQL) == 0


async def test_co_authors_of_a_260_commit_pr_are_paged(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    kat = fake_github.user("katherine")
    fake_github.set_emails("katherine", ("kat@example.com", True))
    pr = fake_github.add_pr("octo/hello", commits=259)
    coauthored(fake_github, pr, "Kat <kat@example.com>")
    commits = await client.list_commits(await pull(client, pr))
    assert dict(commits[-1].co_author_accounts)["kat@example.com"].account_id == str(kat.id)
    cursors = [r.json["variables"]["after"] for r in fake_github.requests if r.route == GRAPHQL]
    assert len(cursors) == 3 and cursors[0] is None and len(set(cursors)) == 3


async def test_graphql_forbidden_leaves_co_authors_unlinked(
    client: GitHubClient, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake_github.set_emails("katherine", ("kat@example.com", True))
    granted = {k: v for k, v in manifest_permissions().items() if k != "contents"}
    fake_github.installations[INSTALLATION].permissions = granted
    pr = fake_github.add_pr("octo/hello", commits=1)
    coauthored(fake_github, pr, "Kat <kat@example.com>")
    commits = await client.list_commits(await pull(client, pr))
    assert [c.co_author_accounts for c in commits] == [(), ()]
    assert fake_github.count("POST", GRAPHQL) == 1
    assert "MissingPermission" in caplog.text and "kat@example.com" not in caplog.text


@pytest.mark.parametrize(
    ("status", "headers", "body", "error", "wait"),
    [
        (
            200,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 900)},
            {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]},
            RateLimited,
            900,
        ),
        (
            403,
            {"retry-after": "30"},
            {"message": "You have exceeded a secondary rate limit."},
            RateLimited,
            30,
        ),
        (502, {}, {"message": "Server Error"}, RetryableForgeError, None),
    ],
)
async def test_graphql_rate_limits_and_5xx_are_raised(
    client: GitHubClient,
    fake_github: FakeGitHub,
    status: int,
    headers: dict[str, str],
    body: dict[str, object],
    error: type[Exception],
    wait: float | None,
) -> None:
    fake_github.set_emails("katherine", ("kat@example.com", True))
    pr = fake_github.add_pr("octo/hello", commits=1)
    coauthored(fake_github, pr, "Kat <kat@example.com>")
    info = await pull(client, pr)
    fake_github.inject("POST", GRAPHQL, status=status, headers=headers, body=body)
    with pytest.raises(error) as err:
        await client.list_commits(info)
    if wait is not None:
        assert isinstance(err.value, RateLimited)
        assert err.value.until == datetime.fromtimestamp(NOW + wait, tz=UTC)
    assert len(await client.list_commits(info)) == 2  # and the next try goes through


async def test_graphql_not_found_and_other_errors_leave_co_authors_unlinked(
    client: GitHubClient, fake_github: FakeGitHub
) -> None:
    fake_github.set_emails("katherine", ("kat@example.com", True))
    pr = fake_github.add_pr("octo/hello", commits=1)
    coauthored(fake_github, pr, "Kat <kat@example.com>")
    info = await pull(client, pr)
    for kind in ("NOT_FOUND", "SOMETHING_ELSE"):
        fake_github.inject(
            "POST",
            GRAPHQL,
            status=200,
            body={"data": None, "errors": [{"type": kind, "message": "x"}]},
        )
        commits = await client.list_commits(info)
        assert [c.co_author_accounts for c in commits] == [(), ()]
