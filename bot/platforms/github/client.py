"""The GitHub side of ``bot.platforms.base.ForgeClient``, on gidgethub's aiohttp adapter.

One ``GitHubPlatform`` per process holds the HTTP session, the installation-token cache and a
semaphore per installation; ``platform.client(installation_id)`` gives a cheap ``GitHubClient``.

Every call:

* takes a token from the cache; on a 401 drops it and retries once, then ``ForgeAuthError``;
* waits at most ``timeout_s`` (aiohttp's own default is 300 s);
* holds one of ``max_in_flight`` slots of its installation while the request is on the wire;
* maps failures onto ``bot.platforms.base``: 5xx, timeouts, connection errors →
  ``RetryableForgeError``; 403/429 rate limits → ``RateLimited(until=…)`` (``retry-after``, else
  ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0, else one minute — gidgethub reports
  429 and secondary-limit 403s as plain ``BadRequest``), doubling for secondary limits that
  repeat for an installation until one of its requests succeeds (``auth.SecondaryLimits``);
  a 403 naming the permissions it needs (``X-Accepted-GitHub-Permissions``) →
  ``MissingPermission``; 404/410 → ``ForgeNotFound``; other 4xx → ``ForgeError``. GraphQL
  answers its errors with HTTP 200 and ``errors[]``: ``FORBIDDEN`` → ``MissingPermission``,
  ``NOT_FOUND`` → ``ForgeNotFound``, ``RATE_LIMITED`` → ``RateLimited``, others ``ForgeError``.

``api_url`` may carry a path (GitHub Enterprise Server: ``https://HOST/api/v3``); gidgethub ≥ 6
joins relative paths onto it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import gidgethub
import gidgethub.aiohttp
import gidgethub.sansio

from bot.core.decision import CheckRunWrite
from bot.core.identity import co_authors_to_link, normalise_email, parse_coauthors
from bot.core.model import Account, CommentRef, Commit, PullRequest, RepoRef, StatusState
from bot.platforms.base import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    MissingPermission,
    RateLimited,
    RetryableForgeError,
    StaleCommitList,
    account_from_api,
)
from bot.platforms.github.auth import (
    AppLogin,
    InstallationTokens,
    SecondaryLimits,
    rate_limit,
)
from bot.platforms.github.events import (
    PayloadError,
    account_from_user,
    co_author_page_from_graphql,
    commit_from_api,
    pull_request_from_api,
)
from bot.platforms.github.facts import FACTS, GITHUB

__all__ = [
    "CO_AUTHORS_QUERY",
    "MAX_PR_COMMITS",
    "STATUS_DESCRIPTION_MAX",
    "GitHubClient",
    "GitHubPlatform",
    "GitHubSettings",
    "accepted_permissions",
]

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_PR_COMMITS = 250  # GET …/pulls/{n}/commits never lists more
STATUS_DESCRIPTION_MAX = 140  # longer descriptions get a 422
PER_PAGE = 100
ACCEPTED_PERMISSIONS = "X-Accepted-GitHub-Permissions"
_PERMISSION = re.compile(r"([a-z_]+)=(read|write|admin)")

# The accounts GitHub links to every author of a PR's commits: the git author first, then each
# Co-authored-by trailer ("The list of authors for this commit based on the git author and the
# Co-authored-by message trailer"). REST has no such link. 100 commits × 100 authors per page
# is far inside GraphQL's 500,000-node limit.
CO_AUTHORS_QUERY = """
query CoAuthors($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      commits(first: 100, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { commit { oid authors(first: 100) { nodes { email user { login databaseId } } } } }
      }
    }
  }
}
"""


def accepted_permissions(value: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """``X-Accepted-GitHub-Permissions`` → its permission sets, any one of which would do.

    "a comma separated list of the permissions that are required to use the endpoint.
    Occasionally, you can choose from multiple permission sets. In these cases, multiple
    comma-separated lists will be separated by a semicolon." Unparseable items are dropped.
    https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
    """
    sets = []
    for alternative in value.split(";"):
        pairs = []
        for item in alternative.split(","):
            match = _PERMISSION.fullmatch(item.strip().lower())
            if match is not None:
                pairs.append((match.group(1), match.group(2)))
        if pairs:
            sets.append(tuple(pairs))
    return tuple(sets)


def _missing_permission(
    status: int, headers: Mapping[str, str], what: str
) -> MissingPermission | None:
    if status != 403:
        return None
    value = next((v for k, v in headers.items() if k.lower() == ACCEPTED_PERMISSIONS.lower()), "")
    accepted = accepted_permissions(value)
    if not accepted:
        return None
    needs = " or ".join(",".join(f"{n}={lvl}" for n, lvl in pairs) for pairs in accepted)
    return MissingPermission(f"{what}: HTTP 403, the installation lacks {needs}", accepted=accepted)


@dataclass(frozen=True, kw_only=True)
class GitHubSettings:
    """What the GitHub platform needs; built by ``bot.settings`` (never from os.environ here)."""

    app_id: str
    private_key: str = field(repr=False)
    api_url: str = "https://api.github.com"
    bot_login: str | None = None  # "<app-slug>[bot]", when known
    timeout_s: float = 10.0
    max_in_flight: int = 8  # concurrent requests per installation
    requester: str = "cla-bot"


class _API(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp adapter with a per-request timeout and an in-flight cap."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        requester: str,
        *,
        oauth_token: str,
        base_url: str,
        timeout: aiohttp.ClientTimeout,
        slots: asyncio.Semaphore,
    ) -> None:
        super().__init__(session, requester, oauth_token=oauth_token, base_url=base_url)
        self._timeout = timeout
        self._slots = slots

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        async with (
            self._slots,
            self._session.request(
                method, url, headers=headers, data=body, timeout=self._timeout
            ) as response,
        ):
            data = await response.read()
            status = response.status
            headers_in = response.headers
        try:
            http.HTTPStatus(status)
        except ValueError:
            # gidgethub would crash on a status outside the registry; say what came back.
            excerpt = data[:300].decode("utf-8", "replace")
            raise ForgeError(f"GitHub answered HTTP {status}: {excerpt}", status=status) from None
        return status, headers_in, data


class GitHubPlatform:
    """Process-wide GitHub state: session, token cache, per-installation request slots and
    secondary-limit streaks, and the App's own bot login (asked once)."""

    platform = GITHUB

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        settings: GitHubSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        # Secondary rate limits met in a row, per installation: each next one waits longer.
        self.secondary_limits = SecondaryLimits()
        self.tokens = InstallationTokens(
            session=session,
            api_url=settings.api_url,
            app_id=settings.app_id,
            private_key=settings.private_key,
            clock=clock,
            timeout_s=settings.timeout_s,
            requester=settings.requester,
            limits=self.secondary_limits,
        )
        self.app_login = AppLogin(self.tokens, configured=settings.bot_login)
        self._slots: dict[int, asyncio.Semaphore] = {}

    def slots(self, installation_id: int) -> asyncio.Semaphore:
        """The in-flight cap shared by every client of one installation."""
        sem = self._slots.get(installation_id)
        if sem is None:
            sem = self._slots[installation_id] = asyncio.Semaphore(self.settings.max_in_flight)
        return sem

    def client(self, installation_id: int) -> GitHubClient:
        return GitHubClient(platform=self, installation_id=installation_id)

    def app_jwt(self) -> str:
        """A fresh App JWT for ``/app/...`` endpoints (hook deliveries, installations)."""
        return self.tokens.app_jwt()

    @property
    def graphql_url(self) -> str:
        """GitHub's GraphQL endpoint: ``https://api.github.com/graphql``, or on GitHub
        Enterprise Server (REST at ``https://HOST/api/v3``) ``https://HOST/api/graphql``."""
        api = self.settings.api_url.rstrip("/")
        return (api.removesuffix("/v3") if api.endswith("/api/v3") else api) + "/graphql"


