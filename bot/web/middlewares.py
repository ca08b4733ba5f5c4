"""Security headers on every answer, and one place that maps unexpected errors to answers
without leaking details."""

from __future__ import annotations

import logging
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from bot import logs

log = logging.getLogger("bot.web")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


REQUEST_ID = web.RequestKey("request_id", str)


def request_id(request: web.Request) -> str:
    """This request's id (also sent back as ``X-Request-Id``), for logs and the audit trail."""
    return str(request.get(REQUEST_ID, ""))


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = uuid.uuid4().hex[:16]
    request[REQUEST_ID] = request_id
    try:
        with logs.context(request_id=request_id):
            response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    except Exception:
        log.exception(
            "unhandled error on %s %s (request %s)", request.method, request.path, request_id
        )
        response = web.json_response(
            {"message": "internal error", "request_id": request_id}, status=500
        )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Request-Id", request_id)
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response
