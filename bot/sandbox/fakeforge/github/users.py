"""OAuth's web flow for a signer, and the user-token endpoints (``/user``, ``/user/emails``,
``/users/{username}``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from typing import Any

from aiohttp import web

from bot.sandbox.fakeforge.github.access import Access
from bot.sandbox.fakeforge.github.records import (
    FakeGrant,
    FakeOAuthApp,
    FakeUser,
    _Ctx,
    _HTTPError,
)


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

    async def _oauth_authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        app = self.oauth_apps.get(q.get("client_id", ""))
        if app is None:
            return web.Response(status=404, text="unknown client_id")
        redirect_uri = q.get("redirect_uri", app.redirect_uri)
        if not redirect_uri.startswith(app.redirect_uri):
            return web.Response(status=400, text="redirect_uri_mismatch")
        if self.signed_in is None:
            return web.Response(status=401, text="sign in to GitHub first (fake.signed_in)")
        challenge = q.get("code_challenge")
        if challenge and q.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="unsupported code_challenge_method")
        code = secrets.token_hex(10)
        self.grants[code] = FakeGrant(
            code, app.client_id, redirect_uri, self.signed_in, challenge, self.clock() + 600
        )
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(redirect_uri + sep + urllib.parse.urlencode(params))

    async def _oauth_access_token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            form = {k: str(v) for k, v in (await request.json()).items()}
        else:
            form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_exchanges.append({k: v for k, v in form.items() if k != "client_secret"})
        app = self.oauth_apps.get(form.get("client_id", ""))
        if app is None or not secrets.compare_digest(
            form.get("client_secret", ""), app.client_secret
        ):
            return web.json_response({"error": "incorrect_client_credentials"})
        grant = self.grants.get(form.get("code", ""))
        if (
            grant is None
            or grant.used
            or grant.expires_at < self.clock()
            or grant.client_id != app.client_id
        ):
            return web.json_response({"error": "bad_verification_code"})
        grant.used = True
        if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
            return web.json_response({"error": "redirect_uri_mismatch"})
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not secrets.compare_digest(expected, grant.code_challenge):
                return web.json_response({"error": "bad_verification_code"})
        token = "gho_" + secrets.token_hex(18)
        self.user_tokens[token] = grant.login
        return web.json_response({"access_token": token, "token_type": "bearer", "scope": ""})

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
