"""``POST /webhooks/github`` and ``/webhooks/gitee``: verify, store durably, acknowledge.

Order matters: a compressed body is refused before it is read, the signature is checked on the
raw bytes before anything is parsed, the body is decoded once into the typed fields routing
reads (checked for type, range and encoding as they are decoded), and the answer is 202 only
after the delivery is committed. Nothing is written for a delivery that is unsigned, malformed
or not used.

Answers: 202 stored · 200 duplicate or not used · 401 bad or missing signature · 400 malformed
(or holding values the database refuses) · 415 not JSON, or compressed · 413 too large · 503
the database cannot be used now. Never 5xx for bad input.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.platforms.gitee import routing as gitee_routing
from bot.platforms.gitee import sansio as gitee_sansio
from bot.platforms.github import routing
from bot.platforms.github.facts import GITHUB
from bot.platforms.payload import NotJson
from bot.services.deliveries import merge_group_job, new_jobs, recheck_jobs, store_bookkeeping
from bot.services.jobs import Unstorable, database_unavailable
from bot.web.keys import METRICS, QUEUE, SESSIONS, SETTINGS

log = logging.getLogger("bot.webhooks")

MAX_BODY_BYTES = 25 * 1024 * 1024


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


_ACCEPTED = json.dumps({"message": "accepted"}).encode()


def _accepted() -> web.Response:
    """The 202 of a stored delivery (the hot path: encoded once)."""
    return web.Response(body=_ACCEPTED, status=202, content_type="application/json")


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256`` = ``sha256=`` + hex HMAC-SHA256 of the raw body, constant time.
    The legacy SHA-1 header is never accepted."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace"))


async def read_body(request: web.Request) -> bytes | web.Response:
    """The raw body, or the answer refusing it — before any other work. A compressed body is
    refused (415) without being read: the forges send none, the signature is over the bytes
    as sent, and aiohttp would decompress it while reading (an unbounded amount of work, and
    encodings it may not support)."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        return _answer(415, "send deliveries without a Content-Encoding (uncompressed)")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _answer(413, "payload too large")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _answer(413, "payload too large")


async def github_webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    metrics = request.app[METRICS]
    gh = settings.github
    if gh is None:
        return _answer(404, "GitHub is not configured on this bot")
    body = await read_body(request)
    if isinstance(body, web.Response):
        metrics.delivery("github", "-", "too_large" if body.status == 413 else "malformed")
        return body
    if not verify_github_signature(
        gh.webhook_secret, body, request.headers.get("X-Hub-Signature-256")
    ):
        metrics.delivery("github", "-", "bad_signature")
        return _answer(401, "missing or invalid X-Hub-Signature-256")
    event = request.headers.get("X-GitHub-Event", "").strip()
    delivery = request.headers.get("X-GitHub-Delivery", "").strip()
    if not event or len(event) > 64:
        return _answer(400, "missing X-GitHub-Event header")
    if not delivery or len(delivery) > 128:
        return _answer(400, "missing X-GitHub-Delivery header")
    if request.content_type != "application/json":
        return _answer(415, "send deliveries as application/json (the App's content type setting)")
    try:
        payload = routing.decode(event, body)
        decision = routing.route(
            event, payload, app_id=int(gh.app_id) if gh.app_id.isdigit() else None
        )
    except NotJson as exc:
        metrics.delivery("github", event, "malformed")
        return _answer(400, str(exc))
    except routing.PayloadError as exc:
        metrics.delivery("github", event, "malformed")
        return _answer(400, f"malformed {event} event: {exc}")
    if isinstance(decision, routing.Ignore):
        metrics.delivery("github", event, "ignored")
        return _answer(200, "ignored", reason=decision.reason)
    action = payload.action
    try:
        if isinstance(decision, routing.RecheckJobs):
            jobs = await recheck_jobs(request.app[SESSIONS], delivery, event, action, decision)
            if not jobs:
                metrics.delivery("github", event, "ignored")
                return _answer(200, "ignored", reason="no open pull request at that commit")
            stored = await request.app[QUEUE].inbox.put(jobs)
        elif isinstance(decision, routing.MergeGroupJob):
            stored = await request.app[QUEUE].inbox.put(
                [merge_group_job(GITHUB, delivery, event, action, decision)]
            )
        elif isinstance(decision, routing.CheckJob | routing.CommentJobs):
            # The common case goes through the queue's group commit (one transaction for every
            # delivery arriving meanwhile); answered after the commit like the others.
            jobs = new_jobs("github", delivery, event, action, decision)
            stored = await request.app[QUEUE].inbox.put(jobs)
        else:
            stored = await store_bookkeeping(
                request.app[SESSIONS],
                platform=GITHUB,
                delivery=delivery,
                event=event,
                action=action,
                decision=decision,
            )
    except Exception as exc:
        return _not_stored("github", event, exc, metrics)
    if not stored:
        metrics.delivery("github", event, "duplicate")
        return _answer(200, "duplicate delivery")
    metrics.delivery("github", event, "accepted")
    request.app[QUEUE].notify()
    return _accepted()


