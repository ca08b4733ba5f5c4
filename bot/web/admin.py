"""``/api/v1``: the maintainers' API, described by ``GET /api/v1/openapi.json``.

Every operation but the description needs ``Authorization: Bearer <token>``: none, an unknown or
a revoked one gets 401 with ``WWW-Authenticate: Bearer``; a token whose scope is too small gets
403. Scopes: ``read`` < ``export`` < ``admin``. Contact fields need ``export`` and every person
read is written to the audit trail. Errors are ``{"message": ...}``; bad input is 400/404/415/422,
never 500; every answer carries ``Cache-Control: no-store``. Emails only travel in bodies.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.errors import BotError
from bot.services import admin, corporate
from bot.services.admin import AdminError, Invalid, TokenInfo
from bot.services.admin import communities as community_admin
from bot.web import openapi
from bot.web.keys import CIPHER, QUEUE, SESSIONS, SETTINGS
from bot.web.middlewares import request_id

PREFIX = "/api/v1"
REALM = 'Bearer realm="cla-bot"'
MAX_BODY = 16 * 1024

Handler = Callable[[web.Request, TokenInfo], Awaitable[web.StreamResponse]]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(BotError):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers=headers)


def _answer(payload: Any, *, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status)


async def _authenticate(request: web.Request, scope: str) -> TokenInfo:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ApiError(401, "a bearer token is required", {"WWW-Authenticate": REALM})
    async with request.app[SESSIONS]() as session, session.begin():
        info = await admin.authenticate(session, value)
    if info is None:
        raise ApiError(
            401,
            "the token is unknown or revoked",
            {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    if not admin.scope_allows(info.scope, scope):
        raise ApiError(
            403,
            f"this operation needs a token with the {scope} scope",
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    return info


def protected(
    scope: str,
) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Authenticate first (401/403 before looking at anything else), then map known errors to
    JSON answers; every answer gets ``Cache-Control: no-store``."""

    def wrap(fn: Handler) -> Route:
        async def handler(request: web.Request) -> web.StreamResponse:
            response: web.StreamResponse
            try:
                token = await _authenticate(request, scope)
                response = await fn(request, token)
            except ApiError as exc:
                response = _error(exc.status, exc.message, exc.headers)
            except AdminError as exc:
                response = _error(exc.status, exc.message)
            response.headers["Cache-Control"] = "no-store"
            return response

        return handler

    return wrap


# --- input ----------------------------------------------------------------------------------


def _int(value: str, name: str, *, low: int, high: int) -> int:
    value = value.strip()
    if not value.lstrip("-").isdigit() or not value.isascii() or len(value) > 12:
        raise Invalid(f"{name} must be an integer")
    number = int(value)
    if not low <= number <= high:
        raise Invalid(f"{name} must be between {low} and {high}")
    return number


def _bool(request: web.Request, name: str) -> bool:
    value = request.query.get(name)
    if value is None:
        return False
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no", ""):
        return False
    raise Invalid(f"{name} must be true or false")


def _text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    return value


def _filters(request: web.Request) -> tuple[str | None, str | None]:
    agreement = _text(request, "agreement")
    version = _text(request, "version")
    if agreement is not None and not admin.AGREEMENT_RE.fullmatch(agreement):
        raise Invalid("not a valid agreement id")
    if version is not None and not admin.VERSION_RE.fullmatch(version):
        raise Invalid("not a valid version")
    return agreement, version


def _pr_params(request: web.Request) -> tuple[str, str, str, int]:
    m = request.match_info
    platform, owner, repo = m["platform"], m["owner"], m["repo"]
    if platform not in admin.PLATFORMS:
        raise admin.NotFound("unknown platform")
    number = _int(m["number"], "number", low=1, high=admin.MAX_DB_INT)
    admin.validate_repo(platform, owner, repo, number)
    return platform, owner, repo, number


# --- handlers -------------------------------------------------------------------------------


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


@protected("read")
async def account_status(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    platform, account = request.match_info["platform"], request.match_info["account"]
    by = request.query.get("by", "auto")
    agreement, _ = _filters(request)
    if by not in ("auto", "id", "login"):
        raise Invalid("by must be auto, id or login")
    async with request.app[SESSIONS]() as session, session.begin():
        status = await admin.account_status(
            session,
            request.app[CIPHER],
            request.app[SETTINGS].policy,
            platform=platform,
            account=account,
            by=by,
            agreement_id=agreement,
        )
    return _answer(status.as_dict())


async def _json_object(request: web.Request, example: str) -> dict[str, Any]:
    """The request's JSON object body (415 / 413 / 400 / 422 otherwise)."""
    if request.content_type != "application/json":
        raise ApiError(415, "the body must be application/json")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "the body is too large")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "the body is too large")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Invalid(f"the body must be an object: {example}")
    return body


