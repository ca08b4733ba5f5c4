"""GitHub's part of ``/setup``: the App manifest flow (the Probot way,
https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).

1. ``GET /setup`` — while no GitHub App is configured, a form: App name, optional organisation,
   and where the credentials go (``var/github-app.env`` or shown once for a secret store).
2. ``POST /setup/github`` — the web layer checks the form's CSRF cookie and remembers a fresh
   ``state``; this module checks the form and shows the manifest built from ``app.yaml`` with a
   button that POSTs it to ``CLA_GITHUB_URL/settings/apps/new?state=…`` (or
   ``/organizations/{org}/settings/apps/new``).
3. ``GET /setup/github/callback?code=…&state=…`` — the web layer checks the state (known,
   unused, under one hour old, bound to this browser); the code is exchanged for the App's
   credentials (:mod:`bot.platforms.github.setup_credentials`), which are written under
   ``CLA_VAR_DIR`` or shown once, together with ``CLA_PUBLIC_URL`` (the App's URLs were made
   from it).

Every step answers 404 once a GitHub App is configured.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from bot.config import MIN_WEBHOOK_SECRET_BYTES, is_loopback_url
from bot.platforms.base import ForgeSettings, ForgeSetup, SetupContext, SetupPage
from bot.platforms.github.settings import (
    APP_ENV_FILE,
    DEFAULT_API_URL,
    DEFAULT_WEB_URL,
    GitHubAppSettings,
)
from bot.platforms.github.setup_credentials import SetupError, convert_code, write_app_files

log = logging.getLogger("bot.setup")

MODES = ("file", "show")
MAX_APP_NAME = 34  # GitHub App names: at most 34 characters
CHECK_EVENTS = ("check_run", "check_suite")
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")


# -- the manifest -------------------------------------------------------------------------------


def _fill(value: Any, public_url: str) -> Any:
    if isinstance(value, str):
        return value.replace("{public_url}", public_url)
    if isinstance(value, list):
        return [_fill(v, public_url) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, public_url) for k, v in value.items()}
    return value


def build_manifest(
    manifest: Mapping[str, Any], *, public_url: str, check_runs: bool, name: str | None = None
) -> dict[str, Any]:
    """The GitHub App manifest: ``app.yaml``'s top-level keys with ``{public_url}`` filled in,
    and the three URLs the bot serves forced to ``CLA_PUBLIC_URL``."""
    public = public_url.rstrip("/")
    built: dict[str, Any] = _fill(copy.deepcopy(dict(manifest)), public)
    if name:
        built["name"] = name
    hook = built.get("hook_attributes")
    hook = dict(hook) if isinstance(hook, dict) else {}
    hook["url"] = f"{public}/webhooks/github"
    hook.setdefault("active", True)
    built["hook_attributes"] = hook
    built["redirect_url"] = f"{public}/setup/github/callback"
    built["callback_urls"] = [f"{public}/sign/oauth/github/callback"]
    built.setdefault("url", public)
    return _check_runs(built, wanted=check_runs)


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


def _manifest(ctx: SetupContext, *, name: str | None = None) -> dict[str, Any]:
    return build_manifest(
        ctx.manifest,
        public_url=ctx.public_url,
        check_runs=ctx.policy.report.check_runs,
        name=name,
    )


def new_app_url(web_url: str, *, org: str | None, state: str) -> str:
    base = web_url.rstrip("/")
    path = (
        f"/organizations/{quote(org, safe='')}/settings/apps/new" if org else "/settings/apps/new"
    )
    return f"{base}{path}?{urlencode({'state': state})}"


# -- the pages ----------------------------------------------------------------------------------


def _saved_file(ctx: SetupContext) -> Path | None:
    path = ctx.var_dir / APP_ENV_FILE
    return path if path.exists() else None


def _saved_urls(ctx: SetupContext) -> list[tuple[str, str]]:
    """The URLs kept with the App: CLA_PUBLIC_URL (its webhook, return and sign-in callbacks
    were registered there, so the bot's links must stay there after the restart), and
    CLA_GITHUB_URL / CLA_GITHUB_API_URL when they are not github.com's (GHES)."""
    found = [("CLA_PUBLIC_URL", ctx.public_url)]
    if ctx.forge.web_url != DEFAULT_WEB_URL:
        found.append(("CLA_GITHUB_URL", ctx.forge.web_url))
    if ctx.forge.api_url != DEFAULT_API_URL:
        found.append(("CLA_GITHUB_API_URL", ctx.forge.api_url))
    return found


def _permissions(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    perms = manifest.get("default_permissions")
    if not isinstance(perms, dict):
        return []
    return [(str(k), str(v)) for k, v in perms.items()]


def _events(manifest: dict[str, Any]) -> list[str]:
    events = manifest.get("default_events")
    return [str(e) for e in events] if isinstance(events, list) else []


def _fields(form: Mapping[str, str]) -> tuple[str, str, str]:
    """The form's App name, organisation and mode."""
    return form.get("name", "").strip(), form.get("org", "").strip(), form.get("mode", "file")


def section_values(
    ctx: SetupContext, form: Mapping[str, str] | None, errors: Mapping[str, str]
) -> dict[str, Any]:
    """The start form on ``/setup``: what the App will ask for, and the form's values."""
    manifest = _manifest(ctx)
    if form is None:
        form = {"name": str(ctx.manifest.get("name") or "cla-bot")}
    name, org, mode = _fields(form)
    return {
        "public_url": ctx.public_url,
        "github_url": ctx.forge.web_url,
        "saved": str(_saved_file(ctx) or ""),
        "permissions": _permissions(manifest),
        "events": _events(manifest),
        "app_name": name,
        "org": org,
        "mode": mode,
        "errors": dict(errors),
        "unreachable": is_loopback_url(ctx.public_url),
    }


def disabled(conf: ForgeSettings) -> SetupPage:
    app_id = conf.app_id if isinstance(conf, GitHubAppSettings) else ""
    return SetupPage(None, {"app_id": app_id}, status=404, message="setup_disabled")


class ManifestFlow:
    """The App manifest flow (:class:`bot.platforms.base.SetupFlow`)."""

    modes = MODES

    def check(self, ctx: SetupContext, form: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        name, org, mode = _fields(form)
        errors: dict[str, str] = {}
        if not name or len(name) > MAX_APP_NAME:
            errors["name"] = "setup_err_name"
        if org and not _ORG.fullmatch(org):
            errors["org"] = "setup_err_org"
        if mode not in MODES:
            errors["mode"] = "setup_err_mode"
        if mode == "file" and _saved_file(ctx) is not None:
            errors["mode"] = "setup_err_exists"
        return mode, errors

    def start(self, ctx: SetupContext, form: Mapping[str, str], *, state: str) -> SetupPage:
        name, org, _mode = _fields(form)
        manifest = _manifest(ctx, name=name)
        web_url = ctx.forge.web_url
        values = {
            "action": new_app_url(web_url, org=org or None, state=state),
            "manifest_json": json.dumps(manifest, separators=(",", ":")),
            "manifest_pretty": json.dumps(manifest, indent=2),
            "github_url": web_url,
            "org": org,
            "app_name": name,
        }
        # The form posts to GitHub: that origin, and only it, besides the bot's own.
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(web_url))
        return SetupPage("setup_github.html", values, form_origin=origin)

    async def callback(
        self, ctx: SetupContext, query: Mapping[str, str], *, mode: str
    ) -> SetupPage:
        code = query.get("code", "")
        if not code:
            return SetupPage(None, {"again": "/setup"}, status=400, message="setup_no_code")
        try:
            creds = await convert_code(ctx.forge.api_url, code)
        except SetupError as exc:
            log.warning("GitHub App setup: %s", exc)
            values = {"again": "/setup", "reason": exc}
            return SetupPage(None, values, status=502, message="setup_failed")
        env_path: Path | None = None
        pem_path: Path | None = None
        write_error = ""
        if mode == "file":
            try:
                env_path, pem_path = write_app_files(ctx.var_dir, creds, urls=_saved_urls(ctx))
            except FileExistsError as exc:
                write_error = f"{exc} already exists"
            except OSError as exc:
                write_error = f"{ctx.var_dir}: {exc.strerror or type(exc).__name__}"
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
                *_saved_urls(ctx),
            ]
        values = {
            "creds": creds,
            "env_path": str(env_path or ""),
            "pem_path": str(pem_path or ""),
            "write_error": write_error,
            "show": show,
            "variables": variables,
            "pem": creds.pem if show else "",
            "secret_ok": secret_ok,
        }
        return SetupPage("setup_done.html", values, ends_flow=True)


SETUP = ForgeSetup(
    section="setup_github_section.html",
    section_values=section_values,
    disabled=disabled,
    flow=ManifestFlow(),
)
