"""Signing a corporate CLA: the form on ``/sign/{agreement}`` takes the signatory's address at
the company; the bot mails it a code and the form waits, encrypted, on the code's row. Only the
right code records the company (pending the community's approval), that address's domain first
in its list, proven. Without outgoing mail nothing can be proven: the page says so and the form
answers 409, writing nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY, sign_path
from bot.core.model import Platform
from bot.services import corporate, email_proofs, receipts
from bot.services.corporate import proofs
from bot.web import me
from bot.web.clientip import client_key
from bot.web.keys import CIPHER, QUEUE, SESSIONS, SETTINGS
from bot.web.middlewares import request_id
from bot.web.sessions import Session
from bot.web.signing import (
    CORPORATE_SUBMIT,
    PLATFORM_NAMES,
    SIGNING,
    Target,
    _given,
    _render_sign,
    _validate,
    pr_link,
)

log = logging.getLogger("bot.signing")
T = TypeVar("T")


def proof_person(session: Session) -> email_proofs.Person:
    return email_proofs.Person(session.data.platform, session.data.account_id, session.data.login)


def code_page(
    request: web.Request,
    session: Session,
    uid: str,
    *,
    action: str,
    back: str,
    status: int = 200,
    error: str | None = None,
    attempts_left: int | None = None,
) -> web.Response:
    """The page asking for a code sent to a company address (signing, or a further domain):
    the same page as ``/me``'s."""
    return me.code_page(
        request,
        session,
        uid,
        status=status,
        error=error,
        attempts_left=attempts_left,
        action=action,
        back=back,
        sent="company_code_sent",
    )


def refused_status(reason: str) -> int:
    """How a refused code request is answered: a mistyped address 400, a limit 429."""
    return 400 if reason == "invalid_email" else 429


def refused_code(
    request: web.Request,
    session: Session,
    uid: str,
    refused: email_proofs.ProofRefused,
    *,
    action: str,
    back: str,
) -> web.Response:
    """The code page again after a refused code: a wrong one 400 (tries left), else 410."""
    return code_page(
        request,
        session,
        uid,
        action=action,
        back=back,
        status=400 if refused.reason == "wrong" else 410,
        error=f"email_{refused.reason}",
        attempts_left=refused.attempts_left,
    )


async def signed_in_post(request: web.Request, again: str) -> tuple[Session, Any] | web.Response:
    """The session and form of a POST from a signed-in page, or the error page (401, 403)."""
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        return ctx.pages.error(request, "not_signed_in", status=401, again=again)
    form = await request.post()
    if not session.data.check_csrf(str(form.get("csrf", ""))):
        return ctx.pages.error(request, "csrf", status=403, again=again)
    return session, form


UseCode = Callable[[AsyncSession, email_proofs.Person, str, str], Awaitable[T]]


async def with_code(
    request: web.Request, session: Session, form: Any, use: UseCode[T], *, action: str, back: str
) -> T | web.Response:
    """Run ``use(session, person, uid, code)`` for the code the form carries, in one
    transaction committed either way (a wrong code counts as an attempt): its result, or the
    code page again saying why the code was refused."""
    uid = str(form.get("uid", ""))[:32]
    async with request.app[SESSIONS]() as s, s.begin():
        try:
            return await use(s, proof_person(session), uid, str(form.get("code", ""))[:32])
        except email_proofs.ProofRefused as exc:
            refused = exc
    return refused_code(request, session, uid, refused, action=action, back=back)