@protected("read")
async def email_status(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    body = await _json_object(request, '{"email": "..."}')
    email = body.get("email")
    agreement = body.get("agreement")
    if not isinstance(email, str) or not email.strip():
        raise Invalid("email must be a string")
    if agreement is not None and (
        not isinstance(agreement, str) or not admin.AGREEMENT_RE.fullmatch(agreement)
    ):
        raise Invalid("not a valid agreement id")
    async with request.app[SESSIONS]() as session, session.begin():
        status = await admin.email_status(
            session,
            request.app[CIPHER],
            request.app[SETTINGS].policy,
            email=email,
            agreement_id=agreement,
        )
    return _answer(status.as_dict())


@protected("read")
async def pr_status(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    platform, owner, repo, number = _pr_params(request)
    async with request.app[SESSIONS]() as session, session.begin():
        payload = await admin.pr_status(
            session, platform=platform, owner=owner, repo=repo, number=number
        )
    return _answer(payload)


@protected("admin")
async def recheck_pr(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    platform, owner, repo, number = _pr_params(request)
    async with request.app[SESSIONS]() as session, session.begin():
        result = await admin.recheck_pr(
            session, platform=platform, owner=owner, repo=repo, number=number
        )
    request.app[QUEUE].notify()
    return _answer({"queued": result.queued, "known": result.known}, status=202)


@protected("admin")
async def recheck_repo(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    m = request.match_info
    platform, owner, repo = m["platform"], m["owner"], m["repo"]
    async with request.app[SESSIONS]() as session, session.begin():
        result = await admin.recheck_repo(session, platform=platform, owner=owner, repo=repo)
    if result.queued:
        request.app[QUEUE].notify()
    return _answer({"queued": result.queued, "known": result.known}, status=202)


@protected("read")
async def agreements(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session, session.begin():
        payload = await admin.agreements(session, request.app[SETTINGS].policy)
    return _answer(payload)


def _contact_allowed(token: TokenInfo, include_contact: bool) -> None:
    if include_contact and not admin.scope_allows(token.scope, "export"):
        raise ApiError(
            403,
            "contact fields need a token with the export scope",
            {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="export"'},
        )


@protected("read")
async def list_signatures(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    agreement, version = _filters(request)
    limit = _int(request.query.get("limit", "100"), "limit", low=1, high=admin.MAX_PAGE)
    cursor = _int(request.query.get("cursor", "0"), "cursor", low=0, high=admin.MAX_DB_INT)
    include_contact = _bool(request, "include_contact")
    _contact_allowed(token, include_contact)
    async with request.app[SESSIONS]() as session, session.begin():
        page = await admin.list_signatures(
            session,
            request.app[CIPHER],
            agreement_id=agreement,
            version=version,
            limit=limit,
            cursor=cursor,
            contact=admin.ContactReader(
                actor=f"token:{token.prefix}",
                via="api",
                request_id=request_id(request),
                details={"operation": "listSignatures", "agreement": agreement, "version": version},
            )
            if include_contact
            else None,
        )
    return _answer({"items": page.items, "next_cursor": page.next_cursor})


@protected("export")
async def signatures_csv(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    agreement, version = _filters(request)
    include_contact = _bool(request, "include_contact")
    async with request.app[SESSIONS]() as session, session.begin():
        page = await admin.all_signatures(
            session,
            request.app[CIPHER],
            agreement_id=agreement,
            version=version,
            contact=admin.ContactReader(
                actor=f"token:{token.prefix}",
                via="api",
                request_id=request_id(request),
                details={
                    "operation": "exportSignaturesCsv",
                    "agreement": agreement,
                    "version": version,
                },
            )
            if include_contact
            else None,
        )
    text = admin.to_csv(page.items, include_contact=include_contact)
    name = f"signatures-{agreement}.csv" if agreement else "signatures.csv"
    return web.Response(
        body=text.encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- corporate CLAs -------------------------------------------------------------------------


def _company_id(request: web.Request) -> int:
    return _int(request.match_info["id"], "id", low=1, high=admin.MAX_DB_INT)


def _decision(decision: corporate.Decision) -> dict[str, Any]:
    return {
        "company": decision.company.as_dict(),
        "changed": decision.changed,
        "rechecks": decision.rechecks,
        "refused": list(decision.refused),
    }


@protected("read")
async def list_companies(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    pending = _bool(request, "pending")
    async with request.app[SESSIONS]() as session, session.begin():
        views = await corporate.list_companies(session, pending=pending)
    return _answer({"items": [v.as_summary() for v in views]})


@protected("read")
async def show_company(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    company_id = _company_id(request)
    async with request.app[SESSIONS]() as session, session.begin():
        view = await corporate.show_company(session, company_id)
    return _answer(view.as_dict())


@protected("admin")
async def approve_company(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    company_id = _company_id(request)
    async with request.app[SESSIONS]() as session, session.begin():
        decision = await corporate.approve(
            session,
            request.app[CIPHER],
            company_id,
            actor=f"token:{token.prefix}",
            via="api",
            request_id=request_id(request),
        )
    if decision.rechecks:
        request.app[QUEUE].notify()
    return _answer(_decision(decision))


@protected("admin")
async def reject_company(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    company_id = _company_id(request)
    body = await _json_object(request, '{"reason": "...", "domain": "..."}')
    reason, domain = body.get("reason"), body.get("domain")
    if not isinstance(reason, str):
        raise Invalid("reason must be a string")
    if domain is not None and not isinstance(domain, str):
        raise Invalid("domain must be a string")
    async with request.app[SESSIONS]() as session, session.begin():
        decision = await corporate.reject(
            session,
            request.app[CIPHER],
            company_id,
            reason=reason,
            domain=domain,
            actor=f"token:{token.prefix}",
            via="api",
            request_id=request_id(request),
        )
    if decision.rechecks:
        request.app[QUEUE].notify()
    return _answer(_decision(decision))


# --- communities and links ------------------------------------------------------------------


def _who(request: web.Request, token: TokenInfo) -> dict[str, str]:
    return {"actor": f"token:{token.prefix}", "via": "api", "request_id": request_id(request)}


@protected("read")
async def list_communities(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session, session.begin():
        items = await community_admin.list_communities(session)
    return _answer({"items": items})


@protected("read")
async def show_community(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session, session.begin():
        view = await community_admin.show_community(session, request.match_info["id"])
    return _answer(view)


@protected("admin")
async def create_community(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    body = await _json_object(request, '{"id": "...", "name": "..."}')
    community_id = body.get("id")
    if not isinstance(community_id, str):
        raise Invalid("id must be a string")
    async with request.app[SESSIONS]() as session, session.begin():
        view = await community_admin.create_community(
            session, community_id=community_id, name=body.get("name"), **_who(request, token)
        )
    return _answer(view, status=201)


@protected("admin")
async def rename_community(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    body = await _json_object(request, '{"name": "..."}')
    async with request.app[SESSIONS]() as session, session.begin():
        view = await community_admin.rename_community(
            session, request.match_info["id"], name=body.get("name"), **_who(request, token)
        )
    return _answer(view)


@protected("admin")
async def delete_community(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session, session.begin():
        queued = await community_admin.delete_community(
            session, request.match_info["id"], **_who(request, token)
        )
    if queued:
        request.app[QUEUE].notify()
    return _answer({"deleted": request.match_info["id"], "rechecks": queued})


@protected("admin")
async def add_link(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    body = await _json_object(request, '{"scope": "forge:owner"}')
    async with request.app[SESSIONS]() as session, session.begin():
        view, queued = await community_admin.add_link(
            session,
            request.match_info["id"],
            body.get("scope"),
            forges=admin.PLATFORMS,
            **_who(request, token),
        )
    if queued:
        request.app[QUEUE].notify()
    return _answer({"community": view, "rechecks": queued}, status=201)


@protected("admin")
async def remove_link(request: web.Request, token: TokenInfo) -> web.StreamResponse:
    async with request.app[SESSIONS]() as session, session.begin():
        view, queued = await community_admin.remove_link(
            session,
            request.match_info["id"],
            request.match_info["scope"],
            forges=admin.PLATFORMS,
            **_who(request, token),
        )
    if queued:
        request.app[QUEUE].notify()
    return _answer({"community": view, "rechecks": queued})


def setup(app: web.Application) -> None:
    """Register ``/api/v1`` on an app made by :func:`bot.web.app.create_app`."""
    r = app.router
    r.add_get(f"{PREFIX}/openapi.json", openapi_json)
    r.add_get(f"{PREFIX}/accounts/{{platform}}/{{account}}", account_status)
    r.add_post(f"{PREFIX}/emails/status", email_status)
    r.add_get(f"{PREFIX}/prs/{{platform}}/{{owner}}/{{repo}}/{{number}}", pr_status)
    r.add_post(f"{PREFIX}/prs/{{platform}}/{{owner}}/{{repo}}/{{number}}/recheck", recheck_pr)
    r.add_post(f"{PREFIX}/repos/{{platform}}/{{owner}}/{{repo}}/recheck", recheck_repo)
    r.add_get(f"{PREFIX}/agreements", agreements)
    r.add_get(f"{PREFIX}/signatures", list_signatures)
    r.add_get(f"{PREFIX}/signatures.csv", signatures_csv)
    r.add_get(f"{PREFIX}/companies", list_companies)
    r.add_get(f"{PREFIX}/companies/{{id}}", show_company)
    r.add_post(f"{PREFIX}/companies/{{id}}/approve", approve_company)
    r.add_post(f"{PREFIX}/companies/{{id}}/reject", reject_company)
    r.add_get(f"{PREFIX}/communities", list_communities)
    r.add_post(f"{PREFIX}/communities", create_community)
    r.add_get(f"{PREFIX}/communities/{{id}}", show_community)
    r.add_patch(f"{PREFIX}/communities/{{id}}", rename_community)
    r.add_delete(f"{PREFIX}/communities/{{id}}", delete_community)
    r.add_post(f"{PREFIX}/communities/{{id}}/links", add_link)
    r.add_delete(f"{PREFIX}/communities/{{id}}/links/{{scope:.+}}", remove_link)


__all__ = ["PREFIX", "setup"]
