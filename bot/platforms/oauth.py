"""OAuth web flows that identify a signer on GitHub or Gitee.

The user's access token is used for two reads (the account, its verified emails) and then
dropped: it is never stored or logged. GitHub gets PKCE (S256); Gitee does not support it.

GitHub: ``{web}/login/oauth/authorize`` → ``{web}/login/oauth/access_token`` (JSON answer with
``Accept: application/json``); ``GET {api}/user`` and ``GET {api}/user/emails`` (``verified``).
Gitee: ``{web}/oauth/authorize`` → ``POST {web}/oauth/token``; ``GET {api}/user`` and
``GET {api}/emails`` (``state == "confirmed"``), token as the ``access_token`` parameter.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.core.errors import BotError
from bot.core.model import Account, Platform
from bot.platforms.base import SettingsView
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB


class OAuthError(BotError):
    """The forge refused the code or answered something unusable; the message is safe to show
    (no token, no code)."""


@dataclass(frozen=True, slots=True)
class OAuthProvider:
    platform: Platform
    client_id: str
    client_secret: str = field(repr=False)
    web_url: str
    api_url: str
    timeout_s: float = 10.0

    @property
    def pkce(self) -> bool:
        return self.platform == GITHUB

    @property
    def authorize_url(self) -> str:
        path = "/login/oauth/authorize" if self.platform == GITHUB else "/oauth/authorize"
        return self.web_url.rstrip("/") + path

    @property
    def token_url(self) -> str:
        path = "/login/oauth/access_token" if self.platform == GITHUB else "/oauth/token"
        return self.web_url.rstrip("/") + path


@dataclass(frozen=True, slots=True)
class OAuthIdentity:
    account: Account
    verified_emails: tuple[str, ...]  # as the forge spells them, primary first


def new_state() -> str:
    """256 random bits."""
    return secrets.token_urlsafe(32)


def new_verifier() -> str:
    return secrets.token_urlsafe(48)  # 64 characters, within RFC 7636's 43–128


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_redirect(
    provider: OAuthProvider, *, redirect_uri: str, state: str, verifier: str | None
) -> str:
    params = {"client_id": provider.client_id, "redirect_uri": redirect_uri, "state": state}
    if provider.platform == GITHUB:
        params["allow_signup"] = "true"
        if verifier is not None:
            params["code_challenge"] = code_challenge(verifier)
            params["code_challenge_method"] = "S256"
    else:
        params["response_type"] = "code"
        params["scope"] = "user_info emails"
    return f"{provider.authorize_url}?{urlencode(params)}"


async def _json(resp: aiohttp.ClientResponse, what: str) -> Any:
    if resp.status >= 400:
        raise OAuthError(f"{what} answered HTTP {resp.status}")
    try:
        return await resp.json(content_type=None)
    except ValueError:
        raise OAuthError(f"{what} did not answer JSON") from None


async def exchange_code(
    http: aiohttp.ClientSession,
    provider: OAuthProvider,
    *,
    code: str,
    redirect_uri: str,
    verifier: str | None,
) -> str:
    """The user's access token for ``code`` (used at once, never stored)."""
    form = {
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if provider.platform == GITEE:
        form["grant_type"] = "authorization_code"
    if verifier is not None and provider.pkce:
        form["code_verifier"] = verifier
    timeout = aiohttp.ClientTimeout(total=provider.timeout_s)
    try:
        async with http.post(
            provider.token_url, data=form, headers={"Accept": "application/json"}, timeout=timeout
        ) as resp:
            data = await _json(resp, "the token endpoint")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise OAuthError(
            f"the token endpoint could not be reached ({type(exc).__name__})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        error = data.get("error") if isinstance(data, dict) else None
        raise OAuthError(f"the login was refused ({error or 'no access token'})")
    return str(data["access_token"])


async def fetch_identity(
    http: aiohttp.ClientSession, provider: OAuthProvider, token: str
) -> OAuthIdentity:
    timeout = aiohttp.ClientTimeout(total=provider.timeout_s)
    api = provider.api_url.rstrip("/")
    if provider.platform == GITHUB:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "User-Agent": "cla-bot",
        }
        params: dict[str, str] = {}
        emails_path = "/user/emails"
    else:
        headers = {"Accept": "application/json", "User-Agent": "cla-bot"}
        params = {"access_token": token}
        emails_path = "/emails"
    try:
        async with http.get(f"{api}/user", headers=headers, params=params, timeout=timeout) as r:
            user = await _json(r, "the user endpoint")
        paging = {"per_page": "100"} if provider.platform == GITHUB else {}
        async with http.get(
            f"{api}{emails_path}", headers=headers, params={**params, **paging}, timeout=timeout
        ) as r:
            emails = await _json(r, "the emails endpoint")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise OAuthError(f"the forge could not be reached ({type(exc).__name__})") from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or not user.get("login"):
        raise OAuthError("the user endpoint answered without an account id")
    account = Account(
        platform=provider.platform,
        account_id=str(user["id"]),
        login=str(user["login"]),
        is_bot=user.get("type") == "Bot",
    )
    return OAuthIdentity(account=account, verified_emails=_verified(provider.platform, emails))


def _verified(platform: Platform, items: Any) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    found: list[tuple[bool, str]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("email"), str):
            continue
        if platform == GITHUB:
            ok = item.get("verified") is True
            primary = item.get("primary") is True
        else:
            ok = item.get("state") == "confirmed"
            scope = item.get("scope") or []
            primary = isinstance(scope, list) and "primary" in scope
        if ok:
            found.append((not primary, item["email"]))
    seen: set[str] = set()
    out: list[str] = []
    for _, email in sorted(found, key=lambda x: x[0]):
        if email.lower() not in seen:
            seen.add(email.lower())
            out.append(email)
    return tuple(out)


def providers_from(settings: SettingsView) -> dict[Platform, OAuthProvider]:
    """The OAuth provider of every configured forge that has an OAuth client."""
    from bot.platforms.registry import FORGES  # the registry's forges import this module

    found: dict[Platform, OAuthProvider] = {}
    for forge in FORGES:
        conf = forge.settings_of(settings)
        if conf and conf.client_id and conf.client_secret:
            found[forge.name] = OAuthProvider(
                forge.name, conf.client_id, conf.client_secret, conf.web_url, conf.api_url
            )
    return found
