"""``/me``: the signer's self-service pages — see everything held about them, download a copy,
correct contact fields, restrict use of the record, erase it. Same OAuth login as signing.

Which record: the one linked to the signed-in account, else the one holding one of the
account's verified emails (verified by the forge, so the person owns them).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.core.model import Platform
from bot.services import audit, email_proofs, rights
from bot.services.signing import CONTACT_FIELDS
from bot.storage.db import flush_erased
from bot.storage.models import Signer
from bot.storage.signatures import find_signer
from bot.web.clientip import client_key
from bot.web.keys import CIPHER, ENGINE, QUEUE, SESSIONS, SETTINGS
from bot.web.middlewares import request_id
from bot.web.pages import NO_STORE
from bot.web.sessions import SESSION_COOKIE, Session
from bot.web.signing import MAX_LEN, PLATFORM_NAMES, SIGNING, clean_value, field_error

log = logging.getLogger("bot.me")


def _actor(request: web.Request, session: Session) -> rights.Actor:
    return rights.Actor(
        f"{session.data.platform}:{session.data.account_id}", "web", request_id(request)
    )


def _person(session: Session) -> rights.Person:
    return rights.Person(
        session.data.platform,
        session.data.account_id,
        session.data.login,
        tuple(session.data.emails),
    )


async def _signer(request: web.Request, s: Any, session: Session) -> Signer | None:
    return await find_signer(
        s,
        request.app[CIPHER],
        platform=session.data.platform,
        account_id=session.data.account_id,
        emails=session.data.emails,
    )


def _who(session: Session) -> str:
    return f"{PLATFORM_NAMES[Platform(session.data.platform)]} @{session.data.login}"


async def _render_me(
    request: web.Request,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    email_error: str | None = None,
    new_email: str = "",
) -> web.Response:
    """The signed-in page; after a refused correction, with the values sent and their errors;
    after a refused address, with it and the reason."""
    ctx = request.app[SIGNING]
    async with request.app[SESSIONS]() as s:
        signer = await _signer(request, s, session)
        data = await rights.export(s, request.app[CIPHER], signer) if signer else None
        addresses = (
            await email_proofs.addresses(s, request.app[CIPHER], signer.id) if signer else []
        )
        # without a signer record there can still be something to erase (a corporate CLA)
        erasable = (
            signer is not None
            or not (await rights.survey(s, request.app[CIPHER], _person(session))).empty
        )
    contact = {f: (data["person"][f] or "") if data else "" for f in CONTACT_FIELDS}
    return ctx.pages.render(
        request,
        "me.html",
        status=status,
        personal=True,
        who=_who(session),
        csrf=session.data.csrf,
        providers=[],
        data=data,
        erasable=erasable,
        contact=contact | (values or {}),
        errors=errors or {},
        max_len=MAX_LEN,
        saved=request.query.get("saved") == "1",
        proven=request.query.get("proven") == "1",
        addresses=addresses,
        mail_on=request.app[SETTINGS].mail is not None,
        email_error=email_error,
        new_email=new_email,
    )


async def me_page(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        providers = [{"platform": p, "name": PLATFORM_NAMES[p]} for p in ctx.providers]
        return ctx.pages.render(request, "me.html", personal=True, who=None, providers=providers)
    return await _render_me(request, session)


async def export_json(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        return web.json_response({"message": "sign in at /me first"}, status=401)
    async with request.app[SESSIONS]() as s, s.begin():
        signer = await _signer(request, s, session)
        if signer is None:
            return web.json_response({"message": "no record for this account"}, status=404)
        data = await rights.export(s, request.app[CIPHER], signer)
        actor = _actor(request, session)
        await audit.record(
            s,
            action="export",
            actor=actor.key,
            via="web",
            request_id=actor.request_id,
            signer_id=signer.id,
        )
    return web.Response(
        text=json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="cla-my-data.json"'},
    )


async def _post_session(request: web.Request) -> tuple[Session, Any] | web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        return ctx.pages.error(request, "not_signed_in", status=401, again="/me")
    form = await request.post()
    if not session.data.check_csrf(str(form.get("csrf", ""))):
        return ctx.pages.error(request, "csrf", status=403, again="/me")
    return session, form


async def correct(request: web.Request) -> web.StreamResponse:
    got = await _post_session(request)
    if isinstance(got, web.Response):
        return got
    session, form = got
    changes = {f: clean_value(str(form.get(f, ""))) for f in CONTACT_FIELDS if f in form}
    errors = {f: e for f, v in changes.items() if v and (e := field_error(f, v)) is not None}
    if errors:  # nothing is written, nothing truncated: the page says what to fix
        return await _render_me(request, session, status=400, values=changes, errors=errors)
    async with request.app[SESSIONS]() as s, s.begin():
        signer = await _signer(request, s, session)
        if signer is None:
            raise web.HTTPSeeOther("/me")
        changed = await rights.correct(
            s, request.app[CIPHER], signer, changes, actor=_actor(request, session)
        )
    log.info("signer record corrected (%s fields)", len(changed))
    raise web.HTTPSeeOther("/me?saved=1")


async def restrict(request: web.Request) -> web.StreamResponse:
    got = await _post_session(request)
    if isinstance(got, web.Response):
        return got
    session, form = got
    async with request.app[SESSIONS]() as s, s.begin():
        signer = await _signer(request, s, session)
        if signer is None:
            raise web.HTTPSeeOther("/me")
        await rights.restrict(
            s, signer, restricted=form.get("restricted") == "yes", actor=_actor(request, session)
        )
    request.app[QUEUE].notify()
    raise web.HTTPSeeOther("/me?saved=1")


async def delete_page(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        raise web.HTTPSeeOther("/me")
    async with request.app[SESSIONS]() as s:
        summary = await rights.survey(s, request.app[CIPHER], _person(session))
    return ctx.pages.render(
        request,
        "me_delete.html",
        personal=True,
        csrf=session.data.csrf,
        error=False,
        summary=summary,
    )


async def delete(request: web.Request) -> web.StreamResponse:
    """The page's own confirmation (a ticked box), then the same erasure as the comment
    command's: everything held about the signed-in person, every session of theirs included."""
    ctx = request.app[SIGNING]
    got = await _post_session(request)
    if isinstance(got, web.Response):
        return got
    session, form = got
    person = _person(session)
    if form.get("confirm") != "yes":
        async with request.app[SESSIONS]() as s:
            summary = await rights.survey(s, request.app[CIPHER], person)
        return ctx.pages.render(
            request,
            "me_delete.html",
            status=400,
            personal=True,
            csrf=session.data.csrf,
            error=True,
            summary=summary,
        )
    async with request.app[SESSIONS]() as s, s.begin():
        if (await rights.survey(s, request.app[CIPHER], person)).empty:
            raise web.HTTPSeeOther("/me")
        result = await rights.erase(s, request.app[CIPHER], person, actor=_actor(request, session))
    await flush_erased(request.app[ENGINE])
    request.app[QUEUE].notify()
    log.info("personal data erased from the web (%s re-checks)", result.rechecks)
    response = ctx.pages.render(request, "me_erased.html", personal=True, result=result.summary)
    ctx.store.clear_cookie(response, SESSION_COOKIE)  # the erasure ended every session
    return response


