"""``/setup``: connect the bot to a forge from the browser.

GitHub, the manifest flow (the Probot way, https://docs.github.com/apps/sharing-github-apps/
registering-a-github-app-from-a-manifest):

1. ``GET /setup`` — while no GitHub App is configured, a form: App name, optional organisation,
   and where the credentials go (``var/github-app.env`` or shown once for a secret store).
2. ``POST /setup/github`` — checks the form's CSRF token (the ``cla_setup`` cookie, double
   submit), remembers a fresh ``state`` and shows the manifest built from ``app.yaml`` with a
   button that POSTs it to ``CLA_GITHUB_URL/settings/apps/new?state=…`` (or
   ``/organizations/{org}/settings/apps/new``).
3. ``GET /setup/github/callback?code=…&state=…`` — the state must be known, unused, under one
   hour old and bound to this browser's ``cla_setup`` cookie; the code is exchanged with
   ``POST {CLA_GITHUB_API_URL}/app-manifests/{code}/conversions`` (no auth) for the App's id,
   private key, webhook secret and OAuth client, which are written to ``var/github-app.env`` and
   ``var/github-app.pem`` (0600, never overwritten) or shown once, together with
   ``CLA_PUBLIC_URL`` (the App's URLs were made from it). Nothing secret is logged.

The states are rows of the ``oauth_states`` table (platform ``"setup"``, the chosen storage in
``next_path``), stored hashed like the signing logins' and consumed by
:meth:`bot.web.sessions.SessionStore.consume_state` — so any replica can take the callback and
a restart in between loses nothing. Only their lifetime differs: one hour, GitHub's limit for
the whole flow.

Everything under ``/setup/github`` answers 404 once a GitHub App is configured, and
``/setup/gitee`` (which explains the Gitee bot account and webhook) once Gitee is: an
anonymous page never calls a forge, so it cannot be used to spend the bot's rate limit or
probe its token. The token is checked once at start-up instead
(:func:`bot.platforms.gitee.forge.report_gitee_token`).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from aiohttp import web

from bot.errors import BotError
from bot.settings import GITHUB_APP_ENV_FILE, MIN_WEBHOOK_SECRET_BYTES, Settings, is_loopback_url
from bot.storage.models import OAuthState, utcnow
from bot.web.keys import CIPHER, SESSIONS
from bot.web.middlewares import CSP
from bot.web.pages import Pages
from bot.web.sessions import SessionStore, digest

log = logging.getLogger("bot.setup")

SETUP_COOKIE = "cla_setup"
SETUP_PLATFORM = "setup"  # oauth_states.platform of a manifest-flow state
STATE_TTL = timedelta(hours=1)  # GitHub: the whole flow must complete within one hour
GITHUB_APP_PEM_FILE = "github-app.pem"
MODES = ("file", "show")
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
_SAFE_ENV_VALUE = re.compile(r"[A-Za-z0-9._/:@+=,-]*")
MAX_APP_NAME = 34  # GitHub App names: at most 34 characters
DEFAULT_GITHUB_URL = "https://github.com"
DEFAULT_GITHUB_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class SetupContext:
    settings: Settings
    pages: Pages


SETUP: web.AppKey[SetupContext] = web.AppKey("setup", SetupContext)


@dataclass(frozen=True)
class AppCredentials:
    """What ``POST /app-manifests/{code}/conversions`` answers (the secrets never in repr)."""

    app_id: int
    slug: str
    name: str
    html_url: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str | None = field(repr=False)
    client_secret: str = field(repr=False)

    @property
    def install_url(self) -> str:
        return f"{self.html_url.rstrip('/')}/installations/new"


class SetupError(BotError):
    """A step of the flow failed; the message says what to do and holds no secret."""


# -- the manifest -------------------------------------------------------------------------------


def _fill(value: Any, public_url: str) -> Any:
    if isinstance(value, str):
        return value.replace("{public_url}", public_url)
    if isinstance(value, list):
        return [_fill(v, public_url) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, public_url) for k, v in value.items()}
    return value


def build_manifest(settings: Settings, *, name: str | None = None) -> dict[str, Any]:
    """The GitHub App manifest: ``app.yaml``'s top-level keys with ``{public_url}`` filled in,
    and the three URLs the bot serves forced to ``CLA_PUBLIC_URL``."""
    public = settings.public_url.rstrip("/")
    manifest: dict[str, Any] = _fill(copy.deepcopy(dict(settings.manifest)), public)
    if name:
        manifest["name"] = name
    hook = manifest.get("hook_attributes")
    hook = dict(hook) if isinstance(hook, dict) else {}
    hook["url"] = f"{public}/webhooks/github"
    hook.setdefault("active", True)
    manifest["hook_attributes"] = hook
    manifest["redirect_url"] = f"{public}/setup/github/callback"
    manifest["callback_urls"] = [f"{public}/sign/oauth/github/callback"]
    manifest.setdefault("url", public)
    return _check_runs(manifest, wanted=settings.policy.report.check_runs)


CHECK_EVENTS = ("check_run", "check_suite")


def _check_runs(manifest: dict[str, Any], *, wanted: bool) -> dict[str, Any]:
    """``checks: write`` and the check events (the Re-run button) exactly when check runs are
    configured (``cla.report.github``): an App asks for no permission it does not use."""
    permissions = manifest.get("default_permissions")
    permissions = dict(permissions) if isinstance(permissions, dict) else {}
    events = manifest.get("default_events")
    listed = [e for e in events if e not in CHECK_EVENTS] if isinstance(events, list) else []
    if wanted:
        permissions["checks"] = "write"
        listed += CHECK_EVENTS
    else:
        permissions.pop("checks", None)
    manifest["default_permissions"] = permissions
    manifest["default_events"] = listed
    return manifest


def new_app_url(web_url: str, *, org: str | None, state: str) -> str:
    base = web_url.rstrip("/")
    path = (
        f"/organizations/{quote(org, safe='')}/settings/apps/new" if org else "/settings/apps/new"
    )
    return f"{base}{path}?{urlencode({'state': state})}"


# -- states -------------------------------------------------------------------------------------


async def remember_state(request: web.Request, *, state: str, binding: str, mode: str) -> None:
    async with request.app[SESSIONS]() as s, s.begin():
        s.add(
            OAuthState(
                state_hash=digest(state),
                prelogin_hash=digest(binding),
                platform=SETUP_PLATFORM,
                code_verifier=None,
                next_path=mode,
                expires_at=utcnow() + STATE_TTL,
            )
        )


async def consume_state(request: web.Request, state: str) -> str | None:
    """The storage mode chosen for ``state``, if the state is valid for this browser."""
    ctx = request.app[SETUP]
    store = SessionStore(
        request.app[SESSIONS],
        request.app[CIPHER],
        secure_cookies=ctx.settings.public_url.startswith("https://"),
    )
    row = await store.consume_state(
        state=state, prelogin=request.cookies.get(SETUP_COOKIE), platform=SETUP_PLATFORM
    )
    if row is None or row.next_path not in MODES:
        return None
    return row.next_path


# -- the conversion -----------------------------------------------------------------------------


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise SetupError(f"GitHub's answer has no {key}; start again at /setup")
    return value


async def convert_code(api_url: str, code: str, *, timeout_s: float = 15.0) -> AppCredentials:
    """Exchange the manifest code for the App's credentials (no authentication needed)."""
    if not _CODE.fullmatch(code):
        raise SetupError("GitHub sent back a malformed code; start again at /setup")
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "cla-bot",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.post(url, headers=headers) as resp,
        ):
            status = resp.status
            body = await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SetupError(
            f"could not reach {api_url} ({type(exc).__name__}); check CLA_GITHUB_API_URL and "
            "the network, then start again at /setup"
        ) from None
    if status != 201:
        raise SetupError(
            f"GitHub refused the code (HTTP {status}). A code works once and only within an "
            "hour; start again at /setup (delete the half-made App in GitHub's settings if "
            "one was created)"
        )
    try:
        data = json.loads(body)
    except ValueError:
        raise SetupError("GitHub's answer is not JSON; start again at /setup") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise SetupError("GitHub's answer has no App id; start again at /setup")
    secret = data.get("webhook_secret")
    return AppCredentials(
        app_id=int(data["id"]),
        slug=_text(data, "slug"),
        name=str(data.get("name") or data["slug"]),
        html_url=_text(data, "html_url"),
        client_id=_text(data, "client_id"),
        pem=_text(data, "pem"),
        webhook_secret=secret if isinstance(secret, str) and secret else None,
        client_secret=_text(data, "client_secret"),
    )


