"""The Gitee side of ``bot.platforms.base.ForgeClient``, on ``bot.platforms.gitee.api.GiteeAPI``.

Gitee has no App installations: one bot account's token serves every repository, so
``GiteePlatform.client(installation_id=None)`` always gives a client of that account.

Differences from GitHub the callers must know:

* **No commit statuses** on Gitee: ``set_status`` is a no-op (the labels and the comment are
  the report); the forge's adapter says so (``FORGE.reports.statuses`` is ``False``), and the
  check service asks the adapter, not the client.
* **At most 250 commits**: ``GET …/pulls/{n}/commits`` lists no more and has no paging
  ("最多显示250条Commit", Gitee Open API). A PR known to have more (``commits`` > 250), or a
  list of 250 for a PR whose count is unknown (the API's PR object has none; only webhook
  bodies do), raises :class:`TooManyCommits` (a non-retryable ``ForgeError``): the check cannot
  see every author, so it must neither pass nor retry forever.
* Comments are created on ``/pulls/{n}/comments`` but read and edited at
  ``/pulls/comments/{id}``; labels are added with a bare JSON array; a label name is one
  encoded path segment on DELETE (``cla/yes`` → ``cla%2Fyes``).
* **No user lookup by id**: Gitee API v5 finds a user by login only (``GET /users/{username}``,
  "获取一个用户"; its Users API has no by-id operation, unlike GitHub's ``GET /user/{id}``).
  ``user_by_id(account_id, login=…)`` therefore asks for the login written next to the id (the
  ``ID+login@user.noreply.gitee.com`` address) and confirms the id only when the answer carries
  that same ``id``: without a login, or once the account has been renamed (the address keeps the
  old login, which may be free or someone else's), the id cannot be confirmed and the answer is
  ``None``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import aiohttp

from bot.core.model import Account, CommentRef, Commit, PullRequest, RepoRef, StatusState
from bot.platforms.base import ForgeError, ForgeNotFound, StaleCommitList, account_from_api
from bot.platforms.gitee.api import DEFAULT_API_URL, MAX_PER_PAGE, GiteeAPI
from bot.platforms.gitee.events import (
    PayloadError,
    comment_from_api,
    commit_from_api,
    pull_request_from_api,
)
from bot.platforms.gitee.facts import GITEE

__all__ = [
    "MAX_PR_COMMITS",
    "GiteeClient",
    "GiteePlatform",
    "GiteeSettings",
    "TooManyCommits",
]

T = TypeVar("T")

MAX_PR_COMMITS: Final = 250

# Gitee's ``permission`` of ``…/collaborators/{username}/permission`` → ours. Observed values
# are admin / write / read; push / pull (GitHub-style) and maintain / triage are mapped in case.
_PERMISSIONS: Final = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "push": "write",
    "triage": "read",
    "read": "read",
    "pull": "read",
}


class TooManyCommits(ForgeError):
    """The PR has more commits than Gitee's commits endpoint lists (250)."""


@dataclass(frozen=True, kw_only=True)
class GiteeSettings:
    """What the Gitee platform needs; built by the adapter (``forge.connect``) from its settings."""

    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    bot_login: str | None = None  # known login of the token's account; else ``GET /user``
    timeout_s: float = 10.0
    max_in_flight: int = 8
    get_retries: int = 2
    retry_backoff_s: float = 0.5
    user_agent: str = "cla-bot"


class GiteePlatform:
    """Process-wide Gitee state: the API client of the bot account and its login."""

    platform = GITEE

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        settings: GiteeSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.settings = settings
        self.api = GiteeAPI(
            session,
            token=settings.token,
            base_url=settings.api_url,
            timeout_s=settings.timeout_s,
            get_retries=settings.get_retries,
            retry_backoff_s=settings.retry_backoff_s,
            max_in_flight=settings.max_in_flight,
            user_agent=settings.user_agent,
            clock=clock,
        )
        self._bot_login = settings.bot_login
        self._login_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"GiteePlatform(api_url={self.settings.api_url!r})"

    def client(self, installation_id: int | None = None) -> GiteeClient:
        """The bot account's client (``installation_id`` is ignored: Gitee has none)."""
        return GiteeClient(platform=self)

    async def bot_login(self) -> str:
        """The token's account login (``GET /user``), asked once and cached."""
        if self._bot_login is not None:
            return self._bot_login
        async with self._login_lock:
            if self._bot_login is None:
                data = await self.api.getitem("/user")
                login = data.get("login") if isinstance(data, Mapping) else None
                if not isinstance(login, str) or not login:
                    raise ForgeError("GET /user: the answer has no login")
                self._bot_login = login
            return self._bot_login


