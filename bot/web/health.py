"""``/healthz`` (the process answers), ``/readyz`` (the database answers), ``/metrics``."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.services.queue_stats import queue_stats
from bot.storage.db import ping
from bot.web.keys import ENGINE, METRICS, SESSIONS

log = logging.getLogger("bot.health")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        await ping(request.app[ENGINE])
    except (SQLAlchemyError, OSError) as exc:
        log.warning("not ready: database unreachable (%s)", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def metrics(request: web.Request) -> web.Response:
    gauges: list[tuple[str, str, float]] = []
    try:
        async with request.app[SESSIONS]() as session:
            stats = await queue_stats(session)
        gauges += [
            ("cla_queue_depth", "Jobs queued or running.", float(stats.depth)),
            ("cla_queue_oldest_age_seconds", "Age of the oldest queued job.", stats.oldest_age_s),
            ("cla_jobs_dead", "Jobs given up after their last attempt.", float(stats.dead)),
        ]
    except (SQLAlchemyError, OSError):
        pass
    text = request.app[METRICS].render(gauges)
    return web.Response(
        text=text, content_type="text/plain", charset="utf-8", headers={"Cache-Control": "no-store"}
    )
