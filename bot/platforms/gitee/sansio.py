"""Gitee webhook deliveries without I/O: authenticity, freshness, idempotency key, event name.

Gitee sends (help article 4186, "WebHook 推送数据格式说明")::

    X-Gitee-Token      password mode: the hook's password in clear
                       signature mode: base64(HMAC-SHA256(key=secret,
                                                          msg=f"{timestamp}\\n{secret}"))
    X-Gitee-Timestamp  milliseconds since the epoch
    X-Gitee-Event      "Merge Request Hook", "Note Hook", ...
    X-Gitee-Ping       "true" for the test delivery of the settings page (observed, not documented)

Signature mode (help article 4290, "WebHook 密钥验证和验证算法") adds a URL-encoding step in the
doc; in practice the header carries the plain base64, so the token is compared after
``urllib.parse.unquote`` (never ``unquote_plus``: base64 contains ``+``). The timestamp must lie
within ``window_s`` of now (the doc: "must not differ from the request time by more than one
hour").

The signature covers the timestamp and the secret, **not the body**: a captured request can be
replayed, and its body altered, inside the window. Hence:

* the web layer keeps a replay cache keyed by :func:`delivery_key` for at least the window;
* the worker re-reads the pull request, its commits and a command's comment from the Gitee API
  and never trusts the body for a decision (routing keeps only the PR coordinates);
* the body's ``password`` / ``sign`` copies are never decoded (``routing.GiteeEvent`` declares
  only the fields routing reads), so nothing can keep them.

In password mode the timestamp is checked against the window as well when Gitee sends one
(it always does for current hooks); a password-mode delivery without a timestamp is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bot.errors import WebhookRejected

__all__ = [
    "EVENT_BY_HOOK_NAME",
    "GiteeAuthError",
    "delivery_key",
    "event_name",
    "is_ping",
    "sign",
    "verify",
]

TOKEN_HEADER = "X-Gitee-Token"  # noqa: S105 (a header name)
TIMESTAMP_HEADER = "X-Gitee-Timestamp"
EVENT_HEADER = "X-Gitee-Event"
LEGACY_EVENT_HEADER = "X-Git-Oschina-Event"
PING_HEADER = "X-Gitee-Ping"

# ``hook_name`` in the body → the ``X-Gitee-Event`` name (help article 4186).
EVENT_BY_HOOK_NAME = {
    "push_hooks": "Push Hook",
    "tag_push_hooks": "Tag Push Hook",
    "issue_hooks": "Issue Hook",
    "merge_request_hooks": "Merge Request Hook",
    "note_hooks": "Note Hook",
}
_MAX_TIMESTAMP_DIGITS = 16  # ms since the epoch has 13 digits until the year 2286


class GiteeAuthError(WebhookRejected):
    """The delivery is not from Gitee (or not fresh): answer 401 and write nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(401, reason)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also works on a plain ``dict``."""
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lower:
                value = candidate
                break
    return value


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def sign(timestamp_ms: int | str, secret: str) -> str:
    """What Gitee puts in ``X-Gitee-Token`` in signature mode (plain base64)."""
    message = f"{timestamp_ms}\n{secret}"
    mac = hmac.new(_bytes(secret), _bytes(message), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def _timestamp(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw or len(raw) > _MAX_TIMESTAMP_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def verify(headers: Mapping[str, str], *, secret: str, now_ms: int, window_s: int) -> None:
    """Accept the delivery or raise :class:`GiteeAuthError`.

    Accepted: ``X-Gitee-Token`` equal to ``secret`` (password mode), or equal — after
    ``unquote`` — to :func:`sign` of ``X-Gitee-Timestamp`` (signature mode); in both modes a
    timestamp that is present must be within ``window_s`` seconds of ``now_ms``. Comparisons are
    constant-time. ``secret`` must not be empty (start-up refuses that already).
    """
    if not secret:
        raise GiteeAuthError("no webhook secret configured")
    token = _header(headers, TOKEN_HEADER)
    if not token:
        raise GiteeAuthError(f"missing {TOKEN_HEADER}")
    raw_ts = _header(headers, TIMESTAMP_HEADER)
    ts = _timestamp(raw_ts)
    if raw_ts is not None and raw_ts.strip() and ts is None:
        raise GiteeAuthError(f"{TIMESTAMP_HEADER} is not a millisecond timestamp")

    password_ok = hmac.compare_digest(_bytes(token), _bytes(secret))
    signature_ok = False
    if ts is not None:
        expected = sign(raw_ts.strip() if raw_ts else ts, secret)
        signature_ok = hmac.compare_digest(
            _bytes(urllib.parse.unquote(token.strip())), _bytes(expected)
        )
    if not (password_ok or signature_ok):
        if ts is None:
            raise GiteeAuthError(f"{TOKEN_HEADER} does not match (and no {TIMESTAMP_HEADER})")
        raise GiteeAuthError(f"{TOKEN_HEADER} does not match")
    if ts is not None and abs(now_ms - ts) > window_s * 1000:
        raise GiteeAuthError(f"{TIMESTAMP_HEADER} is outside the {window_s} s window")


def delivery_key(headers: Mapping[str, str], body: bytes) -> str:
    """A stable key for one delivery: idempotency key and replay-cache key at once.

    ``sha256("gitee-delivery-v1\\n" + X-Gitee-Timestamp + "\\n" + raw body)``, hex. Gitee has no
    delivery id; the body carries ``hook_id`` and the same timestamp, so two real deliveries
    never share a key, and the same request sent twice always does (a replay). The token is left
    out on purpose: it is a function of (timestamp, secret) — the secret itself in password
    mode — so it distinguishes nothing and would put secret-derived bytes into the database.

    Residual risk (documented in the module docstring): a replay with an *altered* body inside
    the window gets a new key; it can only ask for a re-check of a PR, which the worker re-reads
    from the API.
    """
    ts = (_header(headers, TIMESTAMP_HEADER) or "").strip()
    digest = hashlib.sha256()
    digest.update(b"gitee-delivery-v1\n")
    digest.update(_bytes(ts))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def is_ping(headers: Mapping[str, str]) -> bool:
    """The settings page's test delivery (``X-Gitee-Ping: true``): answer 200, do nothing."""
    return (_header(headers, PING_HEADER) or "").strip().lower() == "true"


def event_name(headers: Mapping[str, str], payload: Mapping[str, Any] | None = None) -> str | None:
    """``X-Gitee-Event`` (or ``X-Git-Oschina-Event``), else the body's ``hook_name`` mapped to
    the header's spelling (``merge_request_hooks`` → ``Merge Request Hook``); ``None`` when
    neither says anything. A header holding a ``hook_name`` (seen on pings) is mapped too."""
    for name in (EVENT_HEADER, LEGACY_EVENT_HEADER):
        value = (_header(headers, name) or "").strip()
        if value:
            return EVENT_BY_HOOK_NAME.get(value, value)
    if payload is not None:
        hook_name = payload.get("hook_name")
        if isinstance(hook_name, str) and hook_name in EVENT_BY_HOOK_NAME:
            return EVENT_BY_HOOK_NAME[hook_name]
    return None
