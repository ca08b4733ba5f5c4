"""The signing pages: ``/sign/{agreement}`` (text, login, form), the OAuth login and callback,
the confirmation with its receipt.

Every form carries a CSRF token; pages showing personal data are ``no-store``; redirects go
to local paths only; login and signing are rate-limited per client address.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.core.communities import DEFAULT_COMMUNITY, sign_path
from bot.core.model import Platform
from bot.platforms import oauth, registry
from bot.services import receipts, signing
from bot.settings import SIGNING_FIELDS, AgreementSettings, Policy, Settings
from bot.storage.agreements import load_agreement
from bot.web.clientip import client_key
from bot.web.keys import CIPHER, METRICS, QUEUE, SESSIONS
from bot.web.middlewares import request_id
from bot.web.pages import NO_STORE, Pages
from bot.web.ratelimit import RateLimiter
from bot.web.sessions import PRELOGIN_COOKIE, Session, SessionData, SessionStore, safe_next

log = logging.getLogger("bot.signing")

PLATFORM_NAMES = {f.name: f.display_name for f in registry.FORGES}
_PHONE = re.compile(r"[0-9 +()\-.]{5,32}")
MAX_LEN = {
    "company": 200,
    "name": 200,
    "title": 200,
    "address": 500,
    "phone": 32,
    "fax": 32,
    "email": 320,
}


def clean_value(raw: str) -> str:
    """A form field as stored: line breaks as ``\n`` (browsers send a textarea's as ``\r\n``,
    and count each as one character against ``maxlength``), surrounding space trimmed."""
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()


def field_error(name: str, value: str) -> str | None:
    """The message key for a non-empty contact value over its limits, else None — the same
    limits on the signing form and on ``/me``."""
    if len(value) > MAX_LEN[name]:
        return "err_too_long"
    if name in ("phone", "fax") and not _PHONE.fullmatch(value):
        return "err_phone"
    return None


_REPO_PART = re.compile(r"(?!\.+$)[A-Za-z0-9_.-]{1,100}")
_PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True, slots=True)
class PrLink:
    """The pull request a signer came from (its comment's signing link carries the repository
    and number, nothing personal). The link back is built on the configured forge's web base,
    never taken from the request, so it cannot send anyone elsewhere."""

    platform: Platform
    repo: str
    number: int
    url: str

    @property
    def query(self) -> str:
        return urlencode({"platform": self.platform, "repo": self.repo, "pr": self.number})

    @property
    def name(self) -> str:
        return f"{self.repo}#{self.number}"


def pr_link(settings: Settings, values: Mapping[str, Any]) -> PrLink | None:
    """``platform``, ``repo`` (owner/name) and ``pr`` from a query or form, when they name a
    pull request on a forge this bot is connected to; else None."""
    platform = _platform(str(values.get("platform", "")))
    repo, number = str(values.get("repo", "")), str(values.get("pr", ""))
    forge = registry.BY_NAME.get(platform) if platform else None
    web_url = forge.web_url_of(settings) if forge and forge.settings_of(settings) else None
    owner, _, name = repo.partition("/")
    if (
        platform is None
        or forge is None
        or web_url is None
        or not (_REPO_PART.fullmatch(owner) and _REPO_PART.fullmatch(name))
        or not _PR_NUMBER.fullmatch(number)
    ):
        return None
    url = f"{web_url.rstrip('/')}/{owner}/{name}/{forge.pull_path}/{number}"
    return PrLink(platform, repo, int(number), url)


@dataclass
class SigningContext:
    settings: Settings
    pages: Pages
    store: SessionStore
    providers: dict[Platform, oauth.OAuthProvider]
    http: aiohttp.ClientSession
    login_limit: RateLimiter
    sign_limit: RateLimiter
    account_limit: RateLimiter = field(default_factory=lambda: RateLimiter(limit=5, window_s=60))
    # codes sent to prove an address, per client address (the service limits per person and
    # per address on top, in the database)
    code_limit: RateLimiter = field(default_factory=lambda: RateLimiter(limit=10, window_s=3600))
    verify_limit: RateLimiter = field(default_factory=lambda: RateLimiter(limit=30, window_s=60))


SIGNING: web.AppKey[SigningContext] = web.AppKey("signing")
# the corporate form's handler (bot.web.company_sign): its address is proven before it is signed
CorporateSubmit = Callable[[web.Request, "Target"], Awaitable[web.StreamResponse]]
CORPORATE_SUBMIT: web.AppKey[CorporateSubmit] = web.AppKey("corporate_submit")


providers_from = oauth.providers_from


def _funnel(request: web.Request, step: str) -> None:
    request.app[METRICS].inc(
        "cla_signing_funnel_total",
        "Signing funnel: page views, logins started and completed, signatures.",
        step=step,
    )


@dataclass(frozen=True, slots=True)
class Target:
    """The agreement a signing page is about, in its community (``/sign/<community>/<id>``;
    ``/sign/<id>`` is the default community's)."""

    community: str
    policy: Policy
    agreement: AgreementSettings

    @property
    def path(self) -> str:
        return sign_path(self.community, self.agreement.agreement_id)


def _home(ctx: SigningContext) -> str:
    """Where ``/sign`` and a login without a page to go back to lead: the required agreement
    of the deployment's home community (its default, else its first)."""
    return sign_path(ctx.settings.home_community, ctx.settings.policy.required_agreement)


def _target(ctx: SigningContext, request: web.Request) -> Target | None:
    community = request.match_info.get("community", DEFAULT_COMMUNITY)
    policy = ctx.settings.community_policy(community)
    if policy is None:
        return None
    try:
        return Target(community, policy, policy.agreement(request.match_info["agreement"]))
    except KeyError:
        return None


def _platform(value: str) -> Platform | None:
    return registry.known(value)


def _callback_url(ctx: SigningContext, platform: Platform) -> str:
    return f"{ctx.settings.public_url}/sign/oauth/{platform}/callback"


async def _standing(request: web.Request, target: Target, session: Session) -> signing.Standing:
    async with request.app[SESSIONS]() as s:
        core_agreement = await load_agreement(
            s, target.agreement.agreement_id, community=target.community
        )
        return await signing.standing(
            s,
            request.app[CIPHER],
            platform=session.data.platform,
            account_id=session.data.account_id,
            emails=session.data.emails,
            agreement=core_agreement,
            community=target.community,
        )


def _render_sign(
    request: web.Request,
    target: Target,
    session: Session | None,
    standing: signing.Standing | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    from_pr: PrLink | None = None,
) -> web.Response:
    ctx = request.app[SIGNING]
    lang = ctx.pages.language(request)
    agreement = target.agreement
    here = target.path + (f"?{from_pr.query}" if from_pr else "")
    version = agreement.versions[-1]
    text = version.translations.get(lang) if lang != "en" else None
    preferred = _platform(request.query.get("platform", ""))
    fields = [
        {"name": name, "required": level == "required"}
        for name in SIGNING_FIELDS
        if (level := version.fields.get(name, "required" if name == "email" else "off")) != "off"
    ]
    platform_name = PLATFORM_NAMES[Platform(session.data.platform)] if session else ""
    signed = None
    if standing and standing.signature:
        signed = {
            "version": standing.signature.version,
            "date": standing.signature.signed_at.date().isoformat(),
        }
    return ctx.pages.render(
        request,
        "sign.html",
        status=status,
        personal=session is not None,
        agreement=agreement,
        version=version,
        text_html=ctx.pages.markdown_html(text or version.text),
        translated=text is not None,
        providers=[
            {"platform": p, "name": PLATFORM_NAMES[p], "preferred": p == preferred}
            for p in ctx.providers
        ],
        who=f"{platform_name} @{session.data.login}" if session else None,
        csrf=session.data.csrf if session else "",
        emails=session.data.emails if session else [],
        platform_name=platform_name,
        signed=signed,
        resign=bool(standing and standing.resign),
        fields=fields,
        values=values or {},
        errors=errors or {},
        max_len=MAX_LEN,
        here=here,
        from_pr=from_pr,
        privacy_url=target.policy.privacy_url,
        mail_on=ctx.settings.mail is not None,
    )


async def sign_page(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    target = _target(ctx, request)
    if target is None:
        return ctx.pages.error(request, "unknown_agreement", status=404)
    session = await ctx.store.load(request)
    _funnel(request, "page" if session is None else "form")
    individual = target.agreement.kind != "corporate"  # a person may sign for several companies
    standing = await _standing(request, target, session) if session and individual else None
    return _render_sign(
        request, target, session, standing, from_pr=pr_link(ctx.settings, request.query)
    )


async def sign_index(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    raise web.HTTPFound(_home(ctx))


def _validate(
    version_fields: dict[str, str], form: Any, emails: list[str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The form's values and errors; ``emails``: the addresses the email must be one of
    (``None``: any, to be proven by a code)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in SIGNING_FIELDS:
        level = version_fields.get(name, "required" if name == "email" else "off")
        if level == "off":
            continue
        raw = clean_value(str(form.get(name, "")))
        values[name] = raw
        if not raw:
            if level == "required":
                errors[name] = "err_required"
            continue
        problem = field_error(name, raw)
        if problem is not None:
            errors[name] = problem
        elif name == "email" and emails is not None and raw not in emails:
            errors[name] = "err_email"
    for box in ("accept", "privacy"):
        values[box] = "yes" if form.get(box) == "yes" else ""
        if not values[box]:
            errors[box] = f"err_{box}"
    return values, errors


async def sign_submit(request: web.Request) -> web.StreamResponse:
    ctx = request.app[SIGNING]
    target = _target(ctx, request)
    if target is None:
        return ctx.pages.error(request, "unknown_agreement", status=404)
    agreement = target.agreement
    if not ctx.sign_limit.allow(client_key(request)):
        return ctx.pages.error(request, "rate_limited", status=429)
    if agreement.kind == "corporate":  # its address is proven by a code first
        return await request.app[CORPORATE_SUBMIT](request, target)
    session = await ctx.store.load(request)
    if session is None:
        return ctx.pages.error(request, "not_signed_in", status=401, again=target.path)
    form = await request.post()
    if not session.data.check_csrf(str(form.get("csrf", ""))):
        return ctx.pages.error(request, "csrf", status=403, again=target.path)
    version = agreement.versions[-1]
    from_pr = pr_link(ctx.settings, form)
    values, errors = _validate(dict(version.fields), form, session.data.emails)
    if not session.data.emails:
        errors["email"] = "err_email"
    if errors:
        standing = await _standing(request, target, session)
        return _render_sign(
            request,
            target,
            session,
            standing,
            values=values,
            errors=errors,
            status=400,
            from_pr=from_pr,
        )
    # per account too, so that many addresses cannot hammer one account's record; counted only
    # for a form that would be recorded, so that mistakes in the form never lock anyone out
    if not ctx.account_limit.allow(f"{session.data.platform}:{session.data.account_id}"):
        return ctx.pages.error(request, "rate_limited", status=429)
    async with request.app[SESSIONS]() as s, s.begin():
        signed = await signing.sign(
            s,
            request.app[CIPHER],
            platform=session.data.platform,
            account_id=session.data.account_id,
            login=session.data.login,
            verified_emails=session.data.emails,
            agreement_id=agreement.agreement_id,
            version=version.version,
            fields=values,
            community=target.community,
            request_id=request_id(request),
        )
        if ctx.settings.mail is not None:  # the receipt goes out with the signature, or not at all
            await receipts.queue_receipt(
                s,
                request.app[CIPHER],
                signature_id=signed.signature_id,
                login=session.data.login,
                platform_name=PLATFORM_NAMES[Platform(session.data.platform)],
                to=values.get("email") or session.data.emails[0],
                lang=ctx.pages.language(request),
                fields=_given(values, version.fields),
                text=version.text,
                public_url=ctx.settings.public_url,
                privacy_url=target.policy.privacy_url,
            )
    request.app[QUEUE].notify()
    _funnel(request, "signed")
    log.info(
        "signature %s recorded for %s account %s; %s PR re-checks queued",
        signed.signature_id,
        session.data.platform,
        session.data.account_id,
        signed.rechecks,
    )
    session.data.signature_ids.append(signed.signature_id)
    await ctx.store.save(session)
    done = urlencode({"rechecked": signed.rechecks})
    if from_pr is not None:
        done = f"{from_pr.query}&{done}"
    raise web.HTTPSeeOther(f"{target.path}/done?{done}")


def _given(values: Mapping[str, str], fields: Mapping[str, str]) -> dict[str, str]:
    """The agreement's fields the signer filled in (not the form's checkboxes)."""
    return {k: values[k] for k in {*fields, "email"} if values.get(k)}


async def _latest_receipt(request: web.Request, session: Session) -> dict[str, Any] | None:
    if not session.data.signature_ids:
        return None
    async with request.app[SESSIONS]() as s:
        return await signing.receipt(
            s, request.app[CIPHER], session.data.signature_ids[-1], login=session.data.login
        )


def _receipt_of(receipt: Mapping[str, Any] | None, target: Target) -> bool:
    """Whether ``receipt`` is of a signature of ``target``'s agreement (in its community)."""
    if receipt is None:
        return False
    signed = receipt["agreement"]
    return bool(
        signed["id"] == target.agreement.agreement_id
        and signed.get("community", DEFAULT_COMMUNITY) == target.community
    )


async def done_page(request: web.Request) -> web.Response:
    """The receipt, what happens next, and the way back to the PR the signer came from.

    ``rechecked`` (how many PRs the signature queued a check of) comes from the form's
    redirect; a signer who blocked nothing most likely signed with another account than the
    one their commits name, so the page says which account signed and offers to sign out and
    sign with another. A hand-edited number changes only what this signer reads about
    themselves."""
    ctx = request.app[SIGNING]
    target = _target(ctx, request)
    if target is None:
        return ctx.pages.error(request, "unknown_agreement", status=404)
    session = await ctx.store.load(request)
    receipt = await _latest_receipt(request, session) if session else None
    if session is None or not _receipt_of(receipt, target):
        raise web.HTTPSeeOther(target.path)
    raw = request.query.get("rechecked", "")
    from_pr = pr_link(ctx.settings, request.query)
    platform_name = PLATFORM_NAMES[Platform(session.data.platform)]
    return ctx.pages.render(
        request,
        "done.html",
        personal=True,
        receipt=receipt,
        rechecked=int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else None,
        from_pr=from_pr,
        who=f"{platform_name} @{session.data.login}",
        platform_name=platform_name,
        csrf=session.data.csrf,
        sign_again=target.path + (f"?{from_pr.query}" if from_pr else ""),
    )


async def receipt_json(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    target = _target(ctx, request)
    receipt = await _latest_receipt(request, session) if session else None
    if target is None or receipt is None or not _receipt_of(receipt, target):
        return web.json_response({"message": "no signature in this session"}, status=404)
    agreement = target.agreement.agreement_id
    return web.Response(
        text=json.dumps(receipt, indent=2, ensure_ascii=False),
        content_type="application/json",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="cla-receipt-{agreement}.json"',
        },
    )


async def signed_text(request: web.Request) -> web.Response:
    """The text this session's latest signature signed, as the file the receipt mail attaches
    (its SHA-256 is the receipt's)."""
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    target = _target(ctx, request)
    receipt = await _latest_receipt(request, session) if session else None
    if target is None or receipt is None or not _receipt_of(receipt, target):
        return web.json_response({"message": "no signature in this session"}, status=404)
    agreement, agreement_id = target.agreement, target.agreement.agreement_id
    version = receipt["agreement"]["version"]
    text = next((v.text for v in agreement.versions if v.version == version), None)
    if text is None:
        return web.json_response({"message": "this version's text is not published"}, status=404)
    return web.Response(
        text=text,
        content_type="text/markdown",
        charset="utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="{agreement_id}-{version}.md"',
        },
    )


async def login_start(request: web.Request) -> web.StreamResponse:
    ctx = request.app[SIGNING]
    platform = _platform(request.match_info["platform"])
    provider = ctx.providers.get(platform) if platform else None
    if platform is None or provider is None:
        raise web.HTTPNotFound(text="this platform is not configured for signing")
    if not ctx.login_limit.allow(client_key(request)):
        return ctx.pages.error(request, "rate_limited", status=429)
    next_path = safe_next(request.query.get("next"), _home(ctx))
    _funnel(request, "login_started")
    state = oauth.new_state()
    verifier = oauth.new_verifier() if provider.pkce else None
    response = web.HTTPFound(
        oauth.authorize_redirect(
            provider, redirect_uri=_callback_url(ctx, platform), state=state, verifier=verifier
        )
    )
    prelogin = ctx.store.prelogin(request, response)
    await ctx.store.remember_state(
        state=state,
        prelogin=prelogin,
        platform=platform,
        verifier=verifier,
        next_path=next_path,
    )
    response.headers.update(NO_STORE)
    raise response


async def login_callback(request: web.Request) -> web.StreamResponse:
    ctx = request.app[SIGNING]
    platform = _platform(request.match_info["platform"])
    provider = ctx.providers.get(platform) if platform else None
    again = _home(ctx)
    if platform is None or provider is None:
        raise web.HTTPNotFound(text="this platform is not configured for signing")
    if not ctx.login_limit.allow(client_key(request)):
        return ctx.pages.error(request, "rate_limited", status=429)
    attempt = await ctx.store.consume_state(
        state=request.query.get("state", ""),
        prelogin=request.cookies.get(PRELOGIN_COOKIE),
        platform=platform,
    )
    if attempt is None:
        return ctx.pages.error(request, "bad_login", again=again)
    if "error" in request.query or not request.query.get("code"):
        return ctx.pages.error(request, "login_cancelled", again=attempt.next_path)
    try:
        token = await oauth.exchange_code(
            ctx.http,
            provider,
            code=request.query["code"],
            redirect_uri=_callback_url(ctx, platform),
            verifier=attempt.code_verifier,
        )
        identity = await oauth.fetch_identity(ctx.http, provider, token)
    except oauth.OAuthError as exc:
        log.warning("%s login failed: %s", platform, exc)
        return ctx.pages.error(
            request,
            "login_failed",
            status=502,
            again=attempt.next_path,
            platform=PLATFORM_NAMES[platform],
            reason=str(exc),
        )
    del token  # used for the two reads above only; never stored
    _funnel(request, "login_completed")
    response = web.HTTPSeeOther(safe_next(attempt.next_path, again))
    await ctx.store.login(
        request,
        response,
        SessionData(
            platform=platform,
            account_id=identity.account.account_id,
            login=identity.account.login,
            emails=list(identity.verified_emails),
        ),
    )
    ctx.store.clear_cookie(response, PRELOGIN_COOKIE)
    response.headers.update(NO_STORE)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    ctx = request.app[SIGNING]
    session = await ctx.store.load(request)
    form = await request.post()
    if session is not None and not session.data.check_csrf(str(form.get("csrf", ""))):
        return ctx.pages.error(request, "csrf", status=403)
    response = web.HTTPSeeOther(safe_next(str(form.get("next", "")), _home(ctx)))
    await ctx.store.logout(request, response)
    raise response


def setup(app: web.Application, settings: Settings) -> None:
    app.router.add_get("/sign", sign_index)
    app.router.add_get("/sign/login/{platform}", login_start)
    app.router.add_get("/sign/oauth/{platform}/callback", login_callback)
    app.router.add_post("/sign/logout", logout)
    app.router.add_get("/sign/{agreement}", sign_page)
    app.router.add_post("/sign/{agreement}", sign_submit)
    app.router.add_get("/sign/{agreement}/done", done_page)
    app.router.add_get("/sign/{agreement}/receipt.json", receipt_json)
    app.router.add_get("/sign/{agreement}/signed.md", signed_text)
    app.router.add_static("/static", settings.templates_dir / "static")


def setup_communities(app: web.Application) -> None:
    """A community's signing pages, ``/sign/<community>/<agreement>/…``: registered after
    every other ``/sign/…`` route, which win (``/sign/login/…``, ``/sign/<agreement>/done``,
    ``/sign/<agreement>/confirm``): a community is never called ``login``, ``oauth`` or
    ``logout``, nor an agreement ``done`` or ``confirm``."""
    app.router.add_get("/sign/{community}/{agreement}", sign_page)
    app.router.add_post("/sign/{community}/{agreement}", sign_submit)
    app.router.add_get("/sign/{community}/{agreement}/done", done_page)
    app.router.add_get("/sign/{community}/{agreement}/receipt.json", receipt_json)
    app.router.add_get("/sign/{community}/{agreement}/signed.md", signed_text)
