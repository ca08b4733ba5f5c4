"""GitHub App authentication: the App JWT and a cache of installation access tokens.

* App JWT — RS256 with the App's private key; ``iat`` back-dated 60 s for clock drift, ``exp``
  at most 10 minutes after ``iat``; ``iss`` = App id.
  https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
* Installation token — ``POST /app/installations/{installation_id}/access_tokens`` with the JWT
  → ``201 {"token", "expires_at"}``, valid one hour. Cached per installation, refreshed when less
  than five minutes remain, minted once for any number of concurrent callers (single flight),
  dropped after a 401.
  https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation

Tokens and keys never appear in logs, exception messages or ``repr``.

Errors follow ``bot.platforms.base``: a rejected JWT, an unknown / deleted / suspended
installation → ``ForgeAuthError``; 5xx, timeouts, connection errors → ``RetryableForgeError``;
rate limits → ``RateLimited``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jwt

from bot.platforms.base import ForgeAuthError, ForgeError, RateLimited, RetryableForgeError

__all__ = [
    "JWT_BACKDATE_S",
    "JWT_LIFETIME_S",
    "TOKEN_REFRESH_MARGIN_S",
    "AppLogin",
    "InstallationTokens",
    "RateLimit",
    "SecondaryLimits",
    "make_app_jwt",
    "rate_limit",
]

log = logging.getLogger(__name__)

JWT_BACKDATE_S = 60
JWT_LIFETIME_S = 540  # exp = now + 540, so exp − iat = 600 s: GitHub's maximum
TOKEN_REFRESH_MARGIN_S = 300
SECONDARY_LIMIT_WAIT_S = 60
SECONDARY_LIMIT_MAX_WAIT_S = 960  # a minute doubled four times: 60, 120, 240, 480, 960
ACCEPT = "application/vnd.github+json"
API_VERSION = "2022-11-28"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")  # an App's slug, as GitHub derives it from the name


def make_app_jwt(*, app_id: str, private_key: str, now: float) -> str:
    """A JWT authenticating as the App: ``iat = now − 60``, ``exp = now + 540``, ``iss = app_id``.

    ``exp − iat`` is exactly 600 s, GitHub's upper bound.
    """
    issued_at = int(now) - JWT_BACKDATE_S
    payload = {"iat": issued_at, "exp": int(now) + JWT_LIFETIME_S, "iss": str(app_id)}
    return jwt.encode(payload, private_key, algorithm="RS256")


def _is_secondary_limit(message: str) -> bool:
    text = message.lower()
    return "secondary rate limit" in text or "abuse" in text or "rate limit" in text


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A 403/429 that is a rate limit: when GitHub says to try again, and which kind it is.

    ``secondary`` is every limit but the primary one (``x-ratelimit-remaining: 0``, which
    resets at a known time); repeated secondary limits back off (:class:`SecondaryLimits`).
    """

    until: datetime
    secondary: bool


def rate_limit(
    status: int, headers: Mapping[str, str], message: str, *, now: float
) -> RateLimit | None:
    """When a 403/429 answer is a rate limit, the moment to try again; else ``None``.

    Order from GitHub's guidance: ``retry-after`` seconds if present; else
    ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0; else, for a 429 or a 403 whose
    message names a (secondary) rate limit, one minute from ``now``.
    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
    """
    if status not in (403, 429):
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = lower.get("retry-after", "").strip()
    remaining = lower.get("x-ratelimit-remaining", "").strip()
    reset = lower.get("x-ratelimit-reset", "").strip()
    secondary = remaining != "0"
    if retry_after.isdigit():
        return RateLimit(datetime.fromtimestamp(now + int(retry_after), tz=UTC), secondary)
    if not secondary and reset.isdigit():
        return RateLimit(datetime.fromtimestamp(max(int(reset), now), tz=UTC), False)
    if status == 429 or not secondary or _is_secondary_limit(message):
        return RateLimit(datetime.fromtimestamp(now + SECONDARY_LIMIT_WAIT_S, tz=UTC), secondary)
    return None