# -- files --------------------------------------------------------------------------------------


def _env_value(value: str) -> str:
    if _SAFE_ENV_VALUE.fullmatch(value):
        return value
    return '"' + re.sub(r'([\\"$`])', r"\\\1", value) + '"'


def _saved_urls(settings: Settings) -> list[tuple[str, str]]:
    """The URLs kept with the App: CLA_PUBLIC_URL (its webhook, return and sign-in callbacks
    were registered there, so the bot's links must stay there after the restart), and
    CLA_GITHUB_URL / CLA_GITHUB_API_URL when they are not github.com's (GHES)."""
    found = [("CLA_PUBLIC_URL", settings.public_url)]
    if settings.github_web_url != DEFAULT_GITHUB_URL:
        found.append(("CLA_GITHUB_URL", settings.github_web_url))
    if settings.github_api_url != DEFAULT_GITHUB_API_URL:
        found.append(("CLA_GITHUB_API_URL", settings.github_api_url))
    return found


def env_lines(
    creds: AppCredentials, pem_path: Path, *, urls: list[tuple[str, str]] | None = None
) -> list[str]:
    lines = [
        f"# GitHub App {creds.slug} ({creds.html_url}), registered by cla-bot /setup.",
        "# Read by cla-bot at start-up; environment variables win over these values.",
        f"CLA_GITHUB_APP_ID={creds.app_id}",
        f"CLA_GITHUB_PRIVATE_KEY_PATH={_env_value(str(pem_path))}",
    ]
    if creds.webhook_secret is not None:
        lines.append(f"CLA_GITHUB_WEBHOOK_SECRET={_env_value(creds.webhook_secret)}")
    else:
        lines.append(
            "# GitHub sent no webhook secret: set one (16+ bytes) in the App's settings and add "
            "CLA_GITHUB_WEBHOOK_SECRET=it here."
        )
    lines.append(f"CLA_GITHUB_CLIENT_ID={_env_value(creds.client_id)}")
    lines.append(f"CLA_GITHUB_CLIENT_SECRET={_env_value(creds.client_secret)}")
    lines += [f"{name}={_env_value(value)}" for name, value in urls or ()]
    return lines


