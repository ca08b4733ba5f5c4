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
  429 and secondary-limit 403s as plain ``BadRequest``); 404/410 → ``ForgeNotFound``;
  other 4xx → ``ForgeError``.

``api_url`` may carry a path (GitHub Enterprise Server: ``https://HOST/api/v3``); gidgethub ≥ 6
joins relative paths onto it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import gidgethub
import gidgethub.aiohttp

from bot.core.model import Account, CommentRef, Commit, Platform, PullRequest, RepoRef, StatusState
from bot.platforms.base import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    RateLimited,
    RetryableForgeError,
    StaleCommitList,
    account_from_api,
)
from bot.platforms.github.auth import InstallationTokens, rate_limit_until
from bot.platforms.github.events import (
    PayloadError,
    account_from_user,
    commit_from_api,
    pull_request_from_api,
)

__all__ = [
    "MAX_PR_COMMITS",
    "STATUS_DESCRIPTION_MAX",
    "GitHubClient",
    "GitHubPlatform",
    "GitHubSettings",
]

T = TypeVar("T")

MAX_PR_COMMITS = 250  # GET …/pulls/{n}/commits never lists more
STATUS_DESCRIPTION_MAX = 140  # longer descriptions get a 422
PER_PAGE = 100


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
    """Process-wide GitHub state: session, token cache, per-installation request slots."""

    platform = Platform.GITHUB

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
        self.tokens = InstallationTokens(
            session=session,
            api_url=settings.api_url,
            app_id=settings.app_id,
            private_key=settings.private_key,
            clock=clock,
            timeout_s=settings.timeout_s,
            requester=settings.requester,
        )
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


def _repo_vars(repo: RepoRef, **more: Any) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, **more}


class GitHubClient:
    """``ForgeClient`` for one GitHub App installation."""

    platform = Platform.GITHUB

    def __init__(self, *, platform: GitHubPlatform, installation_id: int) -> None:
        self._p = platform
        self.installation_id = installation_id
        self._timeout = aiohttp.ClientTimeout(total=platform.settings.timeout_s)

    def __repr__(self) -> str:
        return f"GitHubClient(installation_id={self.installation_id})"

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

    def _error(self, exc: gidgethub.HTTPException, what: str) -> ForgeError:
        status = int(exc.status_code)
        message = str(exc)[:200]
        until = rate_limit_until(status, exc.headers, message, now=self._p.clock())
        if until is not None:
            return RateLimited(f"{what}: rate limited ({status})", until=until, status=status)
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
                return await fn(self._api(token))
            except gidgethub.HTTPException as exc:
                if int(exc.status_code) == 401 and attempt == 1:
                    self._p.tokens.invalidate(self.installation_id, token)
                    continue
                raise self._error(exc, what) from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise RetryableForgeError(f"{what}: {type(exc).__name__}") from None
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
        """Every commit of the PR, oldest first.

        ``…/pulls/{n}/commits`` lists at most 250; beyond that (``pr.commit_count > 250``, or an
        unknown count and a full 250), ``compare/{base_sha}...{head_sha}`` pages through all.
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
            base_sha = pr.base_sha
            if base_sha is None:
                base_sha = (await self.get_pull(pr.repo, pr.number)).base_sha
            if base_sha is None:
                raise ForgeError(f"{what}: no base sha to compare with")
            url = f"/repos/{{owner}}/{{repo}}/compare/{{basehead}}?per_page={PER_PAGE}"
            url_vars = _repo_vars(pr.repo, basehead=f"{base_sha}...{pr.head_sha}")
            items = await self._call(
                what,
                lambda gh: self._collect(gh.getiter(url, url_vars, iterable_key="commits")),
            )
        commits = [commit_from_api(item) for item in items]
        if not commits or commits[-1].sha != pr.head_sha:
            last = commits[-1].sha[:12] if commits else "nothing"
            raise StaleCommitList(f"{what}: list ends at {last}, head is {pr.head_sha[:12]}")
        return commits

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

    def _is_own(self, item: Mapping[str, Any]) -> bool:
        user = item.get("user")
        if not isinstance(user, Mapping):
            return False
        bot_login = self._p.settings.bot_login
        login = user.get("login")
        if bot_login and isinstance(login, str) and login.lower() == bot_login.lower():
            return True
        return user.get("type") == "Bot"

    async def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        """The first comment carrying ``marker`` written by a Bot (or by ``bot_login``),
        searching every page (100 per page)."""
        url = f"/repos/{{owner}}/{{repo}}/issues/{{number}}/comments?per_page={PER_PAGE}"
        url_vars = _repo_vars(repo, number=number)
        items = await self._call(
            f"list comments of {repo.full_name}#{number}",
            lambda gh: self._collect(gh.getiter(url, url_vars)),
        )
        for item in items:
            if (
                isinstance(item, Mapping)
                and marker in (item.get("body") or "")
                and self._is_own(item)
            ):
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
        return account_from_api(Platform.GITHUB, data)

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
