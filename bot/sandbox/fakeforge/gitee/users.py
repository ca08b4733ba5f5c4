"""OAuth's web flow for a signer, the user endpoints (``/user``, ``/emails``,
``/users/{username}``), and who is a member of an organisation
(``/orgs/{org}/memberships/{username}``)."""

from __future__ import annotations

import secrets
import urllib.parse

from aiohttp import web

from bot.sandbox.fakeforge.gitee.access import Access
from bot.sandbox.fakeforge.gitee.records import Answer, _Ctx, _HTTPError


class UsersAPI(Access):
    # -- OAuth ------------------------------------------------------------------------------------

    def add_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.oauth_apps[client_id] = (client_secret, redirect_uri)

    def set_emails(self, login: str, *emails: tuple[str, bool]) -> None:
        """``/emails`` of ``login``: (email, confirmed) items, the first is primary."""
        self.user(login)
        self.user_emails[login.lower()] = [
            {
                "email": e,
                "state": "confirmed" if ok else "unconfirmed",
                "scope": ["primary", "committed"] if i == 0 else ["committed"],
            }
            for i, (e, ok) in enumerate(emails)
        ]

    async def _oauth_authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        app = self.oauth_apps.get(q.get("client_id", ""))
        if app is None:
            return web.Response(status=404, text="unknown client_id")
        if q.get("redirect_uri") != app[1] or q.get("response_type") != "code":
            return web.Response(status=400, text="invalid redirect_uri or response_type")
        if self.signed_in is None:
            return web.Response(status=401, text="sign in to Gitee first (fake.signed_in)")
        code = secrets.token_hex(10)
        self.grants[code] = (q["client_id"], app[1], self.signed_in, False)
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        raise web.HTTPFound(app[1] + "?" + urllib.parse.urlencode(params))

    async def _oauth_token(self, request: web.Request) -> web.Response:
        form = {**dict(request.query), **{k: str(v) for k, v in (await request.post()).items()}}
        app = self.oauth_apps.get(form.get("client_id", ""))
        grant = self.grants.get(form.get("code", ""))
        if app is None or form.get("client_secret") != app[0]:
            return web.json_response({"error": "invalid_client"}, status=401)
        if (
            grant is None
            or grant[3]
            or grant[0] != form.get("client_id")
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant[1]
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.grants[form["code"]] = (*grant[:3], True)
        token = "gitee-user-" + secrets.token_hex(12)
        self.tokens[token] = grant[2]
        return web.json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": 86400,
                "scope": "user_info emails",
            }
        )

    async def _get_emails(self, ctx: _Ctx) -> Answer:
        login = self._authenticate(ctx.request, b"")
        return 200, list(self.user_emails.get(login.lower(), [])), {}

    async def _get_user(self, ctx: _Ctx) -> Answer:
        login = self._authenticate(ctx.request, b"")
        return 200, self._profile_json(self.user(login), ctx.api), {}

    async def _get_user_by_login(self, ctx: _Ctx) -> Answer:
        """``GET /users/{username}`` ("获取一个用户"): by login only — Gitee has no lookup by id."""
        u = self.users.get(ctx.params["username"].lower())
        if u is None:
            raise _HTTPError(404, "Not Found")
        return 200, self._profile_json(u, ctx.api), {}

    async def _membership(self, ctx: _Ctx) -> Answer:
        """``GET /orgs/{org}/memberships/{username}`` ("获取授权用户所属组织的一个成员": a member
        of an organisation the token's user belongs to; swagger ``GroupMember``: ``url``,
        ``active``, ``remark``, ``role``, ``organization_url``, ``organization`` (a ``Group``),
        ``user``; the swagger types ``active`` and ``user`` as strings, the fake answers a JSON
        boolean and the login, and the client reads ``active`` either way). Its only
        documented failure is 404 ("没有相关数据"): the fake answers it for an account that is
        not an organisation, one the token's user is not a member of (an assumption), and a
        user who is not a member."""
        asker = self._authenticate(ctx.request, b"")
        org_login = ctx.params["org"].lower()
        login = ctx.params["username"].lower()
        if org_login not in self.orgs or (org_login, asker.lower()) not in self.memberships:
            raise _HTTPError(404, "Not Found")
        found = self.memberships.get((org_login, login))
        if found is None:
            raise _HTTPError(404, "Not Found")
        role, active = found
        org, user = self.user(org_login), self.user(login)
        org_url = f"{ctx.api}/orgs/{org.login}"
        return (
            200,
            {
                "url": f"{org_url}/memberships/{user.login}",
                "active": active,
                "remark": "",
                "role": role,
                "organization_url": org_url,
                "organization": {
                    "id": org.id,
                    "login": org.login,
                    "url": org_url,
                    "avatar_url": "https://gitee.com/assets/no_portrait.png",
                    "repos_url": f"{org_url}/repos",
                    "events_url": f"{org_url}/events",
                    "members_url": f"{org_url}/members{{/member}}",
                    "description": "",
                },
                "user": user.login,
            },
            {},
        )
