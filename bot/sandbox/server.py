"""The sandbox forge: a small GitHub-compatible HTTP server the bot talks to exactly as to GitHub
(Enterprise Server layout: the web at ``/``, the REST API under ``/api/v3``).

API (what the bot uses): App JWT → installation token, pulls and their commits, issue comments,
labels, commit statuses, collaborator permissions, the App's webhook deliveries (list,
redeliver), and the OAuth web flow (``/login/oauth/authorize`` is a page where the visitor picks
a made-up user; ``/login/oauth/access_token``; ``/user``, ``/user/emails``).

It signs and POSTs webhooks to the bot (``X-Hub-Signature-256`` with its own secret) when a
pull request is opened or pushed to and when a comment is made. Its own App key is generated at
start; everything is in memory and gone when it stops.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import aiohttp
import jwt
from aiohttp import web
from aiohttp.typedefs import Handler
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.core.identity import parse_coauthors
from bot.platforms.github.client import CO_AUTHORS_QUERY
from bot.sandbox import ui
from bot.sandbox.outbox import Outbox, Received
from bot.sandbox.world import (
    SCENARIOS,
    Comment,
    Delivery,
    PullRequest,
    Repo,
    Scenario,
    Urls,
    User,
    World,
    comment_json,
    commit_json,
    iso,
    issue_comment_event,
    label_json,
    now,
    pull_json,
    pull_request_event,
    status_json,
    user_json,
)

__all__ = ["API_PREFIX", "Sandbox"]

log = logging.getLogger("bot.sandbox")

API_PREFIX = "/api/v3"
TOKEN_LIFETIME_S = 3600
JWT_MAX_LIFETIME_S = 600
JWT_SKEW_S = 60
GRANT_LIFETIME_S = 600
USER_COOKIE = "sandbox_user"
MAX_DELIVERIES_SHOWN = 12
STATUS_STATES = ("error", "failure", "pending", "success")

JSONAnswer = tuple[int, Any, dict[str, str]]
ApiHandler = Callable[[web.Request], Awaitable[JSONAnswer]]


class _APIError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Grant:
    login: str
    redirect_uri: str
    challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    installation_id: int
    expires_at: float


@dataclass
class _Hook:
    url: str = ""  # the bot's /webhooks/github; empty until connected
    redirect_uri: str = ""  # the bot's OAuth callback


@dataclass
class Sandbox:
    """A GitHub for one App with one installation on every repository of ``sandbox-org``."""

    app_id: int = 1
    app_slug: str = "cla-bot"
    app_name: str = "cla-bot (sandbox)"
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    client_id: str = field(default_factory=lambda: "Iv1." + secrets.token_hex(8))
    client_secret: str = field(default_factory=lambda: secrets.token_hex(20), repr=False)

    def __post_init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,  # what GitHub hands out
            serialization.NoEncryption(),
        ).decode("ascii")
        self._public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.world = World(app_id=self.app_id, app_slug=self.app_slug)
        self.hook = _Hook()
        self.check_runs: dict[int, dict[str, Any]] = {}  # id → the bot's latest body
        self.bot_url = ""
        self.outbox: Outbox | None = None  # the demo's mail server, for the outbox page
        self._tokens: dict[str, _Token] = {}
        self._user_tokens: dict[str, str] = {}  # token → login
        self._grants: dict[str, _Grant] = {}
        self._sessions: dict[str, str] = {}  # sandbox_user cookie → login
        self._runner: web.AppRunner | None = None
        self._url = ""
        self._http: aiohttp.ClientSession | None = None
        self._env = ui.templates()
        self._render_md: ui.Renderer | None = None
        self.app = self._build_app()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        sock_port = int(self._runner.addresses[0][1])
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        self._url = f"http://{shown}:{sock_port}"
        self._render_md = ui.Renderer(self._url)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._url

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("the sandbox is not started")
        return self._url

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def urls(self) -> Urls:
        return Urls(api=self.api_url, web=self.url)

    def connect(self, bot_url: str) -> None:
        """Where the bot is: its webhook endpoint and its OAuth callback."""
        self.bot_url = bot_url.rstrip("/")
        self.hook.url = f"{self.bot_url}/webhooks/github"
        self.hook.redirect_uri = f"{self.bot_url}/sign/oauth/github/callback"

    def bot_env(self) -> dict[str, str]:
        """The ``CLA_GITHUB_*`` variables that point a bot at this sandbox."""
        return {
            "CLA_GITHUB_APP_ID": str(self.app_id),
            "CLA_GITHUB_PRIVATE_KEY": self.private_pem,
            "CLA_GITHUB_WEBHOOK_SECRET": self.webhook_secret,
            "CLA_GITHUB_CLIENT_ID": self.client_id,
            "CLA_GITHUB_CLIENT_SECRET": self.client_secret,
            "CLA_GITHUB_API_URL": self.api_url,
            "CLA_GITHUB_URL": self.url,
        }

    # -- the application -------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers])
        api: list[tuple[str, str, ApiHandler]] = [
            ("GET", "/app", self._get_app),
            ("POST", "/app/installations/{installation_id}/access_tokens", self._create_token),
            ("GET", "/app/hook/deliveries", self._list_deliveries),
            ("GET", "/app/hook/deliveries/{delivery_id}", self._get_delivery),
            ("POST", "/app/hook/deliveries/{delivery_id}/attempts", self._redeliver),
            ("GET", "/repos/{owner}/{repo}/pulls/{number}", self._get_pull),
            ("GET", "/repos/{owner}/{repo}/pulls/{number}/commits", self._pull_commits),
            ("GET", "/repos/{owner}/{repo}/issues/{number}/comments", self._list_comments),
            ("POST", "/repos/{owner}/{repo}/issues/{number}/comments", self._create_comment),
            ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", self._get_comment),
            ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", self._edit_comment),
            (
                "POST",
                "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
                self._react,
            ),
            ("GET", "/repos/{owner}/{repo}/issues/{number}/labels", self._list_labels),
            ("POST", "/repos/{owner}/{repo}/issues/{number}/labels", self._add_labels),
            ("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels/{name:.+}", self._unlabel),
            ("POST", "/repos/{owner}/{repo}/statuses/{sha}", self._create_status),
            ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", self._list_statuses),
            ("POST", "/repos/{owner}/{repo}/check-runs", self._create_check_run),
            ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", self._update_check_run),
            (
                "GET",
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
                self._permission,
            ),
            ("GET", "/user", self._get_user),
            ("GET", "/user/emails", self._get_emails),
        ]
        for method, path, handler in api:
            app.router.add_route(method, API_PREFIX + path, self._api(handler))
        # GitHub Enterprise Server's GraphQL endpoint, next to its REST API under /api/v3.
        app.router.add_post("/api/graphql", self._api(self._graphql))
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api(self._no_route))
        app.router.add_get("/login/oauth/authorize", self._authorize_page)
        app.router.add_post("/login/oauth/authorize", self._authorize)
        app.router.add_post("/login/oauth/access_token", self._access_token)
        app.router.add_get("/", self._index)
        app.router.add_get("/-/state.json", self._state)
        app.router.add_get("/-/sandbox.css", self._css)
        app.router.add_get("/-/sandbox.js", self._js)
        app.router.add_post("/-/pulls", self._open_pull)
        app.router.add_get("/outbox", self._outbox_page)
        app.router.add_get("/outbox/{n:\\d+}/{part:\\d+}", self._outbox_attachment)
        app.router.add_get("/settings/emails", self._emails_page)
        app.router.add_post("/settings/emails", self._add_email)
        app.router.add_get("/{owner}/{repo}/pull/{number:\\d+}", self._pull_page)
        app.router.add_post("/{owner}/{repo}/pull/{number:\\d+}/comments", self._comment)
        app.router.add_post("/{owner}/{repo}/pull/{number:\\d+}/commits", self._push)
        app.router.add_get("/{owner}/{repo}/commit/{sha}", self._commit_page)
        app.router.add_get("/{owner}/{repo}", self._repo_page)
        return app

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.content_type == "text/html":
            targets = f" {_origin(self.bot_url)}" if self.bot_url else ""
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                f"script-src 'self'; form-action 'self'{targets}; frame-ancestors 'none'; "
                "base-uri 'none'",
            )
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # -- API plumbing ----------------------------------------------------------------------------

    def _api(self, handler: ApiHandler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                status, body, headers = await handler(request)
            except _APIError as exc:
                status, body, headers = exc.status, {"message": exc.message}, {}
            headers = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "4999",
                "x-ratelimit-used": "1",
                "x-ratelimit-reset": str(int(time.time()) + 3600),
                "x-ratelimit-resource": "core",
                **headers,
            }
            if status == 204:
                return web.Response(status=204, headers=headers)
            return web.json_response(body, status=status, headers=headers)

        return wrapped

    async def _no_route(self, request: web.Request) -> JSONAnswer:
        raise _APIError(404, f"the sandbox does not serve {request.method} {request.path}")

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise _APIError(400, "Problems parsing JSON") from None
        if not isinstance(data, dict):
            raise _APIError(400, "Problems parsing JSON")
        return data

    def _check_jwt(self, request: web.Request) -> None:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise _APIError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                credential,
                self._public_pem,
                algorithms=["RS256"],
                options={"verify_iat": False, "verify_iss": False, "verify_aud": False},
                leeway=JWT_SKEW_S,
            )
        except jwt.PyJWTError as exc:
            raise _APIError(401, f"A JSON web token could not be decoded ({exc})") from None
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise _APIError(401, "'iat' and 'exp' claims must be integers")
        if iat > time.time() + JWT_SKEW_S or exp - iat > JWT_MAX_LIFETIME_S:
            raise _APIError(401, "'Expiration time' claim ('exp') is too far in the future")
        if str(claims.get("iss")) != str(self.app_id):
            raise _APIError(401, "'Issuer' claim ('iss') must be the App's id")

    def _credential(self, request: web.Request) -> str:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise _APIError(401, "Requires authentication")
        return credential.strip()

    def _repo(self, request: web.Request) -> Repo:
        tok = self._tokens.get(self._credential(request))
        if tok is None or tok.expires_at <= time.time():
            raise _APIError(401, "Bad credentials")
        info = request.match_info
        repo = self.world.repo(f"{info['owner']}/{info['repo']}")
        if repo is None:
            raise _APIError(404, "Not Found")
        return repo

    def _pull(self, request: web.Request) -> PullRequest:
        repo = self._repo(request)
        try:
            number = int(request.match_info["number"])
        except ValueError:
            raise _APIError(404, "Not Found") from None
        pr = self.world.pull(repo.full_name, number)
        if pr is None:
            raise _APIError(404, "Not Found")
        return pr

    def _page(self, request: web.Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        try:
            per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            raise _APIError(422, "per_page and page must be integers") from None
        chunk = items[(page - 1) * per_page : page * per_page]
        if page * per_page < len(items):
            nxt = request.url.update_query(per_page=per_page, page=page + 1)
            return chunk, {"Link": f'<{nxt}>; rel="next"'}
        return chunk, {}

    # -- API: the App ----------------------------------------------------------------------------

    async def _create_token(self, request: web.Request) -> JSONAnswer:
        self._check_jwt(request)
        if request.match_info["installation_id"] != str(self.world.installation_id):
            raise _APIError(404, "Not Found")
        value = "ghs_" + secrets.token_urlsafe(27)
        expires_at = time.time() + TOKEN_LIFETIME_S
        self._tokens[value] = _Token(self.world.installation_id, expires_at)
        body = {
            "token": value,
            "expires_at": iso_epoch(expires_at),
            "permissions": {
                "metadata": "read",
                "pull_requests": "write",
                "issues": "write",
                "statuses": "write",
            },
            "repository_selection": "all",
        }
        return 201, body, {}

    async def _get_app(self, request: web.Request) -> JSONAnswer:
        """``GET /app``: its slug names the bot's account (``<slug>[bot]``)."""
        self._check_jwt(request)
        body = {"id": self.app_id, "slug": self.app_slug, "name": self.app_slug}
        return 200, body, {}

    async def _graphql(self, request: web.Request) -> JSONAnswer:
        """The one GraphQL query the bot sends (a PR's commits with the accounts linked to
        their authors and co-authors), answered from the world. The sandbox parses no
        GraphQL: any other query gets an error, and the bot leaves co-authors unlinked."""
        tok = self._tokens.get(self._credential(request))
        if tok is None or tok.expires_at <= time.time():
            raise _APIError(401, "Bad credentials")
        body = await self._json_body(request)
        if body.get("query") != CO_AUTHORS_QUERY:
            return 200, {"errors": [{"message": "the sandbox answers one query only"}]}, {}
        v = body.get("variables") or {}
        pr = self.world.pull(f"{v.get('owner')}/{v.get('name')}", int(v.get("number") or 0))
        if pr is None:
            error = {"type": "NOT_FOUND", "message": "Could not resolve to a PullRequest."}
            return 200, {"data": {"repository": None}, "errors": [error]}, {}
        after = v.get("after")
        start = int(base64.b64decode(after).decode()) + 1 if isinstance(after, str) else 0
        page = pr.commits[start : start + 100]
        end = start + len(page)

        def actor(name: str, email: str) -> dict[str, Any]:
            user = self.world.linked(email)
            linked = {"login": user.login, "databaseId": user.id} if user else None
            return {
                "name": name,
                "email": email,
                "user": linked if user and user.type == "User" else None,
            }

        nodes = [
            {
                "commit": {
                    "oid": c.sha,
                    "authors": {
                        "nodes": [actor(c.author_name, c.author_email)]
                        + [actor(p.name, p.email) for p in parse_coauthors(c.message)]
                    },
                }
            }
            for c in page
        ]
        commits = {
            "totalCount": len(pr.commits),
            "pageInfo": {
                "hasNextPage": end < len(pr.commits),
                "endCursor": base64.b64encode(str(end - 1).encode()).decode() if page else None,
            },
            "nodes": nodes,
        }
        return 200, {"data": {"repository": {"pullRequest": {"commits": commits}}}}, {}

    def _delivery_item(self, d: Delivery) -> dict[str, Any]:
        return {
            "id": d.id,
            "guid": d.guid,
            "delivered_at": iso(d.delivered_at),
            "redelivery": d.redelivery,
            "duration": round(d.duration_s, 3),
            "status": "OK" if d.ok else (f"HTTP {d.status_code}" if d.status_code else "failed"),
            "status_code": d.status_code or 0,
            "event": d.event,
            "action": d.action,
            "installation_id": self.world.installation_id,
            "repository_id": d.repository_id,
            "throttled_at": None,
        }

    async def _list_deliveries(self, request: web.Request) -> JSONAnswer:
        self._check_jwt(request)
        items = list(reversed(self.world.deliveries))
        wanted = request.query.get("status")
        if wanted == "success":
            items = [d for d in items if d.ok]
        elif wanted == "failure":
            items = [d for d in items if not d.ok]
        per_page = max(1, min(100, int(request.query.get("per_page", "30") or 30)))
        cursor = request.query.get("cursor", "")
        start = int(cursor) if cursor.isdigit() else 0
        headers = {}
        if start + per_page < len(items):
            nxt = request.url.update_query(per_page=per_page, cursor=str(start + per_page))
            headers["Link"] = f'<{nxt}>; rel="next"'
        chunk = items[start : start + per_page]
        return 200, [self._delivery_item(d) for d in chunk], headers

    def _find_delivery(self, request: web.Request) -> Delivery:
        self._check_jwt(request)
        for d in self.world.deliveries:
            if str(d.id) == request.match_info["delivery_id"]:
                return d
        raise _APIError(404, "Not Found")

    async def _get_delivery(self, request: web.Request) -> JSONAnswer:
        d = self._find_delivery(request)
        body = {
            **self._delivery_item(d),
            "url": self.hook.url,
            "request": {
                "headers": {"X-GitHub-Delivery": d.guid, "X-GitHub-Event": d.event},
                "payload": json.loads(d.body),
            },
            "response": {"headers": {}, "payload": d.answer},
        }
        return 200, body, {}

    async def _redeliver(self, request: web.Request) -> JSONAnswer:
        d = self._find_delivery(request)
        asyncio.get_running_loop().create_task(
            self._send(d.event, d.action, d.body, what=d.what, guid=d.guid, redelivery=True)
        )
        return 202, {}, {}

    # -- API: pulls, comments, labels, statuses ----------------------------------------------------

    async def _get_pull(self, request: web.Request) -> JSONAnswer:
        return 200, pull_json(self.world, self._pull(request), self.urls), {}

    async def _pull_commits(self, request: web.Request) -> JSONAnswer:
        pr = self._pull(request)
        items = [commit_json(self.world, pr.repo, c, self.urls) for c in pr.commits[:250]]
        chunk, headers = self._page(request, items)
        return 200, chunk, headers

    async def _list_comments(self, request: web.Request) -> JSONAnswer:
        pr = self._pull(request)
        items = [comment_json(c, self.urls) for c in self.world.comments_of(pr)]
        chunk, headers = self._page(request, items)
        return 200, chunk, headers

    async def _create_comment(self, request: web.Request) -> JSONAnswer:
        pr = self._pull(request)
        body = (await self._json_body(request)).get("body")
        if not isinstance(body, str) or not body:
            raise _APIError(422, "Validation Failed: body is required")
        c = self.world.add_comment(pr, self.world.bot, body)
        data = comment_json(c, self.urls)
        return 201, data, {"Location": data["url"]}

    def _comment_of(self, request: web.Request) -> Comment:
        repo = self._repo(request)
        try:
            c = self.world.comments.get(int(request.match_info["comment_id"]))
        except ValueError:
            c = None
        if c is None or c.repo is not repo:
            raise _APIError(404, "Not Found")
        return c

    async def _get_comment(self, request: web.Request) -> JSONAnswer:
        return 200, comment_json(self._comment_of(request), self.urls), {}

    async def _edit_comment(self, request: web.Request) -> JSONAnswer:
        c = self._comment_of(request)
        if c.user is not self.world.bot:
            raise _APIError(403, "Resource not accessible by integration")
        body = (await self._json_body(request)).get("body")
        if not isinstance(body, str) or not body:
            raise _APIError(422, "Validation Failed: body is required")
        c.body = body
        c.updated_at = now()
        self.world.changed()
        return 200, comment_json(c, self.urls), {}

    async def _react(self, request: web.Request) -> JSONAnswer:
        c = self._comment_of(request)
        content = (await self._json_body(request)).get("content")
        reaction = {
            "id": self.world.next_id(),
            "node_id": "REA_sandbox",
            "user": user_json(self.world.bot, self.urls),
            "content": content,
            "created_at": iso(c.created_at),
        }
        return 201, reaction, {}

    async def _list_labels(self, request: web.Request) -> JSONAnswer:
        pr = self._pull(request)
        items = [label_json(pr.repo, n, self.urls) for n in pr.labels]
        chunk, headers = self._page(request, items)
        return 200, chunk, headers

    async def _add_labels(self, request: web.Request) -> JSONAnswer:
        pr = self._pull(request)
        raw = (await self._json_body(request)).get("labels")
        if not isinstance(raw, list) or not raw:
            raise _APIError(422, "Validation Failed: labels must be a non-empty list")
        for item in raw:
            name = item if isinstance(item, str) else item.get("name")
            if not isinstance(name, str) or not name:
                raise _APIError(422, "Validation Failed: a label name is missing")
            self.world.label(pr, name)
        return 200, [label_json(pr.repo, n, self.urls) for n in pr.labels], {}

    async def _unlabel(self, request: web.Request) -> JSONAnswer:
        pr = self._pull(request)
        name = request.match_info["name"]
        if "%" in name:
            name = unquote(name)
        if not self.world.unlabel(pr, name):
            raise _APIError(404, "Label does not exist")
        return 200, [label_json(pr.repo, n, self.urls) for n in pr.labels], {}

    async def _create_status(self, request: web.Request) -> JSONAnswer:
        repo = self._repo(request)
        sha = request.match_info["sha"]
        if not self.world.known_sha(repo, sha):
            raise _APIError(422, f"No commit found for SHA: {sha}")
        data = await self._json_body(request)
        state = data.get("state")
        if state not in STATUS_STATES:
            raise _APIError(422, "Validation Failed: state is not included in the list")
        description = data.get("description")
        if isinstance(description, str) and len(description) > 140:
            raise _APIError(422, "description is too long (maximum is 140 characters)")
        s = self.world.add_status(
            repo,
            sha,
            state=str(state),
            description=description if isinstance(description, str) else None,
            target_url=data.get("target_url") if isinstance(data.get("target_url"), str) else None,
            context=str(data.get("context") or "default"),
        )
        body = status_json(s, self.urls)
        return 201, body, {"Location": body["url"]}

    async def _create_check_run(self, request: web.Request) -> JSONAnswer:
        """The bot's check run, kept as its latest body (the demo's PR page shows the status;
        the run is answered so that the bot works as against GitHub)."""
        repo = self._repo(request)
        data = await self._json_body(request)
        sha = data.get("head_sha")
        if not isinstance(sha, str) or not self.world.known_sha(repo, sha):
            raise _APIError(422, f"No commit found for SHA: {sha}")
        run_id = len(self.check_runs) + 1
        self.check_runs[run_id] = {**data, "id": run_id}
        return 201, self._check_run_json(repo, run_id), {}

    async def _update_check_run(self, request: web.Request) -> JSONAnswer:
        repo = self._repo(request)
        run_id = int(request.match_info["check_run_id"])
        if run_id not in self.check_runs:
            raise _APIError(404, "Not Found")
        self.check_runs[run_id].update(await self._json_body(request))
        return 200, self._check_run_json(repo, run_id), {}

    def _check_run_json(self, repo: Repo, run_id: int) -> dict[str, Any]:
        run = self.check_runs[run_id]
        return {
            "id": run_id,
            "head_sha": run.get("head_sha"),
            "name": run.get("name"),
            "status": run.get("status", "completed"),
            "conclusion": run.get("conclusion"),
            "details_url": run.get("details_url"),
            "url": f"{self.urls.api}/repos/{repo.full_name}/check-runs/{run_id}",
        }

    async def _list_statuses(self, request: web.Request) -> JSONAnswer:
        repo = self._repo(request)
        items = [
            status_json(s, self.urls)
            for s in self.world.statuses_of(repo, request.match_info["ref"])
        ]
        chunk, headers = self._page(request, items)
        return 200, chunk, headers

    async def _permission(self, request: web.Request) -> JSONAnswer:
        repo = self._repo(request)
        user = self.world.find_user(request.match_info["username"])
        if user is None:
            raise _APIError(404, "Not Found")
        permission = repo.permissions.get(user.login.lower(), "read")
        return (
            200,
            {
                "permission": permission,
                "role_name": permission,
                "user": user_json(user, self.urls),
            },
            {},
        )

    # -- API: the signed-in user -----------------------------------------------------------------

    def _user(self, request: web.Request) -> User:
        login = self._user_tokens.get(self._credential(request))
        if login is None:
            raise _APIError(401, "Bad credentials")
        return self.world.user(login)

    async def _get_user(self, request: web.Request) -> JSONAnswer:
        u = self._user(request)
        return 200, {**user_json(u, self.urls), "name": u.name, "email": None}, {}

    async def _get_emails(self, request: web.Request) -> JSONAnswer:
        u = self._user(request)
        items = [
            {
                "email": e,
                "primary": i == 0,
                "verified": True,
                "visibility": "public" if i == 0 else None,
            }
            for i, e in enumerate(u.emails)
        ]
        return 200, items, {}

    # -- OAuth web flow --------------------------------------------------------------------------

    def _oauth_params(self, source: Any) -> tuple[dict[str, str], str | None]:
        """The authorize parameters, or what is wrong with them."""
        params = {
            k: str(source.get(k))
            for k in (
                "client_id",
                "redirect_uri",
                "state",
                "code_challenge",
                "code_challenge_method",
                "allow_signup",
                "scope",
                "login",
            )
            if source.get(k) is not None
        }
        if params.get("client_id") != self.client_id:
            return params, "unknown client_id: this is not the sandbox's OAuth App"
        redirect = params.setdefault("redirect_uri", self.hook.redirect_uri)
        if not self.hook.redirect_uri or not redirect.startswith(self.hook.redirect_uri):
            return params, "redirect_uri does not match the sandbox App's callback URL"
        if "code_challenge" in params and params.get("code_challenge_method") != "S256":
            return params, "code_challenge_method must be S256"
        return params, None

    async def _authorize_page(self, request: web.Request) -> web.Response:
        params, problem = self._oauth_params(request.query)
        if problem is not None:
            return self._error(400, "This sign-in link is not right", problem)
        cancel = _with_query(
            params["redirect_uri"],
            {"error": "access_denied", **({"state": params["state"]} if "state" in params else {})},
        )
        return self._render(
            request,
            "authorize.html",
            app_name=self.app_name,
            redirect_origin=_origin(params["redirect_uri"]),
            params=sorted(params.items()),
            people=self.world.people,
            current=self._signed_in(request) or params.get("login", ""),
            cancel_url=cancel,
        )

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        params, problem = self._oauth_params(form)
        if problem is not None:
            return self._error(400, "This sign-in link is not right", problem)
        user = self.world.find_user(str(form.get("login", "")))
        if user is None or user not in self.world.people:
            return self._error(400, "Pick someone", "Choose one of the made-up users.")
        code = secrets.token_hex(10)
        self._grants[code] = _Grant(
            login=user.login,
            redirect_uri=params["redirect_uri"],
            challenge=params.get("code_challenge"),
            expires_at=time.time() + GRANT_LIFETIME_S,
        )
        back = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        response = web.HTTPFound(_with_query(params["redirect_uri"], back))
        self._remember(response, user.login)
        raise response

    async def _access_token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            raw = await request.json()
            form = {k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        else:
            form = {k: str(v) for k, v in (await request.post()).items()}
        if form.get("client_id") != self.client_id or not hmac.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            return web.json_response({"error": "incorrect_client_credentials"})
        grant = self._grants.get(form.get("code", ""))
        if grant is None or grant.used or grant.expires_at < time.time():
            return web.json_response({"error": "bad_verification_code"})
        grant.used = True
        if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
            return web.json_response({"error": "redirect_uri_mismatch"})
        if grant.challenge is not None:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not hmac.compare_digest(expected, grant.challenge):
                return web.json_response({"error": "bad_verification_code"})
        token = "gho_" + secrets.token_hex(18)
        self._user_tokens[token] = grant.login
        return web.json_response({"access_token": token, "token_type": "bearer", "scope": ""})

    # -- who the browser is, in the sandbox --------------------------------------------------------

    def _signed_in(self, request: web.Request) -> str | None:
        return self._sessions.get(request.cookies.get(USER_COOKIE, ""))

    def _remember(self, response: web.StreamResponse, login: str) -> None:
        token = secrets.token_urlsafe(24)
        self._sessions[token] = login
        response.set_cookie(USER_COOKIE, token, path="/", httponly=True, samesite="Lax")

    # -- webhooks --------------------------------------------------------------------------------

    def _sign(self, body: bytes) -> str:
        digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    async def deliver(self, event: str, payload: dict[str, Any], *, what: str) -> Delivery:
        """Sign and POST one webhook to the bot; what it answered is recorded either way."""
        body = json.dumps(payload).encode()
        action = payload.get("action") if isinstance(payload.get("action"), str) else None
        return await self._send(event, action, body, what=what, guid=str(uuid.uuid4()))

    async def _send(
        self,
        event: str,
        action: str | None,
        body: bytes,
        *,
        what: str,
        guid: str,
        redelivery: bool = False,
    ) -> Delivery:
        repo = json.loads(body).get("repository") or {}
        d = Delivery(
            id=self.world.next_id(),
            guid=guid,
            event=event,
            action=action,
            body=body,
            repository_id=repo.get("id") if isinstance(repo, dict) else None,
            what=what,
            redelivery=redelivery,
        )
        self.world.deliveries.append(d)
        started = time.monotonic()
        if not self.hook.url or self._http is None:
            d.answer = "the bot is not connected to the sandbox yet"
        else:
            headers = {
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": guid,
                "X-GitHub-Hook-ID": "1",
                "X-GitHub-Hook-Installation-Target-Type": "integration",
                "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
                "X-Hub-Signature-256": self._sign(body),
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/sandbox",
            }
            try:
                async with self._http.post(self.hook.url, data=body, headers=headers) as resp:
                    d.status_code = resp.status
                    try:
                        answer = await resp.json(content_type=None)
                        d.answer = (
                            str(answer.get("message", "")) if isinstance(answer, dict) else ""
                        )
                    except ValueError:
                        d.answer = (await resp.text())[:200]
            except (aiohttp.ClientError, TimeoutError) as exc:
                d.answer = f"could not reach {self.hook.url} ({type(exc).__name__})"
                log.warning("sandbox: webhook %s %s not delivered: %s", event, guid, d.answer)
        d.duration_s = time.monotonic() - started
        self.world.changed()
        return d

    # -- the web UI ------------------------------------------------------------------------------

    def _render(
        self, request: web.Request, name: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        html = self._env.get_template(name).render(
            version=self.world.version, bot_url=self.bot_url, **context
        )
        return web.Response(text=html, status=status, content_type="text/html")

    def _error(self, status: int, title: str, message: str) -> web.Response:
        html = self._env.get_template("error.html").render(
            version=self.world.version,
            bot_url=self.bot_url,
            status=status,
            title=title,
            message=message,
        )
        return web.Response(text=html, status=status, content_type="text/html")

    async def _index(self, request: web.Request) -> web.Response:
        repos = list(self.world.repos.values())
        pulls = {
            r.full_name: [
                {"pr": p, "status": _first(self.world.combined(p))} for p in self.world.pulls_of(r)
            ]
            for r in repos
        }
        return self._render(
            request,
            "index.html",
            repos=repos,
            pulls=pulls,
            scenarios=SCENARIOS,
            deliveries=list(reversed(self.world.deliveries))[:MAX_DELIVERIES_SHOWN],
        )

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"version": self.world.version}, headers={"Cache-Control": "no-store"}
        )

    async def _css(self, request: web.Request) -> web.Response:
        return web.Response(text=ui.CSS, content_type="text/css")

    async def _js(self, request: web.Request) -> web.Response:
        return web.Response(text=ui.JS, content_type="text/javascript")

    def _scenario(self, key: str) -> Scenario | None:
        return next((s for s in SCENARIOS if s.key == key), None)

    async def _open_pull(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        repo = self.world.repo(str(form.get("repo", "")))
        scenario = self._scenario(str(form.get("scenario", "")))
        title = str(form.get("title", "")).strip()[:200] or "A change"
        if repo is None or scenario is None:
            return self._error(400, "Cannot open that", "Choose a repository and a contributor.")
        pr = self.world.open_pull(repo, scenario, title)
        await self.deliver(
            "pull_request",
            pull_request_event(self.world, pr, "opened", self.urls),
            what=f"{repo.full_name}#{pr.number}",
        )
        raise web.HTTPSeeOther(f"/{repo.full_name}/pull/{pr.number}")

    def _page_pull(self, request: web.Request) -> PullRequest | None:
        info = request.match_info
        return self.world.pull(f"{info['owner']}/{info['repo']}", int(info["number"]))

    async def _pull_page(self, request: web.Request) -> web.Response:
        pr = self._page_pull(request)
        if pr is None:
            return self._error(404, "No such pull request", "Open one on the sandbox's page.")
        md = self._render_md or ui.Renderer(self.url)
        comments = [
            {
                "comment": c,
                "html": md(c.body),
                "when": iso(c.created_at).replace("T", " ").replace("Z", " UTC"),
                "edited": c.updated_at != c.created_at,
            }
            for c in self.world.comments_of(pr)
        ]
        commits = [{"commit": c, "account": self.world.linked(c.author_email)} for c in pr.commits]
        return self._render(
            request,
            "pull.html",
            pr=pr,
            statuses=self.world.combined(pr),
            commits=commits,
            comments=comments,
            people=self.world.people,
            scenarios=SCENARIOS,
        )

    async def _comment(self, request: web.Request) -> web.StreamResponse:
        pr = self._page_pull(request)
        if pr is None:
            return self._error(404, "No such pull request", "Open one on the sandbox's page.")
        form = await request.post()
        user = self.world.find_user(str(form.get("user", "")))
        body = str(form.get("body", "")).strip()
        if user is None or user not in self.world.people or not body:
            return self._error(400, "Cannot comment", "Choose who you are and write something.")
        c = self.world.add_comment(pr, user, body[:65536])
        await self.deliver(
            "issue_comment",
            issue_comment_event(self.world, pr, c, self.urls),
            what=f"{pr.repo.full_name}#{pr.number}",
        )
        raise web.HTTPSeeOther(f"/{pr.repo.full_name}/pull/{pr.number}#comment-{c.id}")

    async def _push(self, request: web.Request) -> web.StreamResponse:
        pr = self._page_pull(request)
        if pr is None:
            return self._error(404, "No such pull request", "Open one on the sandbox's page.")
        form = await request.post()
        scenario = self._scenario(str(form.get("scenario", "")))
        if scenario is None:
            return self._error(400, "Cannot push", "Choose a contributor.")
        before = pr.head_sha
        self.world.push(pr, scenario)
        await self.deliver(
            "pull_request",
            pull_request_event(self.world, pr, "synchronize", self.urls, before=before),
            what=f"{pr.repo.full_name}#{pr.number}",
        )
        raise web.HTTPSeeOther(f"/{pr.repo.full_name}/pull/{pr.number}")

    async def _commit_page(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        for pr in self.world.pulls.values():
            if pr.repo.full_name.lower() == f"{info['owner']}/{info['repo']}".lower() and any(
                c.sha == info["sha"] for c in pr.commits
            ):
                raise web.HTTPFound(f"/{pr.repo.full_name}/pull/{pr.number}")
        return self._error(404, "No such commit", "It is not part of any pull request here.")

    async def _repo_page(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        repo = self.world.repo(f"{info['owner']}/{info['repo']}")
        if repo is None:
            return self._error(404, "Not found", "The sandbox has no such page.")
        raise web.HTTPFound("/#" + repo.full_name.replace("/", "-"))

    def _mail(self) -> list[Received]:
        return list(self.outbox.messages) if self.outbox is not None else []

    async def _outbox_page(self, request: web.Request) -> web.Response:
        shown = []
        for n, got in reversed(list(enumerate(self._mail()))):
            body = got.message.get_body(("plain",))
            shown.append(
                {
                    "n": n,
                    "to": ", ".join(got.recipients),
                    "subject": str(got.message["Subject"] or ""),
                    "date": str(got.message["Date"] or ""),
                    "text": body.get_content() if body is not None else "",
                    "attachments": [
                        a.get_filename() or "attachment" for a in got.message.iter_attachments()
                    ],
                }
            )
        return self._render(request, "outbox.html", messages=shown)

    async def _outbox_attachment(self, request: web.Request) -> web.Response:
        mail = self._mail()
        n, part = int(request.match_info["n"]), int(request.match_info["part"])
        parts = list(mail[n].message.iter_attachments()) if n < len(mail) else []
        if part >= len(parts):
            return self._error(404, "No such attachment", "The outbox holds no such file.")
        a = parts[part]
        return web.Response(
            body=a.get_payload(decode=True),
            content_type=a.get_content_type(),
            headers={"Content-Disposition": f'attachment; filename="{a.get_filename()}"'},
        )

    async def _emails_page(self, request: web.Request) -> web.Response:
        login = request.query.get("login") or self._signed_in(request) or ""
        user = self.world.find_user(login)
        if user is not None and user not in self.world.people:
            user = None
        suggestion = "grace@old-laptop.example" if user and user.login == "grace" else ""
        return self._render(
            request,
            "emails.html",
            user=user,
            people=self.world.people,
            suggestion=suggestion,
            notice=request.query.get("added", "") and f"Added {request.query['added']}.",
        )

    async def _add_email(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        user = self.world.find_user(str(form.get("login", "")))
        email = str(form.get("email", "")).strip()
        if user is None or user not in self.world.people:
            return self._error(400, "Who are you?", "Choose one of the made-up users.")
        local, at, domain = email.partition("@")
        if not local or not at or "." not in domain or len(email) > 254 or " " in email:
            return self._error(400, "Not an email address", f"{email!r} is not one.")
        owner = self.world.linked(email)
        if owner is not None and owner is not user:
            return self._error(
                400, "Already taken", f"{email} belongs to @{owner.login} in the sandbox."
            )
        self.world.add_email(user, email)
        response = web.HTTPSeeOther(
            "/settings/emails?" + urlencode({"login": user.login, "added": email})
        )
        self._remember(response, user.login)
        raise response


# -- helpers ---------------------------------------------------------------------------------------


def iso_epoch(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_query(url: str, params: dict[str, str]) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode(params)


def _first(items: list[Any]) -> Any:
    return items[0] if items else None