def _repo_vars(repo: RepoRef, **more: Any) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, **more}


class GiteeClient:
    """``ForgeClient`` for the Gitee bot account."""

    platform = GITEE

    installation_id: int | None = None

    @property
    def check_runs(self) -> None:
        """Gitee has no check runs the bot writes: it reports by labels and its comment."""
        return None

    def __init__(self, *, platform: GiteePlatform) -> None:
        self._p = platform

    def __repr__(self) -> str:
        return "GiteeClient()"

    @property
    def api(self) -> GiteeAPI:
        return self._p.api

    @staticmethod
    def _payload(what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except PayloadError as exc:
            raise ForgeError(f"{what}: unexpected answer ({exc})") from None

    # -- ForgeClient ---------------------------------------------------------------------------

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequest:
        data = await self.api.getitem(
            "/repos/{owner}/{repo}/pulls/{number}", _repo_vars(repo, number=number)
        )
        return self._payload(
            f"get PR {repo.full_name}!{number}", lambda: pull_request_from_api(data, repo)
        )

    async def open_pulls(self, repo: RepoRef) -> list[PullRequest]:
        """The repository's open PRs (for the reconciliation sweep: Gitee cannot redeliver)."""
        out: list[PullRequest] = []
        async for item in self.api.getiter(
            "/repos/{owner}/{repo}/pulls", _repo_vars(repo), params={"state": "open"}
        ):
            try:
                out.append(pull_request_from_api(item, repo))
            except PayloadError as exc:
                raise ForgeError(
                    f"list PRs of {repo.full_name}: unexpected answer ({exc})"
                ) from None
        return out

    async def list_commits(self, pr: PullRequest) -> Sequence[Commit]:
        """Every commit of the PR, oldest first (see the module docstring for the 250 limit).

        The order of Gitee's list is not documented; a list that starts (rather than ends) at
        the head is reversed. A list that does not contain the head is stale (just after a push):
        ``StaleCommitList``.
        """
        what = f"list commits of {pr.repo.full_name}!{pr.number}"
        if pr.commit_count is not None and pr.commit_count > MAX_PR_COMMITS:
            raise TooManyCommits(
                f"{what}: {pr.commit_count} commits, Gitee lists at most {MAX_PR_COMMITS}"
            )
        data = await self.api.getitem(
            "/repos/{owner}/{repo}/pulls/{number}/commits", _repo_vars(pr.repo, number=pr.number)
        )
        if not isinstance(data, list):
            raise ForgeError(f"{what}: expected a JSON array")
        commits: list[Commit] = self._payload(what, lambda: [commit_from_api(i) for i in data])
        if len(commits) > 1 and commits[0].sha == pr.head_sha and commits[-1].sha != pr.head_sha:
            commits.reverse()
        if len(commits) >= MAX_PR_COMMITS and pr.commit_count != len(commits):
            # Gitee's API PR carries no commit count: a full list may be cut off anywhere.
            raise TooManyCommits(f"{what}: {len(commits)} listed, Gitee lists no more")
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
        """No-op: Gitee has no commit statuses (see ``FORGE.reports``)."""
        return None

    async def add_labels(self, repo: RepoRef, number: int, names: Sequence[str]) -> None:
        if not names:
            return
        await self.api.post(
            "/repos/{owner}/{repo}/pulls/{number}/labels",
            _repo_vars(repo, number=number),
            data=list(names),  # a bare JSON array, not {"labels": [...]}
        )

    async def remove_label(self, repo: RepoRef, number: int, name: str) -> None:
        with contextlib.suppress(ForgeNotFound):  # absent label: already the wanted state
            await self.api.delete(
                "/repos/{owner}/{repo}/pulls/{number}/labels/{name}",
                _repo_vars(repo, number=number, name=name),
            )

    async def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        """The first comment carrying ``marker`` written by the bot account, searching every
        page (100 per page)."""
        bot_login = (await self._p.bot_login()).lower()
        async for item in self.api.getiter(
            "/repos/{owner}/{repo}/pulls/{number}/comments",
            _repo_vars(repo, number=number),
            per_page=MAX_PER_PAGE,
        ):
            if not isinstance(item, Mapping):
                continue
            body = item.get("body")
            user = item.get("user")
            login = user.get("login") if isinstance(user, Mapping) else None
            if (
                isinstance(body, str)
                and marker in body
                and isinstance(login, str)
                and login.lower() == bot_login
            ):
                return self._payload("find comment", functools.partial(comment_from_api, item))
        return None

    async def get_comment(self, repo: RepoRef, comment_id: int) -> CommentRef | None:
        try:
            data = await self.api.getitem(
                "/repos/{owner}/{repo}/pulls/comments/{id}", _repo_vars(repo, id=comment_id)
            )
        except ForgeNotFound:
            return None
        return self._payload(f"get comment {comment_id}", lambda: comment_from_api(data))

    async def create_comment(self, repo: RepoRef, number: int, body: str) -> int:
        data = await self.api.post(
            "/repos/{owner}/{repo}/pulls/{number}/comments",
            _repo_vars(repo, number=number),
            data={"body": body},
        )
        ref = self._payload(f"comment on {repo.full_name}!{number}", lambda: comment_from_api(data))
        return ref.comment_id

    async def edit_comment(self, repo: RepoRef, comment_id: int, body: str) -> None:
        await self.api.patch(
            "/repos/{owner}/{repo}/pulls/comments/{id}",
            _repo_vars(repo, id=comment_id),
            data={"body": body},
        )

    async def get_permission(self, repo: RepoRef, login: str) -> str:
        """``admin`` / ``write`` / ``read`` / ``none`` from Gitee's collaborator permission
        (``GET /repos/{owner}/{repo}/collaborators/{username}/permission``); a user who is not a
        collaborator (404) or an unknown value is ``none``."""
        try:
            data = await self.api.getitem(
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
                _repo_vars(repo, username=login),
            )
        except ForgeNotFound:
            return "none"
        permission = data.get("permission") if isinstance(data, Mapping) else None
        if not isinstance(permission, str):
            return "none"
        return _PERMISSIONS.get(permission.strip().lower(), "none")

    async def owner_role(self, owner: str, login: str) -> str:
        """``admin`` / ``member`` / ``none``: what ``login`` is of the namespace ``owner``.

        Gitee API v5 ``GET /orgs/{org}/memberships/{username}`` ("获取授权用户所属组织的一个成员":
        a member of an organisation the token's user belongs to) answers a ``GroupMember``
        (``url``, ``active``, ``remark``, ``role``, ``organization_url``, ``organization``,
        ``user``) or 404 ("没有相关数据"); ``role`` is ``admin`` or ``member``, the values
        ``PUT`` on the same path sets ("设置用户在组织的角色", enum admin / member). Source:
        the Gitee Open API swagger (opensourceways/go-gitee ``api/swagger.yaml``, operation
        ``getV5OrgsOrgMembershipsUsername``, definition ``GroupMember``).

        * A personal namespace belongs to its user: ``login == owner`` is ``admin`` without
          asking (Gitee's user and organisation paths are one namespace, ``gitee.com/<path>``).
        * 404 — not a member, not an organisation, or an organisation the bot account is not in
          (it can only see members of its own organisations) — is ``none``.
        * An inactive membership (``active`` false, as a boolean or the swagger's string) is
          ``none``; ``admin`` (or ``owner``) is ``admin``; any other role is ``member``.
        * Other failures raise ``ForgeError`` as every call does.
        """
        if login.lower() == owner.lower():
            return "admin"
        try:
            data = await self.api.getitem(
                "/orgs/{org}/memberships/{username}", {"org": owner, "username": login}
            )
        except ForgeNotFound:
            return "none"
        if not isinstance(data, Mapping):
            raise ForgeError(f"membership of a user in {owner}: the answer is not an object")
        active = data.get("active", True)
        if active is False or (isinstance(active, str) and active.strip().lower() == "false"):
            return "none"
        role = data.get("role")
        if not isinstance(role, str):
            return "none"
        return "admin" if role.strip().lower() in ("admin", "owner") else "member"

    async def user_by_login(self, login: str) -> Account | None:
        """``GET /users/{username}``: the user's account id and login as Gitee spells it; an
        unknown login is ``None``."""
        try:
            data = await self.api.getitem("/users/{username}", {"username": login})
        except ForgeNotFound:
            return None
        return account_from_api(GITEE, data)

    async def user_by_id(self, account_id: str, *, login: str | None = None) -> Account | None:
        """The account ``login`` names (``GET /users/{username}``) when its id is ``account_id``;
        ``None`` when there is no login to ask with, no such user (404), or another id (see the
        module docstring: Gitee cannot look a user up by id)."""
        if not login:
            return None
        account = await self.user_by_login(login)
        if account is None or account.account_id != account_id:
            return None
        return account