class SecondaryLimits:
    """How many secondary rate limits in a row each installation met, for backing off.

    GitHub: "If your request continues to fail due to a secondary rate limit, wait for an
    exponentially increasing amount of time between retries." The first limit waits what
    GitHub asked (``retry-after``, else a minute); each next one in a row twice as long as the
    one before, up to ``max_wait_s`` (never less than GitHub asked); a successful request of
    the installation ends the streak. Limits met while the installation is still waiting out
    the last one (requests already on the wire) are the same episode and do not count again.
    """

    def __init__(self, *, max_wait_s: float = SECONDARY_LIMIT_MAX_WAIT_S) -> None:
        self.max_wait_s = max_wait_s
        self._streaks: dict[int, tuple[int, float]] = {}  # installation → (in a row, until)

    def streak(self, installation_id: int) -> int:
        return self._streaks.get(installation_id, (0, 0.0))[0]

    def until(self, installation_id: int, limit: RateLimit, *, now: float) -> datetime:
        """When the installation may try again after ``limit`` (counted if secondary)."""
        if not limit.secondary:
            return limit.until
        count, until = self._streaks.get(installation_id, (0, 0.0))
        asked = max(limit.until.timestamp() - now, 0.0)
        if now < until:
            wait = max(until - now, asked)
        else:
            count += 1
            wait = max(asked, min(asked * 2 ** (count - 1), self.max_wait_s))
        self._streaks[installation_id] = (count, now + wait)
        return datetime.fromtimestamp(now + wait, tz=UTC)

    def succeeded(self, installation_id: int) -> None:
        self._streaks.pop(installation_id, None)


def _parse_expires_at(value: object) -> float:
    if not isinstance(value, str):
        raise ValueError("expires_at missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # epoch seconds

    def __repr__(self) -> str:  # never show the secret
        return f"_Token(expires_at={self.expires_at})"


class InstallationTokens:
    """Installation access tokens, cached per installation and minted single-flight.

    ``clock`` returns epoch seconds (``time.time``); it drives both the JWT claims and the
    refresh decision, so tests can move time.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        api_url: str,
        app_id: str,
        private_key: str,
        clock: Callable[[], float],
        timeout_s: float = 10.0,
        requester: str = "cla-bot",
        refresh_margin_s: float = TOKEN_REFRESH_MARGIN_S,
        limits: SecondaryLimits | None = None,
    ) -> None:
        self._session = session
        self._api_url = api_url.rstrip("/")
        self._app_id = str(app_id)
        self._private_key = private_key
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._requester = requester
        self._refresh_margin_s = refresh_margin_s
        self._limits = limits
        self._cache: dict[int, _Token] = {}
        self._pending: dict[int, asyncio.Future[_Token]] = {}  # single flight per installation

    def __repr__(self) -> str:
        return f"InstallationTokens(api_url={self._api_url!r}, app_id={self._app_id!r})"

    def app_jwt(self) -> str:
        """A fresh App JWT (for ``/app/...`` endpoints)."""
        return make_app_jwt(app_id=self._app_id, private_key=self._private_key, now=self._clock())

    def _fresh(self, installation_id: int) -> _Token | None:
        tok = self._cache.get(installation_id)
        if tok is not None and tok.expires_at - self._clock() >= self._refresh_margin_s:
            return tok
        return None

    async def get(self, installation_id: int) -> str:
        """A token for ``installation_id`` valid for at least the refresh margin.

        Concurrent callers for one installation share a single token request (and its
        failure); a caller being cancelled does not cancel the request for the others.
        """
        tok = self._fresh(installation_id)
        if tok is not None:
            return tok.value
        pending = self._pending.get(installation_id)
        if pending is None:
            pending = asyncio.ensure_future(self._mint_and_store(installation_id))
            self._pending[installation_id] = pending
            pending.add_done_callback(functools.partial(self._settled, installation_id))
        return (await asyncio.shield(pending)).value

    async def _mint_and_store(self, installation_id: int) -> _Token:
        tok = await self._mint(installation_id)
        self._cache[installation_id] = tok
        return tok

    def _settled(self, installation_id: int, fut: asyncio.Future[_Token]) -> None:
        if self._pending.get(installation_id) is fut:
            del self._pending[installation_id]
        if not fut.cancelled():
            fut.exception()  # retrieved here too, so an unawaited failure is never reported

    def invalidate(self, installation_id: int, token: str) -> None:
        """Forget ``token`` (after a 401). A newer token minted meanwhile is kept."""
        tok = self._cache.get(installation_id)
        if tok is not None and tok.value == token:
            del self._cache[installation_id]

    async def app_request(
        self, method: str, path: str, what: str, *, installation_id: int | None = None
    ) -> tuple[int, Any, str]:
        """``method path`` authenticated as the App (JWT): status, JSON body (``None`` if not
        JSON) and GitHub's message. Rate limits raise ``RateLimited`` (backing off per
        installation, when the request is for one), 5xx and connection failures
        ``RetryableForgeError``; other answers are the caller's to judge."""
        url = f"{self._api_url}{path}"
        headers = {
            "Authorization": f"Bearer {self.app_jwt()}",
            "Accept": ACCEPT,
            "User-Agent": self._requester,
            "X-GitHub-Api-Version": API_VERSION,
        }
        try:
            async with self._session.request(
                method, url, headers=headers, timeout=self._timeout
            ) as resp:
                status = resp.status
                resp_headers = dict(resp.headers)
                body = await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RetryableForgeError(f"{what}: {type(exc).__name__}") from None
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        message = data.get("message", "") if isinstance(data, dict) else ""
        message = str(message)[:200]
        now = self._clock()
        limit = rate_limit(status, resp_headers, message, now=now)
        if limit is not None:
            until = limit.until
            if self._limits is not None and installation_id is not None:
                until = self._limits.until(installation_id, limit, now=now)
            raise RateLimited(f"{what}: rate limited", until=until, status=status)
        if status >= 500:
            raise RetryableForgeError(f"{what}: HTTP {status}", status=status)
        return status, data, message

    async def _mint(self, installation_id: int) -> _Token:
        what = f"installation token for {installation_id}"
        path = f"/app/installations/{int(installation_id)}/access_tokens"
        status, data, message = await self.app_request(
            "POST", path, what, installation_id=installation_id
        )
        if status == 201 and isinstance(data, dict):
            token = data.get("token")
            try:
                expires_at = _parse_expires_at(data.get("expires_at"))
            except ValueError:
                raise ForgeError(f"{what}: malformed answer", status=status) from None
            if not isinstance(token, str) or not token:
                raise ForgeError(f"{what}: malformed answer", status=status)
            log.debug("minted %s, expires at %s", what, expires_at)
            return _Token(token, expires_at)
        if status in (401, 403, 404, 410):
            # 401: the JWT was refused; 403: suspended; 404/410: the installation is gone.
            raise ForgeAuthError(f"{what}: HTTP {status} {message}".rstrip(), status=status)
        raise ForgeError(f"{what}: HTTP {status} {message}".rstrip(), status=status)


