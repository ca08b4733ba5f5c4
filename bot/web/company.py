"""``/company``: managers of a company's corporate CLA see whether the community approved it
and each domain's state, list who it covers (email domains, emails, accounts) and remove them;
each change re-checks the PRs it affects. A further domain is proven by a code mailed to an
address there, then waits for an administrator's approval. Managers invite others by email
(a one-use link, accepted by signing in), cancel an invitation, remove another manager.

The invitation link's token never reaches the login attempt nor a later address: opening the
link puts it in a short-lived cookie scoped to ``/company/invite`` and sends the browser to
that path without it; the sign-in returns there."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Platform
from bot.platforms import registry
from bot.services import corporate, email_proofs
from bot.services.corporate import employees, invitations, proofs
from bot.storage.installations import lookup_installation
from bot.storage.models import Company
from bot.web import company_sign
from bot.web.clientip import client_key
from bot.web.keys import CIPHER, QUEUE, RUNTIME, SESSIONS, SETTINGS
from bot.web.middlewares import request_id
from bot.web.pages import NO_STORE
from bot.web.sessions import Session
from bot.web.signing import PLATFORM_NAMES, SIGNING


async def _managed(request: web.Request, session: Session) -> list[Company]:
    async with request.app[SESSIONS]() as s, s.begin():
        return await corporate.managed(
            s,
            platform=session.data.platform,
            account_id=session.data.account_id,
            login=session.data.login,
        )


async def _page(
    request: web.Request,
    *,
    company: Company | None,
    error: str | None = None,
    status: int = 200,
    prove_error: str | None = None,
    prove_email: str = "",
) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    providers = [{"platform": p, "name": PLATFORM_NAMES[p]} for p in ctx.providers]
    if session is None:
        return ctx.pages.render(
            request, "company.html", personal=True, who=None, providers=providers, company=None
        )
    entries: list[corporate.Entry] = []
    invited: list[invitations.Invitation] = []
    managers: list[invitations.Manager] = []
    staff: list[employees.Employee] = []
    if company is not None:
        async with request.app[SESSIONS]() as s:
            entries = await corporate.entries(s, request.app[CIPHER], company)
            invited = await invitations.pending(s, request.app[CIPHER], company)
            managers = await invitations.managers(s, company)
            staff = await employees.of_company(s, request.app[CIPHER], company)
    return ctx.pages.render(
        request,
        "company.html",
        status=status,
        personal=True,
        who=f"{PLATFORM_NAMES[Platform(session.data.platform)]} @{session.data.login}",
        csrf=session.data.csrf,
        providers=providers,
        company=company,
        companies=await _managed(request, session),
        entries=entries,
        signed=request.query.get("signed") == "1",
        changed=request.query.get("changed") == "1",
        saved=request.query.get("saved") == "1",
        proven=request.query.get("proven") == "1",
        invited_ok=request.query.get("invited") == "1",
        invited=invited,
        managers=managers,
        confirm_mode=request.app[SETTINGS].policy.corporate_employees == "confirm",
        staff=staff,
        me_id=session.data.account_id,
        error=error,
        mail_on=request.app[SETTINGS].mail is not None,
        prove_error=prove_error,
        prove_email=prove_email,
    )


async def _company(request: web.Request, session: Session) -> Company:
    uid = request.match_info["uid"]
    for company in await _managed(request, session):
        if company.uid == uid:
            return company
    raise web.HTTPNotFound(text="no such company among those you manage")


async def index(request: web.Request) -> web.Response:
    return await _page(request, company=None)


async def show(request: web.Request) -> web.Response:
    session = await request.app[SIGNING].store.load(request)
    if session is None:
        return await _page(request, company=None)
    return await _page(request, company=await _company(request, session))


async def _accounts(request: web.Request, platform: str) -> corporate.AccountLookup | None:
    """The forge client that confirms account names: for GitHub, that of an installation
    (its token may read users); ``None`` while the bot has none on that forge."""
    factory = request.app[RUNTIME].checks.clients.get(Platform(platform))
    if factory is None:
        return None
    async with request.app[SESSIONS]() as s:
        installation = await lookup_installation(s, platform)
    if installation is None and registry.forge(platform).installations:
        return None
    return factory(installation)


async def _change(request: web.Request, *, add: bool) -> web.StreamResponse:
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    actor = f"{session.data.platform}:{session.data.account_id}"
    try:
        new = None
        if add:  # the forge is asked before the transaction starts
            kind = str(form.get("kind", ""))
            new = await corporate.prepare_entry(
                request.app[CIPHER],
                kind=kind,
                raw=str(form.get("value", ""))[:320],
                platform=session.data.platform,
                accounts=await _accounts(request, session.data.platform)
                if kind == "login"
                else None,
            )
        async with request.app[SESSIONS]() as s, s.begin():
            if new is not None:
                rechecks = await corporate.add_entry(
                    s,
                    request.app[CIPHER],
                    company,
                    new,
                    actor=actor,
                    request_id=request_id(request),
                )
            else:
                rechecks = await corporate.remove_entry(
                    s,
                    request.app[CIPHER],
                    company,
                    str(form.get("entry", "")),
                    actor=actor,
                    request_id=request_id(request),
                )
    except corporate.EntryError as exc:
        return await _page(request, company=company, error=str(exc), status=400)
    if not rechecks:
        raise web.HTTPSeeOther(f"/company/{company.uid}?saved=1")
    request.app[QUEUE].notify()
    raise web.HTTPSeeOther(f"/company/{company.uid}?changed=1")


async def add(request: web.Request) -> web.StreamResponse:
    return await _change(request, add=True)


async def remove(request: web.Request) -> web.StreamResponse:
    return await _change(request, add=False)


async def _post(request: web.Request) -> tuple[Session, Company, Any] | web.Response:
    got = await company_sign.signed_in_post(request, "/company")
    if isinstance(got, web.Response):
        return got
    session, form = got
    return session, await _company(request, session), form


async def prove_domain(request: web.Request) -> web.StreamResponse:
    """A manager types an address at a further domain: a code goes to it."""
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    email = str(form.get("email", "")).strip()[:254]
    if request.app[SETTINGS].mail is None:
        return await _page(request, company=company, status=409, prove_error="company_no_mail")
    if not request.app[SIGNING].code_limit.allow(client_key(request)):
        return await _page(
            request, company=company, status=429, prove_error="email_too_many_person"
        )
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            uid = await proofs.start_domain(
                s,
                request.app[CIPHER],
                company_sign.proof_person(session),
                company,
                email,
                lang=request.app[SIGNING].pages.language(request),
                public_url=request.app[SETTINGS].public_url,
            )
    except corporate.EntryError as exc:
        return await _page(request, company=company, status=400, error=str(exc))
    except email_proofs.ProofRefused as exc:
        return await _page(
            request,
            company=company,
            status=company_sign.refused_status(exc.reason),
            prove_error=f"email_{exc.reason}",
            prove_email=email,
        )
    request.app[QUEUE].notify()
    here = f"/company/{company.uid}"
    return company_sign.code_page(
        request, session, uid, action=f"{here}/domains/confirm", back=here
    )


async def confirm_domain(request: web.Request) -> web.StreamResponse:
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    here = f"/company/{company.uid}"

    async def use(s: AsyncSession, person: email_proofs.Person, uid: str, code: str) -> str:
        return await proofs.finish_domain(
            s, request.app[CIPHER], person, company, uid, code, request_id=request_id(request)
        )

    done = await company_sign.with_code(
        request, session, form, use, action=f"{here}/domains/confirm", back=here
    )
    if isinstance(done, web.Response):
        return done
    raise web.HTTPSeeOther(f"{here}?proven=1")


async def invite(request: web.Request) -> web.StreamResponse:
    """A manager invites another by email: a one-use link goes to the address."""
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    if request.app[SETTINGS].mail is None:
        return await _page(request, company=company, status=409, prove_error="company_no_mail")
    if not request.app[SIGNING].code_limit.allow(client_key(request)):
        return await _page(request, company=company, status=429, error="too many mails: later")
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            await invitations.invite(
                s,
                request.app[CIPHER],
                company,
                str(form.get("email", "")).strip()[:254],
                actor=f"{session.data.platform}:{session.data.account_id}",
                lang=request.app[SIGNING].pages.language(request),
                public_url=request.app[SETTINGS].public_url,
                request_id=request_id(request),
            )
    except corporate.EntryError as exc:
        return await _page(request, company=company, status=400, error=str(exc))
    request.app[QUEUE].notify()
    raise web.HTTPSeeOther(f"/company/{company.uid}?invited=1")


async def cancel_invitation(request: web.Request) -> web.StreamResponse:
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    async with request.app[SESSIONS]() as s, s.begin():
        await invitations.cancel(
            s,
            company,
            str(form.get("invitation", ""))[:32],
            actor=f"{session.data.platform}:{session.data.account_id}",
            request_id=request_id(request),
        )
    raise web.HTTPSeeOther(f"/company/{company.uid}?saved=1")


async def remove_manager(request: web.Request) -> web.StreamResponse:
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    raw = str(form.get("manager", ""))
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            await invitations.remove_manager(
                s,
                company,
                int(raw) if raw.isdigit() and len(raw) < 10 else 0,
                actor=f"{session.data.platform}:{session.data.account_id}",
                request_id=request_id(request),
            )
    except corporate.EntryError as exc:
        return await _page(request, company=company, status=400, error=str(exc))
    raise web.HTTPSeeOther(f"/company/{company.uid}?saved=1")


async def enable_employee(request: web.Request) -> web.StreamResponse:
    """A manager enables (or disables) an employee who proved a work address."""
    got = await _post(request)
    if isinstance(got, web.Response):
        return got
    session, company, form = got
    async with request.app[SESSIONS]() as s, s.begin():
        rechecks = await employees.enable(
            s,
            company,
            str(form.get("employee", ""))[:32],
            enabled=form.get("enabled") == "yes",
            actor=f"{session.data.platform}:{session.data.account_id}",
            request_id=request_id(request),
        )
    if rechecks:
        request.app[QUEUE].notify()
    raise web.HTTPSeeOther(f"/company/{company.uid}?{'changed' if rechecks else 'saved'}=1")


EMPLOYEE_PATH = "/company/employee"


async def employee_page(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    """Where an employee proves a work address (with ``employees: confirm``)."""
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    mine: list[employees.Employee] = []
    if session is not None:
        async with request.app[SESSIONS]() as s:
            mine = await employees.mine(s, request.app[CIPHER], company_sign.proof_person(session))
    return ctx.pages.render(
        request,
        "company_employee.html",
        status=status,
        personal=True,
        who=f"{PLATFORM_NAMES[Platform(session.data.platform)]} @{session.data.login}"
        if session
        else None,
        csrf=session.data.csrf if session else "",
        providers=[{"platform": p, "name": PLATFORM_NAMES[p]} for p in ctx.providers],
        confirm_mode=request.app[SETTINGS].policy.corporate_employees == "confirm",
        mail_on=request.app[SETTINGS].mail is not None,
        mine=mine,
        error=error,
        proven=request.query.get("proven") == "1",
    )


async def employee_send(request: web.Request) -> web.StreamResponse:
    got = await company_sign.signed_in_post(request, EMPLOYEE_PATH)
    if isinstance(got, web.Response):
        return got
    session, form = got
    if request.app[SETTINGS].mail is None:
        return await employee_page(request, status=409, error="company_no_mail")
    if request.app[SETTINGS].policy.corporate_employees != "confirm":
        return await employee_page(request, status=409)
    if not request.app[SIGNING].code_limit.allow(client_key(request)):
        return await employee_page(request, status=429, error="email_too_many_person")
    try:
        async with request.app[SESSIONS]() as s, s.begin():
            uid = await employees.start(
                s,
                request.app[CIPHER],
                company_sign.proof_person(session),
                str(form.get("email", "")).strip()[:254],
                lang=request.app[SIGNING].pages.language(request),
                public_url=request.app[SETTINGS].public_url,
            )
    except corporate.EntryError as exc:
        return await employee_page(request, status=400, error=str(exc))
    except email_proofs.ProofRefused as exc:
        return await employee_page(
            request, status=company_sign.refused_status(exc.reason), error=f"email_{exc.reason}"
        )
    request.app[QUEUE].notify()
    return company_sign.code_page(
        request, session, uid, action=f"{EMPLOYEE_PATH}/confirm", back=EMPLOYEE_PATH
    )


async def employee_confirm(request: web.Request) -> web.StreamResponse:
    got = await company_sign.signed_in_post(request, EMPLOYEE_PATH)
    if isinstance(got, web.Response):
        return got
    session, form = got

    async def use(s: AsyncSession, person: email_proofs.Person, uid: str, code: str) -> int:
        return await employees.finish(
            s, request.app[CIPHER], person, uid, code, request_id=request_id(request)
        )

    done = await company_sign.with_code(
        request, session, form, use, action=f"{EMPLOYEE_PATH}/confirm", back=EMPLOYEE_PATH
    )
    if isinstance(done, web.Response):
        return done
    raise web.HTTPSeeOther(f"{EMPLOYEE_PATH}?proven=1")


INVITE_COOKIE = "cla_invite"
INVITE_PATH = "/company/invite"


def _invite_cookie(response: web.StreamResponse, token: str | None, *, secure: bool) -> None:
    if token is None:
        response.del_cookie(INVITE_COOKIE, path=INVITE_PATH)
        return
    response.set_cookie(
        INVITE_COOKIE,
        token,
        max_age=1800,
        path=INVITE_PATH,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


async def open_invitation(request: web.Request) -> web.StreamResponse:
    """The mailed link: its token goes into a cookie, and out of the address."""
    token = request.match_info["token"][:100]
    response = web.HTTPSeeOther(INVITE_PATH)
    response.headers.update(NO_STORE)
    response.headers["Referrer-Policy"] = "no-referrer"
    _invite_cookie(response, token, secure=request.app[SIGNING].store.secure)
    raise response


async def _opened(request: web.Request) -> tuple[str, Company] | None:
    token = request.cookies.get(INVITE_COOKIE, "")
    async with request.app[SESSIONS]() as s:
        found = await invitations.find(s, request.app[CIPHER], token)
    return (token, found[1]) if found else None


async def invitation_page(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    opened = await _opened(request)
    return ctx.pages.render(
        request,
        "company_invite.html",
        status=200 if opened else 410,
        personal=True,
        company=opened[1] if opened else None,
        who=f"{PLATFORM_NAMES[Platform(session.data.platform)]} @{session.data.login}"
        if session
        else None,
        csrf=session.data.csrf if session else "",
        providers=[{"platform": p, "name": PLATFORM_NAMES[p]} for p in ctx.providers],
        next_path=INVITE_PATH,
    )


async def accept_invitation(request: web.Request) -> web.StreamResponse:
    got = await company_sign.signed_in_post(request, INVITE_PATH)
    if isinstance(got, web.Response):
        return got
    session, _form = got
    opened = await _opened(request)
    company = None
    if opened is not None:
        async with request.app[SESSIONS]() as s, s.begin():
            company = await invitations.accept(
                s,
                request.app[CIPHER],
                opened[0],
                platform=session.data.platform,
                account_id=session.data.account_id,
                login=session.data.login,
                request_id=request_id(request),
            )
    if company is None:
        return await invitation_page(request)
    response = web.HTTPSeeOther(f"/company/{company.uid}?saved=1")
    _invite_cookie(response, None, secure=request.app[SIGNING].store.secure)
    raise response


def setup(app: web.Application) -> None:
    company_sign.setup(app)  # the corporate form on /sign/{agreement}, proven before it is signed
    app.router.add_get("/company", index)
    app.router.add_get(EMPLOYEE_PATH, employee_page)
    app.router.add_post(EMPLOYEE_PATH, employee_send)
    app.router.add_post(EMPLOYEE_PATH + "/confirm", employee_confirm)
    app.router.add_get(INVITE_PATH, invitation_page)
    app.router.add_post(INVITE_PATH, accept_invitation)
    app.router.add_get(INVITE_PATH + "/{token}", open_invitation)
    app.router.add_get("/company/{uid}", show)
    app.router.add_post("/company/{uid}/add", add)
    app.router.add_post("/company/{uid}/remove", remove)
    app.router.add_post("/company/{uid}/domains", prove_domain)
    app.router.add_post("/company/{uid}/domains/confirm", confirm_domain)
    app.router.add_post("/company/{uid}/invite", invite)
    app.router.add_post("/company/{uid}/invitations/cancel", cancel_invitation)
    app.router.add_post("/company/{uid}/managers/remove", remove_manager)
    app.router.add_post("/company/{uid}/employees", enable_employee)
