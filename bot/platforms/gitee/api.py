"""A small async client for Gitee API v5 over aiohttp, shaped like gidgethub's.

``getitem`` / ``getiter`` / ``post`` / ``patch`` / ``put`` / ``delete`` take a path template
relative to the base URL (``https://gitee.com/api/v5`` by default) and ``url_vars``; every
variable is percent-encoded as **one path segment** (``quote(value, safe="")``), so a label
``cla/yes`` travels as ``cla%2Fyes`` — which Gitee needs ("gitee's bug", opensourceways
community-robot-lib ``RemovePRLabel``) — and the URL is handed to aiohttp pre-encoded
(``yarl.URL(..., encoded=True)``) so nothing re-encodes or decodes it.

One place for:

* **auth** — the bot account's token as ``Authorization: Bearer <token>``. Gitee's swagger also
  documents an ``access_token`` query/form parameter on every operation, but a query parameter
  ends up in access logs and in URLs that exception messages quote; the header is what
  opensourceways' production Gitee robots send (community-robot-lib ``giteeclient.NewClient``
  wraps its HTTP client in ``oauth2.StaticTokenSource``, i.e. ``Authorization: Bearer``). The
  token never appears in a log record or an exception message: messages name the method and the
  path only, error excerpts have the token masked, and exceptions are raised ``from None``;
* **timeouts** — ``timeout_s`` per request (aiohttp's own default is 300 s);
* **errors** — mapped onto ``bot.platforms.base``: 5xx, timeouts, connection errors and
  unreadable 2xx bodies → ``RetryableForgeError``; 429, and 403 naming a rate limit or with
  ``X-RateLimit-Remaining: 0`` → ``RateLimited(until=…)`` (``Retry-After``, else
  ``X-RateLimit-Reset``, else one minute; clamped to [1 s, 1 h]); 401 → ``ForgeAuthError`` (a
  static token cannot be refreshed); 404/410 → ``ForgeNotFound``; anything else →
  ``ForgeError``;
* **retries** — idempotent GETs are retried ``get_retries`` times on retryable failures (not on
  rate limits: the job queue waits for those) after ``retry_backoff_s``, doubling;
* **an in-flight cap** — at most ``max_in_flight`` requests on the wire at once.

Paging (``getiter``): ``page`` / ``per_page`` (max 100). Gitee reports ``total_page`` /
``total_count`` headers on list endpoints; iteration stops at ``total_page`` when given, on a
short or empty page otherwise, and after ``max_pages`` in any case.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import yarl

from bot.platforms.base import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    RateLimited,
    RetryableForgeError,
)

__all__ = [
    "DEFAULT_API_URL",
    "MAX_PER_PAGE",
    "GiteeAPI",
    "rate_limit_until",
]

log = logging.getLogger("bot.gitee.api")

DEFAULT_API_URL: Final = "https://gitee.com/api/v5"
MAX_PER_PAGE: Final = 100
RATE_LIMIT_DEFAULT_WAIT_S: Final = 60.0
RATE_LIMIT_MAX_WAIT_S: Final = 3600.0
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_EXCERPT = 200


class _NoBody:
    pass


_NO_BODY: Final = _NoBody()


def rate_limit_until(
    status: int, headers: Mapping[str, str], message: str, *, now: float
) -> datetime | None:
    """When a 403/429 answer is a rate limit, the moment to try again; else ``None``.

    Gitee does not document its limits; this follows what Gitee clients check (``Retry-After``,
    ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``) and treats every 429 as a limit. A reset
    value below 10⁹ is read as seconds from now, otherwise as epoch seconds. The wait is clamped
    to between one second and one hour.
    """
    if status not in (403, 429):
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    remaining = lower.get("x-ratelimit-remaining", "").strip()
    limited = (
        status == 429
        or remaining == "0"
        or "rate limit" in message.lower()
        or "too many requests" in message.lower()
    )
    if not limited:
        return None
    wait = RATE_LIMIT_DEFAULT_WAIT_S
    retry_after = lower.get("retry-after", "").strip()
    reset = lower.get("x-ratelimit-reset", "").strip()
    if retry_after.isdigit():
        wait = float(retry_after)
    elif reset.isdigit():
        value = float(reset)
        wait = value - now if value >= 1e9 else value
    wait = min(max(wait, 1.0), RATE_LIMIT_MAX_WAIT_S)
    return datetime.fromtimestamp(now + wait, tz=UTC)


class GiteeAPI:
    """One authenticated Gitee API v5 client (the bot account); cheap to share."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        token: str,
        base_url: str = DEFAULT_API_URL,
        timeout_s: float = 10.0,
        get_retries: int = 2,
        retry_backoff_s: float = 0.5,
        max_in_flight: int = 8,
        user_agent: str = "cla-bot",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not token:
            raise ValueError("a Gitee token is required")
        self._session = session
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.get_retries = max(0, get_retries)
        self.retry_backoff_s = retry_backoff_s
        self._slots = asyncio.Semaphore(max(1, max_in_flight))
        self.user_agent = user_agent
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:  # never show the token
        return f"GiteeAPI(base_url={self.base_url!r})"

    # -- URLs ------------------------------------------------------------------------------------

    @staticmethod
    def expand(template: str, url_vars: Mapping[str, Any] | None = None) -> str:
        """``/repos/{owner}/{repo}`` with every variable encoded as one path segment."""
        variables = url_vars or {}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                raise ValueError(f"no value for {{{name}}} in {template!r}")
            return quote(str(variables[name]), safe="")

        if "?" in template or "#" in template:
            raise ValueError("pass query parameters as params=, not in the template")
        return _VAR.sub(one, template)

    def url(
        self,
        template: str,
        url_vars: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> yarl.URL:
        path = self.expand(template, url_vars)
        if not path.startswith("/"):
            path = "/" + path
        url = yarl.URL(self.base_url + path, encoded=True)
        if params:
            url = url.update_query({k: str(v) for k, v in params.items()})
        return url

    # -- one request -----------------------------------------------------------------------------

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "User-Agent": self.user_agent,
            "Authorization": f"Bearer {self._token}",
        }
        if has_body:
            headers["Content-Type"] = "application/json;charset=UTF-8"
        return headers

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _error(self, status: int, headers: Mapping[str, str], raw: bytes, what: str) -> ForgeError:
        message = ""
        try:
            data = json.loads(raw) if raw.strip() else None
        except ValueError:
            data = None
        if isinstance(data, Mapping) and isinstance(data.get("message"), str):
            message = data["message"]
        elif raw.strip():
            message = raw[:_EXCERPT].decode("utf-8", "replace")
        message = " ".join(self._redact(message).split())[:_EXCERPT]
        until = rate_limit_until(status, headers, message, now=self._clock())
        if until is not None:
            return RateLimited(f"{what}: rate limited (HTTP {status})", until=until, status=status)
        if status >= 500:
            return RetryableForgeError(f"{what}: HTTP {status}", status=status)
        if status in (404, 410):
            return ForgeNotFound(f"{what}: HTTP {status}", status=status)
        if status == 401:
            return ForgeAuthError(f"{what}: HTTP 401 (the Gitee token was refused)", status=status)
        try:
            http.HTTPStatus(status)
        except ValueError:
            return ForgeError(f"{what}: unexpected HTTP {status}", status=status)
        return ForgeError(f"{what}: HTTP {status} {message}".rstrip(), status=status)

    async def _once(
        self, method: str, url: yarl.URL, body: bytes | None, what: str
    ) -> tuple[Any, Mapping[str, str]]:
        started = time.monotonic()
        try:
            async with (
                self._slots,
                self._session.request(
                    method,
                    url,
                    headers=self._headers(body is not None),
                    data=body,
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as response,
            ):
                raw = await response.read()
                status = response.status
                headers = response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.debug("gitee %s failed: %s", what, type(exc).__name__)
            raise RetryableForgeError(f"{what}: {type(exc).__name__}") from None
        log.debug("gitee %s -> %s in %.3f s", what, status, time.monotonic() - started)
        if not 200 <= status < 300:
            raise self._error(status, headers, raw, what)
        if not raw.strip():
            return None, headers
        try:
            return json.loads(raw), headers
        except ValueError:
            raise RetryableForgeError(f"{what}: HTTP {status}, body is not JSON") from None

    async def _send(
        self, method: str, url: yarl.URL, data: Any = _NO_BODY
    ) -> tuple[Any, Mapping[str, str]]:
        """One call (GETs retried on retryable failures other than rate limits)."""
        what = f"{method} {url.raw_path}"
        body = None if isinstance(data, _NoBody) else json.dumps(data).encode("utf-8")
        attempts = 1 + (self.get_retries if method == "GET" else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(method, url, body, what)
            except RateLimited:
                raise
            except RetryableForgeError as exc:
                if attempt >= attempts:
                    raise
                delay = self.retry_backoff_s * (2 ** (attempt - 1))
                log.warning("gitee %s; retry %d in %.2f s", exc, attempt, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def request(
        self,
        method: str,
        template: str,
        url_vars: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = _NO_BODY,
    ) -> Any:
        """The decoded JSON answer (``None`` for an empty body) of one call."""
        url = self.url(template, url_vars, params)
        result, _ = await self._send(method.upper(), url, data)
        return result

    # -- gidgethub-shaped verbs ------------------------------------------------------------------

    async def getitem(
        self,
        template: str,
        url_vars: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        return await self.request("GET", template, url_vars, params=params)

    async def getiter(
        self,
        template: str,
        url_vars: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        per_page: int = MAX_PER_PAGE,
        max_pages: int = 1000,
    ) -> AsyncIterator[Any]:
        """Every item of a paged list endpoint, page after page."""
        per_page = max(1, min(MAX_PER_PAGE, per_page))
        for page in range(1, max_pages + 1):
            url = self.url(
                template, url_vars, {**(params or {}), "page": page, "per_page": per_page}
            )
            data, headers = await self._send("GET", url)
            if data is None:
                data = []
            if not isinstance(data, list):
                raise ForgeError(f"GET {url.raw_path}: expected a JSON array")
            for item in data:
                yield item
            total = (headers.get("total_page") or "").strip()
            if len(data) < per_page or (total.isdigit() and page >= int(total)):
                return

    async def post(
        self, template: str, url_vars: Mapping[str, Any] | None = None, *, data: Any
    ) -> Any:
        return await self.request("POST", template, url_vars, data=data)

    async def patch(
        self, template: str, url_vars: Mapping[str, Any] | None = None, *, data: Any
    ) -> Any:
        return await self.request("PATCH", template, url_vars, data=data)

    async def put(
        self, template: str, url_vars: Mapping[str, Any] | None = None, *, data: Any
    ) -> Any:
        return await self.request("PUT", template, url_vars, data=data)

    async def delete(
        self,
        template: str,
        url_vars: Mapping[str, Any] | None = None,
        *,
        data: Any = _NO_BODY,
    ) -> Any:
        return await self.request("DELETE", template, url_vars, data=data)
