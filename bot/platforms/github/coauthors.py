"""The accounts GitHub links to a PR's co-authors: GraphQL ``Commit.authors`` (REST has none),
and the GraphQL call with its errors mapped like REST's."""

from __future__ import annotations

import dataclasses
import http
import json
import logging
from collections.abc import Mapping
from typing import Any

import gidgethub
import gidgethub.sansio

from bot.core.identity import normalise_email, parse_coauthors
from bot.core.model import Account, Commit, PullRequest
from bot.platforms.base import (
    ForgeError,
    ForgeNotFound,
    MissingPermission,
    RetryableForgeError,
)
from bot.platforms.github.events import PayloadError, co_author_page_from_graphql
from bot.platforms.github.transport import API, PER_PAGE, InstallationCalls, missing_permission

# The client's logger name, which operators' log filters know.
log = logging.getLogger("bot.platforms.github.client")

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


class CoAuthorCalls(InstallationCalls):
    """Linking co-authors to accounts, over GraphQL."""

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

        async def post(gh: API) -> Any:
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
            missing = missing_permission(403, headers, what)
            return missing or MissingPermission(f"{what}: GraphQL FORBIDDEN: {message}")
        if kind == "NOT_FOUND":
            return ForgeNotFound(f"{what}: GraphQL NOT_FOUND: {message}")
        return ForgeError(f"{what}: GraphQL {kind or 'error'}: {message}".rstrip())
