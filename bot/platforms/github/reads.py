"""An installation's reads: the PR, its commits (with the accounts GitHub links to their
authors), the bot's comment, a user's permission, role in an organisation, and accounts."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.identity import co_authors_to_link
from bot.core.model import Account, CommentRef, Commit, PullRequest, RepoRef
from bot.platforms.base import (
    ForgeError,
    ForgeNotFound,
    MissingPermission,
    RetryableForgeError,
    StaleCommitList,
    account_from_api,
)
from bot.platforms.github.coauthors import CoAuthorCalls
from bot.platforms.github.events import (
    PayloadError,
    account_from_user,
    commit_from_api,
    pull_request_from_api,
)
from bot.platforms.github.facts import FACTS, GITHUB
from bot.platforms.github.transport import PER_PAGE, repo_vars

MAX_PR_COMMITS = 250  # GET …/pulls/{n}/commits never lists more

log = logging.getLogger("bot.platforms.github.client")


class ReadCalls(CoAuthorCalls):
    """What the bot reads from an installation."""

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequest:
        url = "/repos/{owner}/{repo}/pulls/{number}"
        data = await self._call(
            f"get PR {repo.full_name}#{number}",
            lambda gh: gh.getitem(url, repo_vars(repo, number=number)),
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
            url_vars = repo_vars(pr.repo, number=pr.number)
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
        url_vars = repo_vars(pr.repo, basehead=f"{base_sha}...{pr.head_sha}")
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
        url_vars = repo_vars(repo, number=number)
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
                lambda gh: gh.getitem(url, repo_vars(repo, comment_id=comment_id)),
            )
        except ForgeNotFound:
            return None
        return self._comment_ref(data)

    async def get_permission(self, repo: RepoRef, login: str) -> str:
        """``admin`` / ``write`` / ``read`` / ``none`` (GitHub's ``permission``: maintain counts
        as write, triage as read). An unknown user is ``none``."""
        url = "/repos/{owner}/{repo}/collaborators/{username}/permission"
        try:
            data = await self._call(
                f"permission of a user on {repo.full_name}",
                lambda gh: gh.getitem(url, repo_vars(repo, username=login)),
            )
        except ForgeNotFound:
            return "none"
        permission = data.get("permission") if isinstance(data, Mapping) else None
        return permission if isinstance(permission, str) else "none"

    async def owner_role(self, owner: str, login: str) -> str:
        """``admin`` / ``member`` / ``none``: what ``login`` is of the account ``owner``.

        What GitHub says, and what follows here:

        * ``GET /orgs/{org}/memberships/{username}`` ("Get organization membership for a
          user", operationId ``orgs/get-membership-for-user``; @octokit/openapi 23.0.2, the
          subset in ``bot/sandbox/fakeforge/data/github/openapi-subset.json``) answers an
          ``org-membership``: ``state`` ``active`` | ``pending`` (an invitation not accepted
          yet) and ``role`` ``admin`` (an organisation owner) | ``member`` |
          ``billing_manager``; 403 and 404 are its declared failures. "In order to get a
          user's membership with an organization, the authenticated user must be an
          organization member": an installation token asks as the App installed on that
          organisation. https://docs.github.com/rest/orgs/members#get-organization-membership-for-a-user
        * A GitHub App needs the organisation permission *Members: read* for it ("Permissions
          required for GitHub Apps", *Organization permissions for "Members"*: ``GET
          /orgs/{org}/memberships/{username}`` read;
          https://docs.github.com/rest/authentication/permissions-required-for-github-apps).
          An installation that has not accepted it gets 403 with
          ``X-Accepted-GitHub-Permissions: members=read`` (``MissingPermission``): that is
          ``none``, said once in the log, so that the console still answers while an owner has
          not accepted the new permission.
        * 404: the user is not a member, or ``owner`` is not an organisation (a person's
          account has no members) — ``none``.
        * A person's own account: its owner is that person (logins are one namespace for
          people and organisations on GitHub, so ``login == owner`` names the same account).

        Only an active ``admin`` is ``admin``; an active ``member`` is ``member``; a pending
        invitation or a billing manager (not a member) is ``none``.
        """
        if login.lower() == owner.lower():
            return "admin"
        url = "/orgs/{org}/memberships/{username}"
        try:
            data = await self._call(
                f"membership of a user in {owner}",
                lambda gh: gh.getitem(url, {"org": owner, "username": login}),
            )
        except ForgeNotFound:
            return "none"
        except MissingPermission as exc:
            log.warning(
                "cannot ask who administers %s: installation %s lacks %s; answering none",
                owner,
                self.installation_id,
                _needs(exc),
            )
            return "none"
        state = data.get("state") if isinstance(data, Mapping) else None
        role = data.get("role") if isinstance(data, Mapping) else None
        if state != "active":
            return "none"
        return {"admin": "admin", "member": "member"}.get(
            role if isinstance(role, str) else "", "none"
        )

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


def _needs(exc: MissingPermission) -> str:
    """The permission sets a ``MissingPermission`` named, as ``members=read`` (or ``a
    permission`` when GitHub named none)."""
    named = " or ".join(",".join(f"{n}={lvl}" for n, lvl in pairs) for pairs in exc.accepted)
    return named or "a permission"