class AppLogin:
    """The login of the App's bot account (``<slug>[bot]``), asked of GitHub once per process.

    ``GET /app`` (App JWT) answers the App's ``slug``; comments the App writes carry
    ``user.login == "<slug>[bot]"``. Known, the bot recognises its own comment by that login,
    never by ``user.type == "Bot"`` alone, which another App's comment has too. A configured
    login (``GitHubSettings.bot_login``) is taken as it is, and nothing is asked. Concurrent
    callers share one request; a failed one is not remembered (the next caller asks again).
    https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
    """

    def __init__(self, tokens: InstallationTokens, *, configured: str | None = None) -> None:
        self._tokens = tokens
        self._login = configured or None
        self._pending: asyncio.Future[str] | None = None

    async def get(self) -> str:
        if self._login is not None:
            return self._login
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._ask())
            self._pending.add_done_callback(self._settled)
        return await asyncio.shield(self._pending)

    def _settled(self, fut: asyncio.Future[str]) -> None:
        if self._pending is fut:
            self._pending = None
        if not fut.cancelled() and fut.exception() is None:
            self._login = fut.result()

    async def _ask(self) -> str:
        what = "the App's own login (GET /app)"
        status, data, message = await self._tokens.app_request("GET", "/app", what)
        if status in (401, 403, 404):
            raise ForgeAuthError(f"{what}: HTTP {status} {message}".rstrip(), status=status)
        slug = data.get("slug") if isinstance(data, dict) and status == 200 else None
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            raise ForgeError(f"{what}: HTTP {status}, no usable slug", status=status)
        log.info("GitHub: the App's bot account is %s[bot]", slug)
        return f"{slug}[bot]"
