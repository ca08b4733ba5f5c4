"""The fake GitHub's HTTP side: the API server (every request recorded and checked against
the OpenAPI subset, faults injected, answers validated) and the web server (OAuth pages, the
App manifest flow)."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.sandbox.fakeforge.github.apps import AppAPI
from bot.sandbox.fakeforge.github.checks import ChecksAPI
from bot.sandbox.fakeforge.github.events import Events
from bot.sandbox.fakeforge.github.gql import GraphQLAPI
from bot.sandbox.fakeforge.github.openapi import (
    OpenAPI,
)
from bot.sandbox.fakeforge.github.pulls import PullsAPI
from bot.sandbox.fakeforge.github.records import (
    DOCS,
    GHES_PREFIX,
    GRAPHQL_PATHS,
    RECORDED_HEADERS,
    Handler,
    Recorded,
    Violation,
    _Ctx,
    _HTTPError,
)
from bot.sandbox.fakeforge.github.users import UsersAPI


class FakeGitHub(UsersAPI, AppAPI, PullsAPI, ChecksAPI, GraphQLAPI, Events):
    """In-memory GitHub behind a real HTTP server; see the package docstring."""

    def __init__(
        self,
        *,
        app_id: str = "4242",
        public_key_pem: str | None = None,
        app_slug: str = "cla-bot",
        token_lifetime_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
        openapi: OpenAPI | None = None,
        strict: bool = True,
        hook_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(
            app_id=app_id,
            public_key_pem=public_key_pem,
            app_slug=app_slug,
            token_lifetime_s=token_lifetime_s,
            clock=clock,
            openapi=openapi,
            strict=strict,
            hook_timeout_s=hook_timeout_s,
        )
        self._handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/app"): self._get_app,
            ("POST", "/app/installations/{installation_id}/access_tokens"): self._create_token,
            ("GET", "/app/hook/deliveries"): self._list_deliveries,
            ("GET", "/app/hook/deliveries/{delivery_id}"): self._get_delivery,
            ("POST", "/app/hook/deliveries/{delivery_id}/attempts"): self._redeliver,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"): self._get_pull,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"): self._pull_commits,
            ("GET", "/repos/{owner}/{repo}/compare/{basehead}"): self._compare,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._list_comments,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._create_comment,
            ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._get_comment,
            ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._edit_comment,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels"): self._list_labels,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"): self._add_labels,
            (
                "DELETE",
                "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
            ): self._remove_label,
            ("POST", "/repos/{owner}/{repo}/statuses/{sha}"): self._create_status,
            ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses"): self._list_statuses,
            (
                "GET",
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
            ): self._permission,
            (
                "POST",
                "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            ): self._react,
            ("POST", "/repos/{owner}/{repo}/check-runs"): self._create_check_run,
            ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"): self._update_check_run,
            ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"): self._list_check_runs,
            ("GET", "/user"): self._get_user,
            ("GET", "/user/emails"): self._get_user_emails,
            ("GET", "/user/{account_id}"): self._get_user_by_id,
            ("GET", "/users/{username}"): self._get_user_by_login,
            ("GET", "/orgs/{org}/memberships/{username}"): self._get_membership,
            ("POST", "/app-manifests/{code}/conversions"): self._convert_manifest,
        }
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)
        # The web side: OAuth's pages and the App manifest flow's registration page.
        self.web = web.Application()
        self.web.router.add_get("/login/oauth/authorize", self._oauth_authorize)
        self.web.router.add_post("/login/oauth/access_token", self.oauth_access_token)
        self.web.router.add_post("/settings/apps/new", self._new_app_from_manifest)
        self.web.router.add_post(
            "/organizations/{org}/settings/apps/new", self._new_app_from_manifest
        )

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeGitHub:
        self._server = TestServer(self.app, host="127.0.0.1", port=0)
        await self._server.start_server()
        self._web_server = TestServer(self.web, host="127.0.0.1", port=0)
        await self._web_server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self._web_server is not None:
            await self._web_server.close()
            self._web_server = None

    async def __aenter__(self) -> FakeGitHub:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- dispatch --------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one API request (REST, under ``/api/v3`` too, or GraphQL): the fake's own
        server routes every request here, and so can another server that mounts the API in
        its own application (the sandbox)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._serve(request)
        finally:
            self.in_flight -= 1

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path.split("?", 1)[0]
        prefix = ""
        if raw == GHES_PREFIX or raw.startswith(GHES_PREFIX + "/"):
            prefix, raw = GHES_PREFIX, raw[len(GHES_PREFIX) :] or "/"
        body = await request.read()
        query = list(request.query.items())
        rec = Recorded(
            method=request.method,
            path=urllib.parse.unquote(raw),
            raw_path=raw,
            prefix=prefix,
            query=dict(query),
            json=None,
            headers={k: request.headers[k] for k in RECORDED_HEADERS if k in request.headers},
        )
        if self.strict:
            self.requests.append(rec)
        try:
            rec.json = json.loads(body) if body.strip() else None
        except ValueError:
            rec.json = None

        if raw in GRAPHQL_PATHS:
            rec.route = "/graphql"
            return await self._serve_graphql(request, rec)
        matched = self.openapi.match(raw)
        op = None if matched is None else matched[0].methods.get(request.method.lower())
        if op is None and not self.strict:
            rec.status = 404
            missing = {"message": "Not Found", "documentation_url": DOCS}
            return web.json_response(missing, status=404)
        if matched is None:
            return self._violation(rec, "route", [f"{raw} is not a path of GitHub's REST API"])
        route, params = matched
        rec.route = route.template
        if op is None:
            return self._violation(rec, "method", [f"{request.method} not allowed on {raw}"])
        problems, data = self.openapi.check_request(
            op, params, query, body, request.headers.get("Content-Type", "")
        )
        if problems:
            return self._violation(rec, "request", problems)

        faulty = await self._fault(rec, request.method, route.template)
        if faulty is not None:
            return faulty

        handler = self._handlers.get((request.method, route.template))
        if handler is None:
            rec.status = 501
            self.violations.append(
                Violation(rec.method, rec.path, rec.route, "unimplemented", ["not in the fake"])
            )
            return web.json_response({"message": "not implemented by the fake"}, status=501)

        origin = str(request.url.origin())
        ctx = _Ctx(request, params, request.query, data, origin + prefix, origin)
        try:
            status, payload, headers = await handler(ctx)
        except _HTTPError as exc:
            status, payload, headers = exc.status, exc.body, exc.headers
        rec.status = status
        if request.method != "GET" and 200 <= status < 300:
            self.changes += 1
        self._check_response(rec, op, status, payload)
        headers = {**self._rate_headers(), **headers}
        if payload is None and status == 204:
            return web.Response(status=204, headers=headers)
        return web.json_response(payload, status=status, headers=headers)
