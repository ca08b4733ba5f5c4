"""The fake Gitee's HTTP side: its routes, OAuth's pages, and the server (every request
recorded and checked, faults injected)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.sandbox.fakeforge.faults import take_fault
from bot.sandbox.fakeforge.gitee.events import Events
from bot.sandbox.fakeforge.gitee.pulls import PullsAPI
from bot.sandbox.fakeforge.gitee.records import (
    API_PREFIX,
    LIST_QUERY,
    RECORDED_HEADERS,
    Recorded,
    Violation,
    _Ctx,
    _HTTPError,
    _Route,
)
from bot.sandbox.fakeforge.gitee.users import UsersAPI


class FakeGitee(UsersAPI, PullsAPI, Events):
    """In-memory Gitee behind a real HTTP server; see the package docstring."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_login: str = "cla-robot",
        webhook_secret: str = "gitee-webhook-secret-0123456789",  # noqa: S107 (a fake's)
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            token=token, bot_login=bot_login, webhook_secret=webhook_secret, clock=clock
        )
        routes = [
            ("GET", "/user", frozenset(), self._get_user),
            ("GET", "/emails", frozenset(), self._get_emails),
            ("GET", "/users/{username}", frozenset(), self._get_user_by_login),
            ("GET", "/orgs/{org}/memberships/{username}", frozenset(), self._membership),
            ("GET", "/repos/{owner}/{repo}/pulls", LIST_QUERY | {"state"}, self._list_pulls),
            ("GET", "/repos/{owner}/{repo}/pulls/{number}", frozenset(), self._get_pull),
            ("GET", "/repos/{owner}/{repo}/pulls/{number}/commits", frozenset(), self._commits),
            (
                "GET",
                "/repos/{owner}/{repo}/pulls/{number}/comments",
                LIST_QUERY | {"comment_type", "direction"},
                self._list_comments,
            ),
            ("POST", "/repos/{owner}/{repo}/pulls/{number}/comments", frozenset(), self._comment),
            ("GET", "/repos/{owner}/{repo}/pulls/comments/{id}", frozenset(), self._get_comment),
            ("PATCH", "/repos/{owner}/{repo}/pulls/comments/{id}", frozenset(), self._edit),
            ("DELETE", "/repos/{owner}/{repo}/pulls/comments/{id}", frozenset(), self._delete),
            ("GET", "/repos/{owner}/{repo}/pulls/{number}/labels", LIST_QUERY, self._labels),
            ("POST", "/repos/{owner}/{repo}/pulls/{number}/labels", frozenset(), self._add),
            ("PUT", "/repos/{owner}/{repo}/pulls/{number}/labels", frozenset(), self._replace),
            (
                "DELETE",
                "/repos/{owner}/{repo}/pulls/{number}/labels/{name}",
                frozenset(),
                self._remove,
            ),
            (
                "GET",
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
                frozenset(),
                self._permission,
            ),
        ]
        self.routes = sorted(
            (
                _Route(m, t, tuple(t.strip("/").split("/")), q | {"access_token"}, h)
                for m, t, q, h in routes
            ),
            key=lambda r: -r.literals,
        )
        # OAuth's web flow on the origin; the API under /api/v5
        self.app = web.Application()
        self.app.router.add_get("/oauth/authorize", self._oauth_authorize)
        self.app.router.add_post("/oauth/token", self._oauth_token)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeGitee:
        self._server = TestServer(self.app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> FakeGitee:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- dispatch --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._serve(request)
        finally:
            self.in_flight -= 1

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path.split("?", 1)[0]
        body = await request.read()
        query = dict(request.query)
        rec = Recorded(
            method=request.method,
            path=urllib.parse.unquote(raw[len(API_PREFIX) :]),
            raw_path=raw[len(API_PREFIX) :],
            query={k: v for k, v in query.items() if k != "access_token"},
            json=None,
            headers={k: request.headers[k] for k in RECORDED_HEADERS if k in request.headers},
            token_in_query="access_token" in query,
        )
        self.requests.append(rec)
        try:
            rec.json = json.loads(body) if body.strip() else None
        except ValueError:
            rec.json = None
        if not (raw == API_PREFIX or raw.startswith(API_PREFIX + "/")):
            rec.status = 404
            return web.json_response({"message": "Not Found"}, status=404)

        segments = rec.raw_path.strip("/").split("/")
        route: _Route | None = None
        params: dict[str, str] = {}
        for candidate in self.routes:
            matched = candidate.match(segments)
            if matched is not None and candidate.method == request.method:
                route, params = candidate, matched
                break
        if route is None:
            # What gitee.com does for an unknown path (e.g. a label name with a raw "/").
            rec.status = 404
            return web.json_response({"message": "404 Not Found"}, status=404)
        rec.route = route.template

        try:
            self._authenticate(request, body)
        except _HTTPError as exc:
            rec.status = exc.status
            return web.json_response(exc.body, status=exc.status)

        problems = self._check_request(route, params, query, body, request, rec.json)
        if problems:
            rec.status = 400
            self.violations.append(Violation(rec.method, rec.raw_path, rec.route, problems))
            return web.json_response({"message": "; ".join(problems)}, status=400)

        fault = take_fault(self.faults, request.method, route.template)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                rec.status = fault.status
                if isinstance(fault.body, str):  # raw text, e.g. a proxy's HTML page
                    return web.Response(
                        text=fault.body,
                        status=fault.status,
                        headers=fault.headers,
                        content_type="text/html",
                    )
                fault_body = fault.body if fault.body is not None else {"message": "fault"}
                return web.json_response(fault_body, status=fault.status, headers=fault.headers)

        ctx = _Ctx(request, params, request.query, rec.json, self.origin + API_PREFIX)
        try:
            status, payload, headers = await route.handler(ctx)
        except _HTTPError as exc:
            status, payload, headers = exc.status, exc.body, {}
        rec.status = status
        if status == 204:
            return web.Response(status=204, headers=headers)
        return web.json_response(payload, status=status, headers=headers)