def _proof_person(session: Session) -> email_proofs.Person:
    return email_proofs.Person(session.data.platform, session.data.account_id, session.data.login)


async def add_email(request: web.Request) -> web.StreamResponse:
    """Send a code to an address the signed-in person typed; the page that asks for it."""
    ctx = request.app[SIGNING]
    got = await _post_session(request)
    if isinstance(got, web.Response):
        return got
    session, form = got
    email = clean_value(str(form.get("email", "")))[:254]
    if request.app[SETTINGS].mail is None:
        return await _render_me(request, session, status=409, email_error="email_no_mail")
    if not ctx.code_limit.allow(client_key(request)):
        return await _render_me(
            request, session, status=429, email_error="email_too_many_person", new_email=email
        )
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            uid = await email_proofs.send_code(
                s,
                request.app[CIPHER],
                _proof_person(session),
                email,
                lang=ctx.pages.language(request),
                public_url=request.app[SETTINGS].public_url,
            )
    except email_proofs.ProofRefused as exc:
        status = 400 if exc.reason == "invalid_email" else 429
        return await _render_me(
            request, session, status=status, email_error=f"email_{exc.reason}", new_email=email
        )
    request.app[QUEUE].notify()
    return code_page(request, session, uid)


def code_page(
    request: web.Request,
    session: Session,
    uid: str,
    *,
    status: int = 200,
    error: str | None = None,
    attempts_left: int | None = None,
    action: str = "/me/emails/confirm",
    back: str | None = None,
    sent: str = "email_code_sent",
) -> web.Response:
    """The page asking for a code mailed to an address (``action`` takes it; ``back`` is the
    way back, ``/me`` by default; ``sent`` says what the code is for)."""
    return request.app[SIGNING].pages.render(
        request,
        "me_email_code.html",
        status=status,
        personal=True,
        csrf=session.data.csrf,
        uid=uid,
        error=error,
        attempts_left=attempts_left,
        minutes=int(email_proofs.VALID_FOR.total_seconds() // 60),
        action=action,
        back=back,
        sent=sent,
    )


async def confirm_email(request: web.Request) -> web.StreamResponse:
    got = await _post_session(request)
    if isinstance(got, web.Response):
        return got
    session, form = got
    uid = str(form.get("uid", ""))[:32]
    code = str(form.get("code", ""))[:32]
    refused: email_proofs.ProofRefused | None = None
    async with request.app[SESSIONS]() as s, s.begin():
        try:
            proven = await email_proofs.confirm(
                s,
                request.app[CIPHER],
                _proof_person(session),
                uid,
                code,
                request_id=request_id(request),
            )
        except email_proofs.ProofRefused as exc:
            refused = exc  # committed all the same: a wrong code counts as an attempt
    if refused is not None:
        status = 400 if refused.reason == "wrong" else 410
        return code_page(
            request,
            session,
            uid,
            status=status,
            error=f"email_{refused.reason}",
            attempts_left=refused.attempts_left,
        )
    request.app[QUEUE].notify()
    log.info("an address was proven by code (%s re-checks)", proven.rechecks)
    raise web.HTTPSeeOther("/me?proven=1")


async def remove_email(request: web.Request) -> web.StreamResponse:
    got = await _post_session(request)
    if isinstance(got, web.Response):
        return got
    session, form = got
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            await email_proofs.remove(
                s,
                request.app[CIPHER],
                _proof_person(session),
                str(form.get("address", ""))[:32],
                request_id=request_id(request),
            )
    except email_proofs.ProofRefused:
        return await _render_me(request, session, status=404, email_error="email_unknown")
    request.app[QUEUE].notify()
    raise web.HTTPSeeOther("/me?saved=1")


def setup(app: web.Application) -> None:
    app.router.add_get("/me", me_page)
    app.router.add_get("/me/export.json", export_json)
    app.router.add_post("/me/correct", correct)
    app.router.add_post("/me/restrict", restrict)
    app.router.add_get("/me/delete", delete_page)
    app.router.add_post("/me/delete", delete)
    app.router.add_post("/me/emails", add_email)
    app.router.add_post("/me/emails/confirm", confirm_email)
    app.router.add_post("/me/emails/remove", remove_email)
