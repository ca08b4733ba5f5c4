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
import time
from collections.abc import Callable

import aiohttp

from bot.platforms.github.auth import AppLogin, InstallationTokens, SecondaryLimits
from bot.platforms.github.coauthors import CO_AUTHORS_QUERY
from bot.platforms.github.facts import GITHUB
from bot.platforms.github.reads import MAX_PR_COMMITS, ReadCalls
from bot.platforms.github.transport import GitHubSettings, accepted_permissions
from bot.platforms.github.writes import STATUS_DESCRIPTION_MAX, WriteCalls

__all__ = [
    "CO_AUTHORS_QUERY",
    "MAX_PR_COMMITS",
    "STATUS_DESCRIPTION_MAX",
    "GitHubClient",
    "GitHubPlatform",
    "GitHubSettings",
    "accepted_permissions",
]


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


class GitHubClient(ReadCalls, WriteCalls):
    """``ForgeClient`` for one GitHub App installation: its reads
    (:mod:`~bot.platforms.github.reads`, with co-authors from
    :mod:`~bot.platforms.github.coauthors`) and writes (:mod:`~bot.platforms.github.writes`),
    all through :mod:`~bot.platforms.github.transport`."""

    platform = GITHUB

    def __repr__(self) -> str:
        return f"GitHubClient(installation_id={self.installation_id})"

    @property
    def check_runs(self) -> GitHubClient:
        """GitHub has check runs (the installation may still lack ``checks: write``: then
        every call raises ``MissingPermission``)."""
        return self