async def submit(request: web.Request, target: Target) -> web.StreamResponse:
    """The corporate form: checked, then a code to the company address; nothing recorded."""
    ctx = request.app[SIGNING]
    agreement = target.agreement
    here = target.path
    got = await signed_in_post(request, here)
    if isinstance(got, web.Response):
        return got
    session, form = got
    version = agreement.versions[-1]
    from_pr = pr_link(ctx.settings, form)
    # the company address is always asked for: it is what proves the company's domain
    values, errors = _validate({**version.fields, "email": "required"}, form, None)
    managers: list[str] = []
    values["managers"] = str(form.get("managers", ""))[:1000]
    try:
        managers = corporate.parse_logins(values["managers"])
    except corporate.EntryError:
        errors["managers"] = "err_managers"
    if "email" not in errors:
        try:
            proofs.domain_of(values.get("email", ""))
        except corporate.EntryError:
            errors["email"] = "err_company_email"
    if request.app[SETTINGS].mail is None:  # nothing can be proven: nothing is written
        return _render_sign(
            request, target, session, None, values=values, status=409, from_pr=from_pr
        )
    if errors:
        return _render_sign(
            request,
            target,
            session,
            None,
            values=values,
            errors=errors,
            status=400,
            from_pr=from_pr,
        )
    if not ctx.account_limit.allow(f"{session.data.platform}:{session.data.account_id}"):
        return ctx.pages.error(request, "rate_limited", status=429)
    if not ctx.code_limit.allow(client_key(request)):
        return ctx.pages.error(request, "rate_limited", status=429)
    given = {k: v for k, v in values.items() if k not in ("accept", "privacy", "managers")}
    pending = proofs.PendingSignature(
        agreement_id=agreement.agreement_id,
        version=version.version,
        fields=given,
        managers=managers,
        lang=ctx.pages.language(request),
        community=target.community,
    )
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            uid = await proofs.start_signing(
                s,
                request.app[CIPHER],
                proof_person(session),
                pending,
                company_name=" ".join(values.get("company", "").split())[:200],
                public_url=ctx.settings.public_url,
            )
    except email_proofs.ProofRefused as exc:
        return _render_sign(
            request,
            target,
            session,
            None,
            values=values,
            errors={"email": f"email_{exc.reason}"},
            status=refused_status(exc.reason),
            from_pr=from_pr,
        )
    request.app[QUEUE].notify()
    return code_page(request, session, uid, action=f"{here}/confirm", back=here)


async def confirm(request: web.Request) -> web.StreamResponse:
    """The code for a waiting corporate form: right, the company is recorded."""
    here = sign_path(
        request.match_info.get("community", DEFAULT_COMMUNITY), request.match_info["agreement"]
    )
    got = await signed_in_post(request, here)
    if isinstance(got, web.Response):
        return got
    session, form = got

    async def use(
        s: AsyncSession, person: email_proofs.Person, uid: str, code: str
    ) -> proofs.Signed:
        signed = await proofs.finish_signing(
            s, request.app[CIPHER], person, uid, code, request_id=request_id(request)
        )
        await _receipt(request, s, session, signed)
        return signed

    signed = await with_code(request, session, form, use, action=f"{here}/confirm", back=here)
    if isinstance(signed, web.Response):
        return signed
    request.app[QUEUE].notify()
    log.info("a corporate signature was recorded, its domain proven by code")
    raise web.HTTPSeeOther(f"/company/{signed.company.uid}?signed=1")


async def _receipt(
    request: web.Request, s: AsyncSession, session: Session, signed: proofs.Signed
) -> None:
    """The receipt goes out with the signature, or not at all."""
    ctx = request.app[SIGNING]
    policy = ctx.settings.community_policy(signed.pending.community)
    wanted = (signed.pending.agreement_id, signed.pending.version)
    version = next(
        (
            v
            for a in (policy.agreements if policy else ())
            for v in a.versions
            if (a.agreement_id, v.version) == wanted
        ),
        None,
    )
    if policy is None or version is None or ctx.settings.mail is None:
        return
    await receipts.queue_corporate_receipt(
        s,
        request.app[CIPHER],
        company=signed.company,
        login=session.data.login,
        platform_name=PLATFORM_NAMES[Platform(session.data.platform)],
        to=signed.email,
        lang=signed.pending.lang,
        fields=_given({**signed.pending.fields, "email": signed.email}, version.fields),
        managers=signed.pending.managers,
        domains=(signed.domain,),
        text=version.text,
        public_url=ctx.settings.public_url,
        privacy_url=policy.privacy_url,
    )


def setup(app: web.Application) -> None:
    app[CORPORATE_SUBMIT] = submit
    app.router.add_post("/sign/{agreement}/confirm", confirm)
    app.router.add_post("/sign/{community}/{agreement}/confirm", confirm)