def _repo_vars(repo: RepoRef, **more: Any) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, **more}


class GitHubClient:
    """``ForgeClient`` for one GitHub App installation."""

    platform = GITHUB

    def __init__(self, *, platform: GitHubPlatform, installation_id: int) -> None:
        self._p = platform
        self.installation_id = installation_id
        self._timeout = aiohttp.ClientTimeout(total=platform.settings.timeout_s)

    def __repr__(self) -> str:
        return f"GitHubClient(installation_id={self.installation_id})"

    @property
    def check_runs(self) -> GitHubClient:
        """GitHub has check runs (the installation may still lack ``checks: write``: then
        every call raises ``MissingPermission``)."""
        return self

    # -- plumbing ------------------------------------------------------------------------------

    def _api(self, token: str) -> _API:
        s = self._p.settings
        return _API(
            self._p.session,
            s.requester,
            oauth_token=token,
            base_url=s.api_url,
            timeout=self._timeout,
            slots=self._p.slots(self.installation_id),
        )

    def _rate_limited(
        self, limit_status: int, headers: Mapping[str, str], message: str, what: str
    ) -> RateLimited | None:
        now = self._p.clock()
        limit = rate_limit(limit_status, headers, message, now=now)
        if limit is None:
            return None
        until = self._p.secondary_limits.until(self.installation_id, limit, now=now)
        kind = "secondary rate limit" if limit.secondary else "rate limited"
        return RateLimited(f"{what}: {kind} ({limit_status})", until=until, status=limit_status)

    def _error(self, exc: gidgethub.HTTPException, what: str) -> ForgeError:
        status = int(exc.status_code)
        message = str(exc)[:200]
        limited = self._rate_limited(status, exc.headers, message, what)
        if limited is not None:
            return limited
        missing = _missing_permission(status, exc.headers, what)
        if missing is not None:
            return missing
        if status >= 500:
            return RetryableForgeError(f"{what}: HTTP {status}", status=status)
        if status in (404, 410):
            return ForgeNotFound(f"{what}: HTTP {status}", status=status)
        if status == 401:
            return ForgeAuthError(f"{what}: HTTP 401 after a token refresh", status=status)
        return ForgeError(f"{what}: HTTP {status} {message}".rstrip(), status=status)

    async def _call(self, what: str, fn: Callable[[_API], Awaitable[T]]) -> T:
        for attempt in (1, 2):
            token = await self._p.tokens.get(self.installation_id)
            try:
                result = await fn(self._api(token))
            except gidgethub.HTTPException as exc:
                if int(exc.status_code) == 401 and attempt == 1:
                    self._p.tokens.invalidate(self.installation_id, token)
                    continue
                error = self._error(exc, what)
                if isinstance(error, MissingPermission):
                    self._p.tokens.invalidate(self.installation_id, token)
                raise error from None
            except MissingPermission:
                # A token holds the permissions granted when it was made: one accepted since
                # comes with the next token only, so this one is not kept.
                self._p.tokens.invalidate(self.installation_id, token)
                raise
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise RetryableForgeError(f"{what}: {type(exc).__name__}") from None
            self._p.secondary_limits.succeeded(self.installation_id)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    async def _collect(items: AsyncIterator[Any]) -> list[Any]:
        return [item async for item in items]

    # -- ForgeClient ---------------------------------------------------------------------------

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequest:
        url = "/repos/{owner}/{repo}/pulls/{number}"
        data = await self._call(
            f"get PR {repo.full_name}#{number}",
            lambda gh: gh.getitem(url, _repo_vars(repo, number=number)),
        )
        return pull_request_from_api(data, installation_id=self.installation_id)

    async def list_commits(self, pr: PullRequest) -> Sequence[Commit]:
        """Every commit of the PR, oldest first, with the accounts GitHub links to its authors,
        committers and (when a trailer needs it) co-authors.

        ``…/pulls/{n}/commits`` lists at most 250 (*Pull requests: read*); beyond that
        (``pr.commit_count > 250``, or an unknown count and a full 250),
        ``compare/{base_sha}...{head_sha}`` pages through all of them, which needs *Contents:
        read* — an installation that has not accepted it raises ``MissingPermission``.
        https://docs.github.com/en/rest/pulls/pulls#list-commits-on-a-pull-request
        """
        what = f"list commits of {pr.repo.full_name}#{pr.number}"
        items: list[Any] = []
        compare = pr.commit_count is not None and pr.commit_count > MAX_PR_COMMITS
        if not compare:
            url = f"/repos/{{owner}}/{{repo}}/pulls/{{number}}/commits?per_page={PER_PAGE}"
            url_vars = _repo_vars(pr.repo, number=pr.number)
            items = await self._call(what, lambda gh: self._collect(gh.getiter(url, url_vars)))
            compare = len(items) >= MAX_PR_COMMITS and pr.commit_count != len(items)
        if compare:
            items = await self._compare(pr, what)
        commits = [commit_from_api(item) for item in items]
        if not commits or commits[-1].sha != pr.head_sha:
            last = commits[-1].sha[:12] if commits else "nothing"
            raise StaleCommitList(f"{what}: list ends at {last}, head is {pr.head_sha[:12]}")
        if co_authors_to_link(commits, forge=FACTS):
            commits = await self._link_co_authors(pr, commits)
        return commits

    async def _compare(self, pr: PullRequest, what: str) -> list[Any]:
        """The commits of ``compare/{base}...{head}``, page by page: without ``per_page`` or
        ``page`` GitHub stops at 250. Fails (to be retried) unless exactly ``total_commits``
        distinct commits came back.
        https://docs.github.com/en/rest/commits/commits#compare-two-commits
        """
        base_sha = pr.base_sha
        if base_sha is None:
            base_sha = (await self.get_pull(pr.repo, pr.number)).base_sha
        if base_sha is None:
            raise ForgeError(f"{what}: no base sha to compare with")
        url_vars = _repo_vars(pr.repo, basehead=f"{base_sha}...{pr.head_sha}")
        items: list[Any] = []
        page = 1
        while True:
            url = f"/repos/{{owner}}/{{repo}}/compare/{{basehead}}?per_page={PER_PAGE}&page={page}"
            data = await self._get(what, url, url_vars)
            chunk: Any = data.get("commits") if isinstance(data, Mapping) else None
            total: Any = data.get("total_commits") if isinstance(data, Mapping) else None
            if not isinstance(chunk, list) or isinstance(total, bool) or not isinstance(total, int):
                raise ForgeError(f"{what}: compare answered no commits list or total")
            items.extend(chunk)
            if len(items) >= total or len(chunk) < PER_PAGE:
                break
            page += 1
        shas = {item.get("sha") for item in items if isinstance(item, Mapping)}
        if len(items) != total or len(shas) != total:
            raise RetryableForgeError(
                f"{what}: compare listed {len(items)} commits ({len(shas)} distinct) of {total}"
            )
        return items

    async def _get(self, what: str, url: str, url_vars: Mapping[str, Any]) -> Any:
        return await self._call(what, lambda gh: gh.getitem(url, url_vars))

    async def _link_co_authors(self, pr: PullRequest, commits: list[Commit]) -> list[Commit]:
        """``commits`` with the accounts GitHub links to their ``Co-authored-by:`` emails
        (GraphQL ``Commit.authors``, every commit of the PR in pages of 100).

        Retryable failures (rate limits, 5xx) are raised; any other failure — a missing
        permission, an answer of an unexpected shape — leaves the co-authors unlinked, as
        they were before, and is logged: each is then named by the trailer's name and masked
        email, and still covered by a signature with that (verified) email.
        """
        what = f"co-authors of {pr.repo.full_name}#{pr.number}"
        links: dict[str, tuple[tuple[str, Account], ...]] = {}
        after: str | None = None
        variables: dict[str, Any] = {
            "owner": pr.repo.owner,
            "name": pr.repo.name,
            "number": pr.number,
        }
        for _ in range(len(commits) // PER_PAGE + 2):
            try:
                data = await self.graphql(CO_AUTHORS_QUERY, {**variables, "after": after}, what)
                page = co_author_page_from_graphql(data)
            except RetryableForgeError:
                raise
            except (ForgeError, PayloadError) as exc:
                log.warning("%s: left unlinked (%s: %s)", what, type(exc).__name__, exc)
                return commits
            links.update(page.links)
            if not page.has_next or page.end_cursor in (None, after):
                break
            after = page.end_cursor
        linked = []
        for commit in commits:
            trailers = {normalise_email(p.email) for p in parse_coauthors(commit.message)}
            pairs = tuple(pair for pair in links.get(commit.sha, ()) if pair[0] in trailers)
            linked.append(
                dataclasses.replace(commit, co_author_accounts=pairs) if pairs else commit
            )
        return linked

    async def graphql(self, query: str, variables: Mapping[str, Any], what: str) -> Any:
        """POST a GraphQL query with the installation's token; its ``data``.

        Not gidgethub's ``graphql``, which drops the headers of a 403/429 (so ``retry-after``
        could not be obeyed). Errors map as the module docstring says; an answer with
        ``errors`` is refused whole, even with partial ``data``.
        https://docs.github.com/en/graphql/guides/forming-calls-with-graphql
        """
        body = json.dumps({"query": query, "variables": dict(variables)}).encode()
        endpoint = self._p.graphql_url

        async def post(gh: _API) -> Any:
            headers = gidgethub.sansio.create_headers(
                gh.requester, accept="application/json", oauth_token=gh.oauth_token
            )
            headers["content-type"] = "application/json"
            status, answer_headers, raw = await gh._request("POST", endpoint, headers, body)
            try:
                answer = json.loads(raw) if raw else None
            except ValueError:
                answer = None
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            if status != 200:
                raise gidgethub.HTTPException(
                    http.HTTPStatus(status), str(message)[:200], headers=answer_headers
                )
            if not isinstance(answer, dict):
                raise RetryableForgeError(f"{what}: GraphQL answered no JSON object")
            errors = answer.get("errors")
            if errors:
                raise self._graphql_error(errors, answer_headers, what)
            if not isinstance(answer.get("data"), dict):
                raise ForgeError(f"{what}: GraphQL answered no data")
            return answer["data"]

        return await self._call(what, post)

    def _graphql_error(self, errors: object, headers: Mapping[str, str], what: str) -> ForgeError:
        first = errors[0] if isinstance(errors, list) and errors else {}
        kind = first.get("type") if isinstance(first, dict) else None
        message = first.get("message") if isinstance(first, dict) else None
        message = str(message or "")[:200]
        if kind == "RATE_LIMITED" or "rate limit" in message.lower():
            limited = self._rate_limited(429, headers, message, what)
            if limited is not None:
                return limited
        if kind == "FORBIDDEN":
            missing = _missing_permission(403, headers, what)
            return missing or MissingPermission(f"{what}: GraphQL FORBIDDEN: {message}")
        if kind == "NOT_FOUND":
            return ForgeNotFound(f"{what}: GraphQL NOT_FOUND: {message}")
        return ForgeError(f"{what}: GraphQL {kind or 'error'}: {message}".rstrip())

    async def set_status(
        self,
        repo: RepoRef,
        sha: str,
        *,
        state: StatusState,
        description: str,
        context: str,
        target_url: str | None,
    ) -> None:
        if len(description) > STATUS_DESCRIPTION_MAX:
            description = description[: STATUS_DESCRIPTION_MAX - 1] + "…"
        data: dict[str, Any] = {
            "state": str(state),
            "description": description,
            "context": context,
        }
        if target_url is not None:
            data["target_url"] = target_url
        url = "/repos/{owner}/{repo}/statuses/{sha}"
        await self._call(
            f"set status on {repo.full_name}@{sha[:12]}",
            lambda gh: gh.post(url, _repo_vars(repo, sha=sha), data=data),
        )

    @staticmethod
    def _check_run_body(run: CheckRunWrite) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": run.name,
            "status": "completed",
            "conclusion": str(run.conclusion),
            "output": {"title": run.title, "summary": run.summary},
            # Always sent: an update to success takes the Re-check button away.
            "actions": [
                {"label": a.label, "description": a.description, "identifier": a.identifier}
                for a in run.actions
            ],
        }
        if run.details_url is not None:
            body["details_url"] = run.details_url
        return body

    async def create_check_run(self, repo: RepoRef, run: CheckRunWrite) -> int:
        url = "/repos/{owner}/{repo}/check-runs"
        body = {"head_sha": run.sha, **self._check_run_body(run)}
        data = await self._call(
            f"create check run on {repo.full_name}@{run.sha[:12]}",
            lambda gh: gh.post(url, _repo_vars(repo), data=body),
        )
        run_id = data.get("id") if isinstance(data, Mapping) else None
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            raise ForgeError("create check run: the answer has no id")
        return run_id

    async def update_check_run(self, repo: RepoRef, run_id: int, run: CheckRunWrite) -> None:
        url = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
        body = self._check_run_body(run)
        await self._call(
            f"update check run {run_id} on {repo.full_name}",
            lambda gh: gh.patch(url, _repo_vars(repo, check_run_id=run_id), data=body),
        )

    async def add_labels(self, repo: RepoRef, number: int, names: Sequence[str]) -> None:
        if not names:
            return
        url = "/repos/{owner}/{repo}/issues/{number}/labels"
        body = {"labels": list(names)}
        await self._call(
            f"add labels to {repo.full_name}#{number}",
            lambda gh: gh.post(url, _repo_vars(repo, number=number), data=body),
        )

    async def remove_label(self, repo: RepoRef, number: int, name: str) -> None:
        url = "/repos/{owner}/{repo}/issues/{number}/labels/{name}"
        with contextlib.suppress(ForgeNotFound):  # absent label: already the wanted state
            await self._call(
                f"remove label from {repo.full_name}#{number}",
                lambda gh: gh.delete(url, _repo_vars(repo, number=number, name=name)),
            )

    @staticmethod
    def _comment_ref(item: Mapping[str, Any]) -> CommentRef:
        user = item.get("user")
        login = user.get("login") if isinstance(user, Mapping) else None
        body = item.get("body")
        return CommentRef(
            comment_id=int(item["id"]),
            body=body if isinstance(body, str) else "",
            author_login=login if isinstance(login, str) else "",
        )

    async def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        """The first comment carrying ``marker`` written by this App's bot account
        (``<slug>[bot]``, from ``GET /app`` once per process, or ``bot_login`` when configured),
        searching every page (100 per page). Another App's comment with the same marker is
        never taken for ours: every App's comments have ``user.type == "Bot"``."""
        own = (await self._p.app_login.get()).lower()
        url = f"/repos/{{owner}}/{{repo}}/issues/{{number}}/comments?per_page={PER_PAGE}"
        url_vars = _repo_vars(repo, number=number)
        items = await self._call(
            f"list comments of {repo.full_name}#{number}",
            lambda gh: self._collect(gh.getiter(url, url_vars)),
        )
        for item in items:
            if not isinstance(item, Mapping) or marker not in (item.get("body") or ""):
                continue
            user = item.get("user")
            login = user.get("login") if isinstance(user, Mapping) else None
            if isinstance(login, str) and login.lower() == own:
                return self._comment_ref(item)
        return None

    async def get_comment(self, repo: RepoRef, comment_id: int) -> CommentRef | None:
        url = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
        try:
            data = await self._call(
                f"get comment {comment_id} of {repo.full_name}",
                lambda gh: gh.getitem(url, _repo_vars(repo, comment_id=comment_id)),
            )
        except ForgeNotFound:
            return None
        return self._comment_ref(data)

    async def create_comment(self, repo: RepoRef, number: int, body: str) -> int:
        url = "/repos/{owner}/{repo}/issues/{number}/comments"
        data = await self._call(
            f"comment on {repo.full_name}#{number}",
            lambda gh: gh.post(url, _repo_vars(repo, number=number), data={"body": body}),
        )
        return int(data["id"])

    async def edit_comment(self, repo: RepoRef, comment_id: int, body: str) -> None:
        url = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
        await self._call(
            f"edit comment {comment_id} of {repo.full_name}",
            lambda gh: gh.patch(url, _repo_vars(repo, comment_id=comment_id), data={"body": body}),
        )

    async def get_permission(self, repo: RepoRef, login: str) -> str:
        """``admin`` / ``write`` / ``read`` / ``none`` (GitHub's ``permission``: maintain counts
        as write, triage as read). An unknown user is ``none``."""
        url = "/repos/{owner}/{repo}/collaborators/{username}/permission"
        try:
            data = await self._call(
                f"permission of a user on {repo.full_name}",
                lambda gh: gh.getitem(url, _repo_vars(repo, username=login)),
            )
        except ForgeNotFound:
            return "none"
        permission = data.get("permission") if isinstance(data, Mapping) else None
        return permission if isinstance(permission, str) else "none"

    async def user_by_login(self, login: str) -> Account | None:
        """``GET /users/{username}``: the user's account id and login as GitHub spells it; an
        unknown login, or an organisation (it authors no commits), is ``None``."""
        url = "/users/{username}"
        try:
            data = await self._call(
                "look up a user", lambda gh: gh.getitem(url, {"username": login})
            )
        except ForgeNotFound:
            return None
        return account_from_api(GITHUB, data)

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None:
        """``GET /user/{account_id}`` ("Get a user using their ID": the durable id, not the login,
        which can change); ``None`` for an id no person or bot has (404, or an organisation's
        id: organisations author no commits). ``login`` is not needed."""
        if not (account_id.isascii() and account_id.isdecimal()):
            return None
        url = "/user/{account_id}"
        try:
            data = await self._call(
                f"get user {account_id}",
                lambda gh: gh.getitem(url, {"account_id": account_id}),
            )
        except ForgeNotFound:
            return None
        try:
            account = account_from_user(data)
        except PayloadError as exc:
            raise ForgeError(f"get user {account_id}: unexpected answer ({exc})") from None
        if account is None or account.account_id != account_id:
            return None
        return account if data.get("type") in ("User", "Bot") else None

    # -- extras beyond ForgeClient ---------------------------------------------------------------

    async def add_reaction(self, repo: RepoRef, comment_id: int, content: str = "+1") -> None:
        """Acknowledge a command comment (``+1``, ``eyes``, …); an existing reaction is fine."""
        url = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
        await self._call(
            f"react to comment {comment_id} of {repo.full_name}",
            lambda gh: gh.post(
                url, _repo_vars(repo, comment_id=comment_id), data={"content": content}
            ),
        )
