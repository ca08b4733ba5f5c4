"""``/setup``: connect the bot to a forge from the browser.

Each forge's adapter declares its part (:class:`bot.platforms.base.ForgeSetup`, in
``bot/platforms/<forge>/setup.py``): its section of ``GET /setup``, a page at
``GET /setup/{forge}``, and a flow that registers the bot from the browser
(``POST /setup/{forge}``, then the forge sends the browser back to
``GET /setup/{forge}/callback``). This module keeps what every forge shares:

- the start form's CSRF token (the ``cla_setup`` cookie, double submit);
- the flow's ``state``: rows of the ``oauth_states`` table (platform ``"setup"``, the chosen
  mode in ``next_path``), stored hashed like the signing logins' and consumed by
  :meth:`bot.web.sessions.SessionStore.consume_state` — so any replica can take the callback
  and a restart in between loses nothing. Only their lifetime differs: one hour, GitHub's limit
  for the whole flow. A state is valid once, within that hour, in the browser that started it;
- the rule that every step of a configured forge answers its ``disabled`` page (404), and
  ``GET /setup`` does once every forge with a flow is configured: an anonymous page never calls
  a configured forge, so it cannot be used to spend the bot's rate limit or probe its token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.platforms import registry
from bot.platforms.base import Forge, ForgeSetup, SetupContext, SetupFlow, SetupPage
from bot.settings import Settings
from bot.web.keys import CIPHER, SESSIONS
from bot.web.middlewares import CSP
from bot.web.pages import Pages
from bot.web.sessions import SessionStore

SETUP_COOKIE = "cla_setup"
SETUP_PLATFORM = "setup"  # oauth_states.platform of a setup flow's state
STATE_TTL = timedelta(hours=1)  # GitHub: the whole flow must complete within one hour


@dataclass(frozen=True)
class SetupPages:
    settings: Settings
    pages: Pages


SETUP: web.AppKey[SetupPages] = web.AppKey("setup", SetupPages)


def _pages(request: web.Request) -> SetupPages:
    return request.app[SETUP]


def _with_setup() -> list[tuple[Forge, ForgeSetup]]:
    return [(f, f.setup) for f in registry.FORGES if f.setup is not None]


def _index_open(settings: Settings) -> bool:
    """Whether ``/setup`` still has a form to fill: a forge with a flow is not configured."""
    return any(s.flow and f.settings_of(settings) is None for f, s in _with_setup())


def _context(settings: Settings, forge: Forge) -> SetupContext:
    return SetupContext(
        public_url=settings.public_url,
        var_dir=settings.var_dir,
        manifest=settings.manifest,
        policy=settings.policy,
        forge=settings.forges[forge.name],
        index_open=_index_open(settings),
    )


def _answer(request: web.Request, page: SetupPage) -> web.Response:
    ctx = _pages(request)
    if page.template is None:
        return ctx.pages.error(request, page.message or "", status=page.status, **dict(page.values))
    response = ctx.pages.render(
        request, page.template, status=page.status, personal=True, **dict(page.values)
    )
    if page.form_origin is not None:
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {page.form_origin}"
        )
    if page.ends_flow:
        response.del_cookie(SETUP_COOKIE, path="/setup")
    return response


def _set_setup_cookie(settings: Settings, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        SETUP_COOKIE,
        value,
        max_age=int(STATE_TTL.total_seconds()),
        path="/setup",
        httponly=True,
        samesite="Lax",  # sent on the forge's top-level redirect back to the callback
        secure=settings.public_url.startswith("https://"),
    )


def _render_index(
    request: web.Request,
    *,
    started: Forge | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    ctx = _pages(request)
    settings = ctx.settings
    token = request.cookies.get(SETUP_COOKIE) or ""
    if not 30 <= len(token) <= 100:
        token = secrets.token_urlsafe(32)
    sections: list[str] = []
    values: dict[str, object] = {}
    for forge, setup in _with_setup():
        mine = forge is started
        sections.append(setup.section)
        values |= setup.section_values(
            _context(settings, forge), form if mine else None, (errors or {}) if mine else {}
        )
    response = ctx.pages.render(
        request,
        "setup.html",
        status=status,
        personal=True,
        sections=sections,
        csrf=token,
        **values,
    )
    _set_setup_cookie(settings, response, token)
    return response


def _disabled(request: web.Request, forge: Forge, setup: ForgeSetup) -> web.Response | None:
    conf = forge.settings_of(_pages(request).settings)
    return None if conf is None else _answer(request, setup.disabled(conf))


def _forge(request: web.Request) -> tuple[Forge, ForgeSetup]:
    name = registry.known(request.match_info["forge"])
    forge = registry.BY_NAME[name] if name is not None else None
    if forge is None or forge.setup is None:
        raise web.HTTPNotFound()
    return forge, forge.setup


def _flow(request: web.Request) -> tuple[Forge, ForgeSetup, SetupFlow]:
    """The forge's setup and its flow (404 for a forge without either)."""
    forge, setup = _forge(request)
    if setup.flow is None:
        raise web.HTTPNotFound()
    return forge, setup, setup.flow


