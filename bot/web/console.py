"""``/console``: the maintainers' console, HTTP only (the use cases are
:class:`bot.services.console.Console`'s). Same OAuth login and web sessions as the signing
pages; who administers a community is asked of the forge by the service, never taken from the
browser.

- ``GET /console``: signed out, the sign-in buttons; signed in, the communities the person
  administers, or a notice that they administer none (and nothing else).
- ``GET /console/{community}``: its overview (links, agreements and versions with their
  signatures, PRs blocked now) and ``?login=`` a search of its signatures (masked emails). A
  community the person does not administer is a 403 page, an unknown one a 404 page.

Every page is personal: ``no-store``; the CSP is the middleware's.
"""

from __future__ import annotations

from aiohttp import web

from bot.core.model import Platform
from bot.services.console import Console, Person
from bot.web.clientip import client_key
from bot.web.keys import CONSOLE_LIMIT, RUNTIME
from bot.web.ratelimit import RateLimiter
from bot.web.sessions import Session
from bot.web.signing import PLATFORM_NAMES, SIGNING

MAX_LOGIN = 100  # a search longer than any forge login is not asked
PAGES_PER_MINUTE = 60  # console pages per signed-in account (each may ask the forge)


def _console(request: web.Request) -> Console:
    console = request.app[RUNTIME].console
    if console is None:  # built by every runtime; a runtime made by hand may lack it
        raise web.HTTPNotFound()
    return console


def _who(session: Session) -> str:
    name = PLATFORM_NAMES.get(Platform(session.data.platform), session.data.platform)
    return f"{name} @{session.data.login}"


def _signed_out(request: web.Request, next_path: str) -> web.Response:
    ctx = request.app[SIGNING]
    providers = [{"platform": p, "name": PLATFORM_NAMES[p]} for p in ctx.providers]
    return ctx.pages.render(
        request,
        "console.html",
        personal=True,
        who=None,
        providers=providers,
        next_path=next_path,
    )


def _refused(request: web.Request, key: str, status: int) -> web.Response:
    """The error page for a community one may not see (403) or that does not exist (404),
    with the way back to one's communities."""
    pages = request.app[SIGNING].pages
    lang = pages.language(request)
    return pages.render(
        request,
        "error.html",
        status=status,
        personal=True,
        title=pages.t(lang, "console_title"),
        message=pages.t(lang, key),
        again="/console",
        again_label=pages.t(lang, "console_back"),
    )


async def _signed_in(request: web.Request) -> Session | web.Response:
    """The session, or the page to answer instead (too many pages for this account)."""
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    if session is None:
        return _signed_out(request, request.path)
    account = f"{session.data.platform}:{session.data.account_id}"
    limit = request.app[CONSOLE_LIMIT]
    if not limit.allow(account) or not limit.allow(f"ip:{client_key(request)}"):
        return ctx.pages.error(request, "rate_limited", status=429)
    return session


async def console_page(request: web.Request) -> web.Response:
    session = await _signed_in(request)
    if isinstance(session, web.Response):
        return session
    ctx = request.app[SIGNING]
    person = Person(session.data.platform, session.data.login)
    communities = await _console(request).communities_of(person)
    return ctx.pages.render(
        request,
        "console.html",
        personal=True,
        who=_who(session),
        csrf=session.data.csrf,
        communities=communities,
    )


async def community_page(request: web.Request) -> web.Response:
    session = await _signed_in(request)
    if isinstance(session, web.Response):
        return session
    ctx = request.app[SIGNING]
    console = _console(request)
    community = await console.community(request.match_info["community"])
    if community is None:
        return _refused(request, "console_unknown", 404)
    person = Person(session.data.platform, session.data.login)
    if not await console.administers(person, community):
        return _refused(request, "console_forbidden", 403)
    login = request.query.get("login", "").strip()[:MAX_LOGIN]
    overview = await console.overview(community)
    hits = await console.search(community, login) if login else None
    return ctx.pages.render(
        request,
        "console_community.html",
        personal=True,
        who=_who(session),
        csrf=session.data.csrf,
        overview=overview,
        login=login,
        hits=hits,
    )


def setup(app: web.Application) -> None:
    app[CONSOLE_LIMIT] = RateLimiter(limit=PAGES_PER_MINUTE, window_s=60)
    app.router.add_get("/console", console_page)
    app.router.add_get("/console/{community}", community_page)
