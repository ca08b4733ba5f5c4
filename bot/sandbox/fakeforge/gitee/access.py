"""What every endpoint checks first: the token, the request's shape as Gitee documents it,
the repository, pull request and comment named by the path; pagination; faults."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.sandbox.fakeforge.gitee.records import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    UNAUTHORIZED,
    FakeComment,
    FakePR,
    FakeRepo,
    _Ctx,
    _HTTPError,
    _Route,
)
from bot.sandbox.fakeforge.gitee.render import Render


class Access(Render):
    def _authenticate(self, request: web.Request, body: bytes) -> str:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        token: str | None = None
        if scheme.lower() in ("bearer", "token") and credential:
            token = credential.strip()
        elif "access_token" in request.query:
            token = request.query["access_token"]
        else:
            try:
                data = json.loads(body) if body.strip() else None
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("access_token"), str):
                token = data["access_token"]
        if token is None or token not in self.tokens:
            raise _HTTPError(401, UNAUTHORIZED)
        return self.tokens[token]

    @staticmethod
    def _check_request(
        route: _Route,
        params: Mapping[str, str],
        query: Mapping[str, str],
        body: bytes,
        request: web.Request,
        data: Any,
    ) -> list[str]:
        problems = [
            f"query parameter {name!r} is not documented for {route.method} {route.template}"
            for name in query
            if name not in route.query
        ]
        for name in ("page", "per_page"):
            if name in query and name in route.query:
                if not re.fullmatch(r"[1-9]\d*", query[name]):
                    problems.append(f"{name} must be a positive integer")
                elif name == "per_page" and int(query[name]) > MAX_PER_PAGE:
                    problems.append(f"per_page must be at most {MAX_PER_PAGE}")
        for key in ("number", "id"):
            if key in params and not re.fullmatch(r"\d+", params[key]):
                problems.append(f"{{{key}}} must be an integer")
        if body.strip():
            if request.method in ("GET", "DELETE"):
                problems.append(f"{request.method} takes no body here")
            elif not request.headers.get("Content-Type", "").startswith("application/json"):
                problems.append("the body is JSON but Content-Type is not application/json")
            elif data is None:
                problems.append("the body is not valid JSON")
        labels_body = route.template.endswith("/labels") and request.method in ("POST", "PUT")
        if labels_body and not (
            isinstance(data, list) and all(isinstance(x, str) and x for x in data)
        ):
            problems.append('label bodies are a bare JSON array of names, e.g. ["cla/yes"]')
        comment_body = request.method in ("POST", "PATCH") and "comments" in route.template
        if comment_body and not (
            isinstance(data, dict)
            and isinstance(data.get("body"), str)
            and data["body"].strip()
            and set(data) <= {"body", "access_token"}
        ):
            problems.append('comment bodies are {"body": "<non-empty text>"}')
        return problems

    # -- lookups ---------------------------------------------------------------------------------

    def _repo(self, ctx: _Ctx) -> FakeRepo:
        repo = self.repos.get(f"{ctx.params['owner']}/{ctx.params['repo']}".lower())
        if repo is None:
            raise _HTTPError(404, "Not Found Project")
        return repo

    def _pr(self, ctx: _Ctx) -> FakePR:
        repo = self._repo(ctx)
        pr = self.prs.get((repo.full_name.lower(), int(ctx.params["number"])))
        if pr is None:
            raise _HTTPError(404, "Not Found")
        return pr

    def _comment_of(self, ctx: _Ctx) -> FakeComment:
        repo = self._repo(ctx)
        c = self.comments.get(int(ctx.params["id"]))
        if c is None or c.repo is not repo:
            raise _HTTPError(404, "Not Found")
        return c

    def _page(self, ctx: _Ctx, items: Sequence[Any]) -> tuple[list[Any], dict[str, str]]:
        per_page = int(ctx.query.get("per_page", DEFAULT_PER_PAGE))
        page = int(ctx.query.get("page", 1))
        chunk = list(items[(page - 1) * per_page : page * per_page])
        total_page = max(1, math.ceil(len(items) / per_page)) if items else 0
        return chunk, {"total_count": str(len(items)), "total_page": str(total_page)}
