"""The plumbing every GitHub installation call goes through (the rules are in
:mod:`bot.platforms.github.client`'s docstring): gidgethub's aiohttp adapter with a timeout and an
in-flight cap, the token cache's retry on a 401, and GitHub's failures mapped onto
``bot.platforms.base``'s errors."""

from __future__ import annotations

import asyncio
import http
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import gidgethub
import gidgethub.aiohttp

from bot.core.model import RepoRef
from bot.platforms.base import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    MissingPermission,
    RateLimited,
    RetryableForgeError,
)
from bot.platforms.github.auth import rate_limit

if TYPE_CHECKING:
    from bot.platforms.github.client import GitHubPlatform

T = TypeVar("T")

PER_PAGE = 100
ACCEPTED_PERMISSIONS = "X-Accepted-GitHub-Permissions"
_PERMISSION = re.compile(r"([a-z_]+)=(read|write|admin)")


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


def missing_permission(
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
    """What the GitHub platform needs, built by the adapter (``forge.connect``)."""

    app_id: str
    private_key: str = field(repr=False)
    api_url: str = "https://api.github.com"
    bot_login: str | None = None  # "<app-slug>[bot]", when known
    timeout_s: float = 10.0
    max_in_flight: int = 8  # concurrent requests per installation
    requester: str = "cla-bot"


class API(gidgethub.aiohttp.GitHubAPI):
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


def repo_vars(repo: RepoRef, **more: Any) -> dict[str, Any]:
    return {"owner": repo.owner, "repo": repo.name, **more}


class InstallationCalls:
    """One installation's calls: what every part of :class:`GitHubClient` builds on."""

    def __init__(self, *, platform: GitHubPlatform, installation_id: int) -> None:
        self._p = platform
        self.installation_id = installation_id
        self._timeout = aiohttp.ClientTimeout(total=platform.settings.timeout_s)

    def _api(self, token: str) -> API:
        s = self._p.settings
        return API(
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
        missing = missing_permission(status, exc.headers, what)
        if missing is not None:
            return missing
        if status >= 500:
            return RetryableForgeError(f"{what}: HTTP {status}", status=status)
        if status in (404, 410):
            return ForgeNotFound(f"{what}: HTTP {status}", status=status)
        if status == 401:
            return ForgeAuthError(f"{what}: HTTP 401 after a token refresh", status=status)
        return ForgeError(f"{what}: HTTP {status} {message}".rstrip(), status=status)

    async def _call(self, what: str, fn: Callable[[API], Awaitable[T]]) -> T:
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

    async def _get(self, what: str, url: str, url_vars: Mapping[str, Any]) -> Any:
        return await self._call(what, lambda gh: gh.getitem(url, url_vars))
