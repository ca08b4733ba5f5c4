"""``POST /webhooks/{forge}``: one pipeline for every forge — size, verify, parse, route,
store, acknowledge.

Order matters: a compressed or oversized body is refused before it is read; the forge's
receiver (``Connection.webhooks``, from its adapter) checks that the forge sent it on the raw
bytes before anything is parsed, then decodes once the typed fields routing reads (checked for
type, range and encoding as they are decoded) and routes them; the answer is 202 only after
the delivery is committed. Nothing is written for a delivery that is unsigned, malformed or not
used.

Answers: 202 stored · 200 duplicate or not used · 401 bad or missing signature, or a replay ·
400 malformed (or holding values the database refuses) · 404 a forge the bot does not know or
that is not configured · 415 not JSON, or compressed · 413 too large · 503 the database cannot
be used now. Never 5xx for bad input.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.core.model import Platform
from bot.metrics import Metrics
from bot.platforms import registry
from bot.platforms.routing import (
    CheckJob,
    CommentJobs,
    Ignore,
    InstallationChange,
    MergeGroupJob,
    PrClosed,
    RecheckJobs,
)
from bot.platforms.webhooks import Answer, Routed
from bot.services.deliveries import merge_group_job, new_jobs, recheck_jobs, store_bookkeeping
from bot.services.jobs import Unstorable, database_unavailable
from bot.web.keys import METRICS, QUEUE, RUNTIME, SESSIONS

log = logging.getLogger("bot.webhooks")

MAX_BODY_BYTES = 25 * 1024 * 1024

# Every route but Ignore: what a delivery that is used asks to store.
Storable = CheckJob | CommentJobs | PrClosed | InstallationChange | MergeGroupJob | RecheckJobs


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


_ACCEPTED = json.dumps({"message": "accepted"}).encode()


def _accepted() -> web.Response:
    """The 202 of a stored delivery (the hot path: encoded once)."""
    return web.Response(body=_ACCEPTED, status=202, content_type="application/json")


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


async def receive(request: web.Request) -> web.Response:
    """A delivery from the forge named in the path."""
    name = registry.known(request.match_info["forge"])
    if name is None:  # the path names no forge: the plain 404 of any unknown path
        raise web.HTTPNotFound()
    forge = registry.BY_NAME[name]
    connection = request.app[RUNTIME].connections.get(name)
    if connection is None:
        return _answer(404, f"{forge.display_name} is not configured on this bot")
    metrics = request.app[METRICS]
    body = await read_body(request)
    if isinstance(body, web.Response):
        metrics.delivery(name, "-", "too_large" if body.status == 413 else "malformed")
        return body
    receiver = connection.webhooks
    result = await receiver.receive(request.headers, request.content_type, body)
    if isinstance(result, Answer):
        return _answered(name, result, metrics)
    route = result.route
    if isinstance(route, Ignore):
        metrics.delivery(name, result.event, "ignored")
        return _answer(200, "ignored", reason=route.reason)
    try:
        stored = await _store(request, name, result, route)
    except Exception as exc:
        return _not_stored(name, result.event, exc, metrics)
    if stored is None:
        metrics.delivery(name, result.event, "ignored")
        return _answer(200, "ignored", reason="no open pull request at that commit")
    if not stored:
        return _answered(name, receiver.duplicate, metrics, event=result.event)
    metrics.delivery(name, result.event, "accepted")
    request.app[QUEUE].notify()
    return _accepted()


def _answered(
    platform: str, answer: Answer, metrics: Metrics, *, event: str | None = None
) -> web.Response:
    if answer.outcome is not None:
        metrics.delivery(platform, event or answer.event, answer.outcome)
    return _answer(answer.status, answer.message, **answer.extra)


async def _store(
    request: web.Request, platform: Platform, routed: Routed, decision: Storable
) -> bool | None:
    """Store what the delivery asks for (``decision``, its route: an ignored one is answered
    before this): whether it was new (``False``: its key was stored already); ``None`` when a
    re-check named no open PR."""
    key, event, action = routed.key, routed.event, routed.action
    inbox = request.app[QUEUE].inbox
    if isinstance(decision, RecheckJobs):
        jobs = await recheck_jobs(request.app[SESSIONS], key, event, action, decision)
        return await inbox.put(jobs) if jobs else None
    if isinstance(decision, MergeGroupJob):
        return await inbox.put([merge_group_job(platform, key, event, action, decision)])
    if isinstance(decision, CheckJob | CommentJobs):
        # The common case goes through the queue's group commit (one transaction for every
        # delivery arriving meanwhile); answered after the commit like the others.
        return await inbox.put(new_jobs(platform, key, event, action, decision))
    return await store_bookkeeping(
        request.app[SESSIONS],
        platform=platform,
        delivery=key,
        event=event,
        action=action,
        decision=decision,
    )


def _not_stored(platform: str, event: str, exc: Exception, metrics: Metrics) -> web.Response:
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
