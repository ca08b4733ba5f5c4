"""``/company``: managers of a company's corporate CLA see whether the community approved it
and each domain's state, list who it covers (email domains, emails, accounts) and remove them;
each change re-checks the PRs it affects."""

from __future__ import annotations

from aiohttp import web

from bot.core.model import Platform
from bot.platforms import registry
from bot.services import corporate
from bot.storage.installations import lookup_installation
from bot.storage.models import Company
from bot.web.keys import CIPHER, QUEUE, RUNTIME, SESSIONS
from bot.web.middlewares import request_id
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
    request: web.Request, *, company: Company | None, error: str | None = None, status: int = 200
) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    providers = [{"platform": p, "name": PLATFORM_NAMES[p]} for p in ctx.providers]
    if session is None:
        return ctx.pages.render(
            request, "company.html", personal=True, who=None, providers=providers, company=None
        )
    entries: list[corporate.Entry] = []
    if company is not None:
        async with request.app[SESSIONS]() as s:
            entries = await corporate.entries(s, request.app[CIPHER], company)
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
        error=error,
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
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        return ctx.pages.error(request, "not_signed_in", status=401, again="/company")
    form = await request.post()
    if not session.data.check_csrf(str(form.get("csrf", ""))):
        return ctx.pages.error(request, "csrf", status=403, again="/company")
    company = await _company(request, session)
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


def setup(app: web.Application) -> None:
    app.router.add_get("/company", index)
    app.router.add_get("/company/{uid}", show)
    app.router.add_post("/company/{uid}/add", add)
    app.router.add_post("/company/{uid}/remove", remove)