def _not_stored(platform: str, event: str, exc: Exception, metrics: Any) -> web.Response:
    """The answer for a delivery that was not committed: 400 when the database refused its
    values (the sender's fault; nothing was stored), 503 otherwise (GitHub can redeliver)."""
    if isinstance(exc, Unstorable):
        log.warning("refused a %s delivery the database cannot store: %s", platform, exc)
        metrics.delivery(platform, event, "malformed")
        return _answer(400, "the delivery holds values that cannot be stored")
    if database_unavailable(exc):
        log.error("cannot store a %s delivery: %s", platform, type(exc).__name__)
    else:
        log.error("cannot store a %s delivery: %s", platform, type(exc).__name__, exc_info=exc)
    metrics.delivery(platform, event, "unavailable")
    return _answer(503, "cannot store the delivery now; retry later", retry_after_s=30)


class ReplayCache:
    """Delivery keys seen in the freshness window, per process (the database's unique key
    catches replays across replicas for every delivery that made a job)."""

    def __init__(self, *, window_s: float, max_entries: int = 100_000) -> None:
        self.window_s = window_s
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}

    def seen(self, key: str, now: float) -> bool:
        """True when ``key`` was seen in the window; records it otherwise."""
        if len(self._seen) >= self.max_entries:
            cutoff = now - self.window_s
            self._seen = {k: t for k, t in self._seen.items() if t > cutoff}
            while len(self._seen) >= self.max_entries:
                self._seen.pop(next(iter(self._seen)))
        at = self._seen.get(key)
        if at is not None and at > now - self.window_s:
            return True
        self._seen[key] = now
        return False


GITEE_REPLAYS: web.AppKey[ReplayCache] = web.AppKey("gitee_replays")
GITEE_BOT_LOGIN: web.AppKey[Callable[[], Awaitable[str | None]]] = web.AppKey("gitee_bot_login")


async def gitee_webhook(request: web.Request) -> web.Response:
    """``POST /webhooks/gitee``: password or signature mode, a freshness window and a replay
    cache (the signature does not cover the body), then the same answers as GitHub's."""
    settings = request.app[SETTINGS]
    metrics = request.app[METRICS]
    ge = settings.gitee
    if ge is None:
        return _answer(404, "Gitee is not configured on this bot")
    body = await read_body(request)
    if isinstance(body, web.Response):
        metrics.delivery("gitee", "-", "too_large" if body.status == 413 else "malformed")
        return body
    now = time.time()
    try:
        gitee_sansio.verify(
            request.headers,
            secret=ge.webhook_secret,
            now_ms=int(now * 1000),
            window_s=settings.policy.gitee_timestamp_window_s,
        )
    except gitee_sansio.GiteeAuthError as exc:
        metrics.delivery("gitee", "-", "bad_signature")
        return _answer(401, exc.reason)
    key = gitee_sansio.delivery_key(request.headers, body)
    if request.app[GITEE_REPLAYS].seen(key, now):
        metrics.delivery("gitee", "-", "replayed")
        return _answer(401, "replayed delivery")
    if gitee_sansio.is_ping(request.headers):
        return _answer(200, "pong")
    if request.content_type != "application/json":
        return _answer(415, "send deliveries as application/json")
    try:
        # Only the fields routing reads are decoded: never the body's copies of the secret.
        payload = gitee_routing.decode(body)
    except NotJson as exc:
        metrics.delivery("gitee", "-", "malformed")
        return _answer(400, str(exc))
    except routing.PayloadError as exc:
        metrics.delivery("gitee", "-", "malformed")
        return _answer(400, f"malformed delivery: {exc}")
    event = gitee_sansio.event_name(request.headers, {"hook_name": payload.hook_name})
    if not event:
        return _answer(400, "missing X-Gitee-Event header")
    bot_login = await request.app[GITEE_BOT_LOGIN]()
    try:
        decision = gitee_routing.route(event, payload, bot_login=bot_login)
    except routing.PayloadError as exc:
        metrics.delivery("gitee", event, "malformed")
        return _answer(400, f"malformed {event} event: {exc}")
    if isinstance(decision, routing.Ignore):
        metrics.delivery("gitee", event, "ignored")
        return _answer(200, "ignored", reason=decision.reason)
    try:
        stored = await request.app[QUEUE].inbox.put(
            new_jobs("gitee", key, event, payload.action, decision)
        )
    except Exception as exc:
        return _not_stored("gitee", event, exc, metrics)
    if not stored:
        metrics.delivery("gitee", event, "replayed")
        return _answer(401, "replayed delivery")
    metrics.delivery("gitee", event, "accepted")
    request.app[QUEUE].notify()
    return _accepted()
