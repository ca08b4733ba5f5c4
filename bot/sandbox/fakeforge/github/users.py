"""OAuth's web flow for a signer, the user-token endpoints (``/user``, ``/user/emails``,
``/users/{username}``), and who is a member of an organisation
(``/orgs/{org}/memberships/{username}``)."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.sandbox.fakeforge.common import s256_challenge
from bot.sandbox.fakeforge.github.access import Access
from bot.sandbox.fakeforge.github.records import (
    FakeGrant,
    FakeOAuthApp,
    FakeUser,
    _Ctx,
    _HTTPError,
)

GRANT_LIFETIME_S = 600
AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "allow_signup",
    "scope",
    "login",
)


class OAuthRefused(Exception):
    """An authorize request GitHub would refuse, with the HTTP status of its page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UsersAPI(Access):
    # -- OAuth: the web flow GitHub runs for a signer ----------------------------------------------

    def add_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str) -> FakeOAuthApp:
        app = FakeOAuthApp(client_id, client_secret, redirect_uri)
        self.oauth_apps[client_id] = app
        return app

    def set_emails(self, login: str, *emails: tuple[str, bool] | tuple[str, bool, bool]) -> None:
        """``/user/emails`` of ``login``: (email, verified[, primary]) items, first is primary."""
        self.user(login)
        self.user_emails[login.lower()] = [
            {
                "email": e[0],
                "verified": e[1],
                "primary": e[2] if len(e) > 2 else i == 0,
                "visibility": "public" if i == 0 else None,
            }
            for i, e in enumerate(emails)
        ]

    def authorization(self, params: Mapping[str, str]) -> dict[str, str]:
        """The authorize request GitHub would act on: ``params`` with ``redirect_uri``
        defaulted to the OAuth App's callback; :class:`OAuthRefused` when GitHub would not
        (an unknown ``client_id``, a ``redirect_uri`` outside the callback, a PKCE method
        other than S256)."""
        wanted = {k: str(v) for k, v in params.items() if k in AUTHORIZE_PARAMS}
        app = self.oauth_apps.get(wanted.get("client_id", ""))
        if app is None:
            raise OAuthRefused(404, "unknown client_id: this is not the App's OAuth client")
        redirect = wanted.setdefault("redirect_uri", app.redirect_uri)
        if not redirect.startswith(app.redirect_uri):
            raise OAuthRefused(400, "redirect_uri does not match the App's callback URL")
        if wanted.get("code_challenge") and wanted.get("code_challenge_method") != "S256":
            raise OAuthRefused(400, "code_challenge_method must be S256")
        return wanted

    def grant(self, params: Mapping[str, str], login: str) -> str:
        """``login`` authorizes the App (as after *Authorize* on GitHub's page): a single-use
        code for it, valid ten minutes; returns where GitHub redirects the browser (the
        ``redirect_uri`` with ``code`` and ``state``)."""
        wanted = self.authorization(params)
        code = secrets.token_hex(10)
        self.grants[code] = FakeGrant(
            code,
            wanted["client_id"],
            wanted["redirect_uri"],
            self.user(login).login,
            wanted.get("code_challenge") or None,
            self.clock() + GRANT_LIFETIME_S,
        )
        back = {"code": code, **({"state": wanted["state"]} if "state" in wanted else {})}
        sep = "&" if "?" in wanted["redirect_uri"] else "?"
        return wanted["redirect_uri"] + sep + urllib.parse.urlencode(back)

    def exchange_code(self, form: Mapping[str, str]) -> dict[str, str]:
        """``POST /login/oauth/access_token``'s answer for ``form``: a user token, or GitHub's
        ``error`` (always HTTP 200, as GitHub answers)."""
        if self.strict:
            self.token_exchanges.append({k: v for k, v in form.items() if k != "client_secret"})
        app = self.oauth_apps.get(form.get("client_id", ""))
        if app is None or not secrets.compare_digest(
            form.get("client_secret", ""), app.client_secret
        ):
            return {"error": "incorrect_client_credentials"}
        grant = self.grants.get(form.get("code", ""))
        if (
            grant is None
            or grant.used
            or grant.expires_at < self.clock()
            or grant.client_id != app.client_id
        ):
            return {"error": "bad_verification_code"}
        grant.used = True
        if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
            return {"error": "redirect_uri_mismatch"}
        if grant.code_challenge is not None and not secrets.compare_digest(
            s256_challenge(form.get("code_verifier", "")), grant.code_challenge
        ):
            return {"error": "bad_verification_code"}
        token = "gho_" + secrets.token_hex(18)
        self.user_tokens[token] = grant.login
        return {"access_token": token, "token_type": "bearer", "scope": ""}

    async def _oauth_authorize(self, request: web.Request) -> web.StreamResponse:
        """GitHub's authorize page, as if ``signed_in`` clicked *Authorize* at once."""
        try:
            self.authorization(request.query)
        except OAuthRefused as exc:
            return web.Response(status=exc.status, text=exc.message)
        if self.signed_in is None:
            return web.Response(status=401, text="sign in to GitHub first (fake.signed_in)")
        raise web.HTTPFound(self.grant(request.query, self.signed_in))

    async def oauth_access_token(self, request: web.Request) -> web.Response:
        """``POST /login/oauth/access_token`` (a form, or JSON)."""
        if request.content_type == "application/json":
            try:
                raw = await request.json()
            except ValueError:
                raw = None
        else:
            raw = await request.post()
        form = {k: str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        return web.json_response(self.exchange_code(form))

    def _user_token(self, ctx: _Ctx) -> FakeUser:
        scheme, _, credential = ctx.request.headers.get("Authorization", "").partition(" ")
        login = self.user_tokens.get(credential) if scheme.lower() in ("token", "bearer") else None
        if login is None:
            raise _HTTPError(401, "Bad credentials")
        return self.user(login)

    async def _get_user(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        return 200, self._public_user_json(self._user_token(ctx), ctx), {}

    async def _get_user_by_login(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /users/{username}``: any token; an account nobody created is a 404."""
        u = self.users.get(ctx.params["username"].lower())
        if u is None:
            raise _HTTPError(404, "Not Found")
        return 200, self._public_user_json(u, ctx), {}

    async def _get_user_emails(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        u = self._user_token(ctx)
        return 200, list(self.user_emails.get(u.login.lower(), [])), {}

    async def _get_user_by_id(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /user/{account_id}`` ("Get a user using their ID"): public data, asked here
        with an installation token; an id no account has is a 404."""
        self._installation(ctx)
        wanted = int(ctx.params["account_id"])
        for u in self.users.values():
            if u.id == wanted:
                return 200, self._public_user_json(u, ctx), {}
        raise _HTTPError(404, "Not Found")

    async def _get_membership(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /orgs/{org}/memberships/{username}`` ("Get organization membership for a
        user"), asked with an installation token: it needs *Members: read* (403 naming
        ``members=read`` without it, as for every permission), and only the organisation the
        App is installed on answers — another organisation, an account that is not an
        organisation, or a user who is not a member is a 404 (GitHub's answer to a
        non-member; that another organisation is a 404 too is this fake's assumption)."""
        inst = self._installation(ctx)
        self._require(ctx, "members", "read")
        org = self.users.get(ctx.params["org"].lower())
        if org is None or org.type != "Organization" or inst.account is not org:
            raise _HTTPError(404, "Not Found")
        login = ctx.params["username"]
        user = self.users.get(login.lower())
        found = self.memberships.get((org.login.lower(), login.lower()))
        if user is None or found is None:
            raise _HTTPError(404, "Not Found")
        role, state = found
        org_json = self._org_json(org, ctx.api)
        return (
            200,
            {
                "url": f"{org_json['url']}/memberships/{user.login}",
                "state": state,
                "role": role,
                "organization_url": org_json["url"],
                "organization": org_json,
                "user": self._user_json(user, ctx.api, ctx.web),
                "permissions": {"can_create_repository": role == "admin"},
            },
            {},
        )
