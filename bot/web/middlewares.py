"""Security headers on every answer, one place that maps unexpected errors to answers without
leaking details, and the bot's own page for unknown paths."""

from __future__ import annotations

import logging
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot import logs
from bot.web.pages import Pages

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


MACHINE_PATHS = ("/api/", "/webhooks/")  # answered in JSON, never with a page
_PAGE_TEXTS = {404: ("not_found_title", "not_found"), 405: ("error_title", "wrong_method")}


def error_pages(pages: Pages) -> Middleware:
    """Unknown paths (and a method a path does not take) get the bot's page, styled and in the
    visitor's language, instead of aiohttp's bare ``404: Not Found``; under ``/api/`` and
    ``/webhooks/`` a JSON ``{"message": …}``. A handler's own words (a 404 raised with a text)
    are kept; an answer a handler returns is never touched."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
            own = exc.text if exc.text != f"{exc.status}: {exc.reason}" else None
            headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
            if request.path.startswith(MACHINE_PATHS):
                if exc.content_type == "application/json":
                    raise
                message = own or exc.reason.lower()
                return web.json_response({"message": message}, status=exc.status, headers=headers)
            lang = pages.language(request)
            title, text = _PAGE_TEXTS[exc.status]
            response = pages.render(
                request,
                "error.html",
                status=exc.status,
                title=pages.t(lang, title),
                message=own or pages.t(lang, text),
                again="/sign",
                again_label=pages.t(lang, "go_to_signing"),
            )
            response.headers.update(headers)
            return response

    return middleware