def _create_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600; never replace an existing file (O_EXCL)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise


def write_app_files(
    var_dir: Path, creds: AppCredentials, *, urls: list[tuple[str, str]] | None = None
) -> tuple[Path, Path]:
    """Write ``github-app.pem`` and ``github-app.env`` under ``var_dir`` (0600, both new).

    Raises FileExistsError when either exists (nothing is overwritten, nothing half-written).
    """
    os.makedirs(var_dir, mode=0o700, exist_ok=True)
    env_path = (var_dir / GITHUB_APP_ENV_FILE).absolute()
    pem_path = (var_dir / GITHUB_APP_PEM_FILE).absolute()
    for path in (env_path, pem_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(str(path))
    _create_secret_file(pem_path, creds.pem.encode("ascii"))
    try:
        text = "\n".join(env_lines(creds, pem_path, urls=urls)) + "\n"
        _create_secret_file(env_path, text.encode("utf-8"))
    except BaseException:
        pem_path.unlink(missing_ok=True)
        raise
    return env_path, pem_path


# -- pages --------------------------------------------------------------------------------------


def _ctx(request: web.Request) -> SetupContext:
    return request.app[SETUP]


def _github_disabled(request: web.Request) -> web.Response | None:
    ctx = _ctx(request)
    gh = ctx.settings.github
    if gh is None:
        return None
    return ctx.pages.error(request, "setup_disabled", status=404, app_id=gh.app_id)


def _saved_file(settings: Settings) -> Path | None:
    path = settings.var_dir / GITHUB_APP_ENV_FILE
    return path if path.exists() else None


def _set_setup_cookie(ctx: SetupContext, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        SETUP_COOKIE,
        value,
        max_age=int(STATE_TTL.total_seconds()),
        path="/setup",
        httponly=True,
        samesite="Lax",  # sent on GitHub's top-level redirect back to the callback
        secure=ctx.settings.public_url.startswith("https://"),
    )


def _permissions(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    perms = manifest.get("default_permissions")
    if not isinstance(perms, dict):
        return []
    return [(str(k), str(v)) for k, v in perms.items()]


def _events(manifest: dict[str, Any]) -> list[str]:
    events = manifest.get("default_events")
    return [str(e) for e in events] if isinstance(events, list) else []


def _render_index(
    request: web.Request,
    *,
    name: str,
    org: str,
    mode: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    ctx = _ctx(request)
    settings = ctx.settings
    token = request.cookies.get(SETUP_COOKIE) or ""
    if not 30 <= len(token) <= 100:
        token = secrets.token_urlsafe(32)
    manifest = build_manifest(settings)
    response = ctx.pages.render(
        request,
        "setup.html",
        status=status,
        personal=True,
        public_url=settings.public_url,
        github_url=settings.github_web_url,
        saved=str(_saved_file(settings) or ""),
        permissions=_permissions(manifest),
        events=_events(manifest),
        gitee_connected=settings.gitee is not None,
        csrf=token,
        app_name=name,
        org=org,
        mode=mode,
        errors=errors or {},
        unreachable=is_loopback_url(settings.public_url),
    )
    _set_setup_cookie(ctx, response, token)
    return response


async def setup_index(request: web.Request) -> web.Response:
    disabled = _github_disabled(request)
    if disabled is not None:
        return disabled
    name = str(_ctx(request).settings.manifest.get("name") or "cla-bot")
    return _render_index(request, name=name, org="", mode="file")


async def setup_github_start(request: web.Request) -> web.Response:
    disabled = _github_disabled(request)
    if disabled is not None:
        return disabled
    ctx = _ctx(request)
    form = await request.post()
    cookie = request.cookies.get(SETUP_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not cookie or not sent or not secrets.compare_digest(cookie, sent):
        return ctx.pages.error(request, "setup_cookie", status=403, again="/setup")
    name = str(form.get("name", "")).strip()
    org = str(form.get("org", "")).strip()
    mode = str(form.get("mode", "file"))
    errors: dict[str, str] = {}
    if not name or len(name) > MAX_APP_NAME:
        errors["name"] = "setup_err_name"
    if org and not _ORG.fullmatch(org):
        errors["org"] = "setup_err_org"
    if mode not in MODES:
        errors["mode"] = "setup_err_mode"
    if mode == "file" and _saved_file(ctx.settings) is not None:
        errors["mode"] = "setup_err_exists"
    if errors:
        return _render_index(request, name=name, org=org, mode=mode, errors=errors, status=400)
    state = secrets.token_urlsafe(32)  # 256 bits
    await remember_state(request, state=state, binding=cookie, mode=mode)
    manifest = build_manifest(ctx.settings, name=name)
    action = new_app_url(ctx.settings.github_web_url, org=org or None, state=state)
    response = ctx.pages.render(
        request,
        "setup_github.html",
        personal=True,
        action=action,
        manifest_json=json.dumps(manifest, separators=(",", ":")),
        manifest_pretty=json.dumps(manifest, indent=2),
        github_url=ctx.settings.github_web_url,
        org=org,
        app_name=name,
    )
    # The form posts to GitHub: allow exactly that origin as a form target.
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(ctx.settings.github_web_url))
    response.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


async def setup_github_callback(request: web.Request) -> web.Response:
    disabled = _github_disabled(request)
    if disabled is not None:
        return disabled
    ctx = _ctx(request)
    mode = await consume_state(request, request.query.get("state", ""))
    if mode is None:
        return ctx.pages.error(request, "setup_bad_state", again="/setup")
    code = request.query.get("code", "")
    if not code:
        return ctx.pages.error(request, "setup_no_code", again="/setup")
    try:
        creds = await convert_code(ctx.settings.github_api_url, code)
    except SetupError as exc:
        log.warning("GitHub App setup: %s", exc)
        return ctx.pages.error(request, "setup_failed", status=502, again="/setup", reason=exc)
    env_path: Path | None = None
    pem_path: Path | None = None
    write_error = ""
    if mode == "file":
        try:
            env_path, pem_path = write_app_files(
                ctx.settings.var_dir, creds, urls=_saved_urls(ctx.settings)
            )
        except FileExistsError as exc:
            write_error = f"{exc} already exists"
        except OSError as exc:
            write_error = f"{ctx.settings.var_dir}: {exc.strerror or type(exc).__name__}"
    log.info(
        "GitHub App %s (id %s) registered; credentials %s",
        creds.slug,
        creds.app_id,
        f"written to {env_path}" if env_path else "shown once in the browser",
    )
    show = env_path is None
    secret_ok = (
        creds.webhook_secret is not None
        and len(creds.webhook_secret.encode()) >= MIN_WEBHOOK_SECRET_BYTES
    )
    variables: list[tuple[str, str]] = []
    if show:
        variables = [
            ("CLA_GITHUB_APP_ID", str(creds.app_id)),
            ("CLA_GITHUB_WEBHOOK_SECRET", creds.webhook_secret or ""),
            ("CLA_GITHUB_CLIENT_ID", creds.client_id),
            ("CLA_GITHUB_CLIENT_SECRET", creds.client_secret),
            *_saved_urls(ctx.settings),
        ]
    response = ctx.pages.render(
        request,
        "setup_done.html",
        personal=True,
        creds=creds,
        env_path=str(env_path or ""),
        pem_path=str(pem_path or ""),
        write_error=write_error,
        show=show,
        variables=variables,
        pem=creds.pem if show else "",
        secret_ok=secret_ok,
    )
    response.del_cookie(SETUP_COOKIE, path="/setup")
    return response


async def setup_gitee(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    settings = ctx.settings
    if settings.gitee is not None:
        return ctx.pages.error(request, "setup_gitee_disabled", status=404)
    return ctx.pages.render(
        request,
        "setup_gitee.html",
        personal=True,
        public_url=settings.public_url,
        gitee_url=settings.gitee_web_url,
        api_url=settings.gitee_api_url,
        github_configured=settings.github is not None,
        example_secret=secrets.token_urlsafe(24),
        min_secret=MIN_WEBHOOK_SECRET_BYTES,
    )


def setup(app: web.Application, settings: Settings) -> None:
    """Register the ``/setup`` pages (idempotent: a second call does nothing)."""
    if SETUP in app:
        return
    app[SETUP] = SetupContext(settings=settings, pages=Pages(settings.templates_dir))
    app.router.add_get("/setup", setup_index)
    app.router.add_post("/setup/github", setup_github_start)
    app.router.add_get("/setup/github/callback", setup_github_callback)
    app.router.add_get("/setup/gitee", setup_gitee)


__all__ = [
    "GITHUB_APP_PEM_FILE",
    "SETUP",
    "AppCredentials",
    "SetupError",
    "build_manifest",
    "convert_code",
    "env_lines",
    "new_app_url",
    "setup",
    "write_app_files",
]