async def setup_index(request: web.Request) -> web.Response:
    settings = _pages(request).settings
    if not _index_open(settings):
        for forge, setup in _with_setup():
            conf = forge.settings_of(settings)
            if setup.flow is not None and conf is not None:
                return _answer(request, setup.disabled(conf))
    return _render_index(request)


async def setup_page(request: web.Request) -> web.Response:
    forge, setup = _forge(request)
    if setup.page is None:
        raise web.HTTPMethodNotAllowed("GET", ["POST"] if setup.flow else [])
    disabled = _disabled(request, forge, setup)
    if disabled is not None:
        return disabled
    return _answer(request, setup.page(_context(_pages(request).settings, forge)))


async def setup_start(request: web.Request) -> web.Response:
    forge, setup = _forge(request)
    if setup.flow is None:
        raise web.HTTPMethodNotAllowed("POST", ["GET"] if setup.page else [])
    flow = setup.flow
    disabled = _disabled(request, forge, setup)
    if disabled is not None:
        return disabled
    ctx = _pages(request)
    posted = await request.post()
    cookie = request.cookies.get(SETUP_COOKIE, "")
    sent = str(posted.get("csrf", ""))
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    if not cookie or not sent or not secrets.compare_digest(cookie.encode(), sent.encode()):
        return ctx.pages.error(request, "setup_cookie", status=403, again="/setup")
    form = {key: str(posted[key]) for key in set(posted) - {"csrf"}}  # each field's first value
    setup_ctx = _context(ctx.settings, forge)
    mode, errors = flow.check(setup_ctx, form)
    if errors:
        return _render_index(request, started=forge, form=form, errors=errors, status=400)
    state = secrets.token_urlsafe(32)  # 256 bits
    await remember_state(request, state=state, binding=cookie, mode=mode)
    return _answer(request, flow.start(setup_ctx, form, state=state))


async def setup_callback(request: web.Request) -> web.Response:
    forge, setup, flow = _flow(request)
    disabled = _disabled(request, forge, setup)
    if disabled is not None:
        return disabled
    ctx = _pages(request)
    mode = await consume_state(request, request.query.get("state", ""))
    if mode is None or mode not in flow.modes:
        return ctx.pages.error(request, "setup_bad_state", again="/setup")
    page = await flow.callback(_context(ctx.settings, forge), request.query, mode=mode)
    return _answer(request, page)


# -- states -------------------------------------------------------------------------------------


def _store(request: web.Request) -> SessionStore:
    return SessionStore(
        request.app[SESSIONS],
        request.app[CIPHER],
        secure_cookies=_pages(request).settings.public_url.startswith("https://"),
    )


async def remember_state(request: web.Request, *, state: str, binding: str, mode: str) -> None:
    await _store(request).remember_state(
        state=state,
        prelogin=binding,
        platform=SETUP_PLATFORM,
        verifier=None,
        next_path=mode,
        ttl=STATE_TTL,
    )


async def consume_state(request: web.Request, state: str) -> str | None:
    """The mode chosen for ``state``, if the state is valid for this browser."""
    row = await _store(request).consume_state(
        state=state, prelogin=request.cookies.get(SETUP_COOKIE), platform=SETUP_PLATFORM
    )
    return None if row is None else row.next_path


def setup(app: web.Application, settings: Settings) -> None:
    """Register the ``/setup`` pages (idempotent: a second call does nothing)."""
    if SETUP in app:
        return
    app[SETUP] = SetupPages(settings=settings, pages=Pages(settings.templates_dir))
    app.router.add_get("/setup", setup_index)
    app.router.add_get("/setup/{forge}", setup_page)
    app.router.add_post("/setup/{forge}", setup_start)
    app.router.add_get("/setup/{forge}/callback", setup_callback)


__all__ = ["SETUP", "SETUP_COOKIE", "setup"]
