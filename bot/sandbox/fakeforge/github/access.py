"""What every endpoint checks first: the App JWT, the installation token and its permissions,
the repository, issue and comment named by the path; pagination; violations."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from aiohttp import web

from bot.sandbox.fakeforge.faults import take_fault
from bot.sandbox.fakeforge.github.records import (
    DOCS,
    JWT_MAX_LIFETIME_S,
    JWT_SKEW_S,
    LEVELS,
    NOT_ACCESSIBLE,
    VIOLATION_STATUS,
    FakeComment,
    FakeInstallation,
    FakeIssue,
    FakePR,
    FakeRepo,
    Recorded,
    Violation,
    _Ctx,
    _HTTPError,
    _phrase,
)
from bot.sandbox.fakeforge.github.render import Render


class Access(Render):
    def _violation(self, rec: Recorded, kind: str, problems: list[str]) -> web.Response:
        rec.status = VIOLATION_STATUS
        self.violations.append(Violation(rec.method, rec.path, rec.route, kind, problems))
        return web.json_response(
            {"message": f"OpenAPI violation ({kind})", "problems": problems},
            status=VIOLATION_STATUS,
            reason="OpenAPI Violation",
        )

    def _check_response(self, rec: Recorded, op: Mapping[str, Any], status: int, data: Any) -> None:
        if not 200 <= status < 300:
            return
        declared = op["responses"].get(str(status))
        if declared is None:
            problems = [f"status {status} not declared (declared: {sorted(op['responses'])})"]
        elif declared["schema"] is None:
            return
        else:
            problems = self.openapi.validate(declared["schema"], data, "response")
        if problems:
            self.violations.append(Violation(rec.method, rec.path, rec.route, "response", problems))

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": str(int(self.clock()) + 3600),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
        }

    # -- auth ------------------------------------------------------------------------------------

    def _check_jwt(self, ctx: _Ctx) -> dict[str, Any]:
        scheme, _, credential = ctx.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise _HTTPError(401, "A JSON web token could not be decoded")
        try:
            header = jwt.get_unverified_header(credential)
            claims: dict[str, Any] = jwt.decode(
                credential,
                self.public_key_pem,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                    "verify_aud": False,
                },
            )
        except jwt.PyJWTError:
            raise _HTTPError(401, "A JSON web token could not be decoded") from None
        if header.get("alg") != "RS256":
            raise _HTTPError(401, "A JSON web token could not be decoded")
        now = self.clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or iat > now + JWT_SKEW_S:
            raise _HTTPError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued.",
            )
        if not isinstance(exp, int) or exp - iat > JWT_MAX_LIFETIME_S:
            raise _HTTPError(401, "'Expiration time' claim ('exp') is too far in the future")
        if exp <= now:
            raise _HTTPError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value "
                "representing the future time at which the assertion expires",
            )
        if str(claims.get("iss")) != self.app_id:
            raise _HTTPError(401, "'Issuer' claim ('iss') must be an Integer")
        if self.strict:
            self.jwt_claims.append(claims)
        return claims

    def _installation(self, ctx: _Ctx) -> FakeInstallation:
        scheme, _, credential = ctx.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise _HTTPError(401, "Requires authentication")
        tok = self.tokens.get(credential)
        if tok is None or tok.revoked or tok.expires_at <= self.clock():
            raise _HTTPError(401, "Bad credentials")
        inst = self.installations.get(tok.installation_id)
        if inst is None:
            raise _HTTPError(401, "Bad credentials")
        return inst

    def _repo(self, ctx: _Ctx) -> FakeRepo:
        inst = self._installation(ctx)
        repo = self.repos.get(f"{ctx.params['owner']}/{ctx.params['repo']}".lower())
        if repo is None or not inst.can_see(repo):
            raise _HTTPError(404, "Not Found")
        return repo

    def _require(self, ctx: _Ctx, name: str, level: str) -> None:
        """403 as GitHub answers a token whose installation lacks ``name: level``."""
        self._installation(ctx)
        credential = ctx.request.headers["Authorization"].partition(" ")[2]
        granted = self.tokens[credential].permissions.get(name)
        if LEVELS.get(granted or "", 0) < LEVELS[level]:
            error = _HTTPError(
                403, NOT_ACCESSIBLE, headers={"X-Accepted-GitHub-Permissions": f"{name}={level}"}
            )
            error.body["status"] = "403"  # a string, as GitHub's basic-error has it
            raise error

    def _issue(self, ctx: _Ctx) -> FakeIssue:
        repo = self._repo(ctx)
        key = "pull_number" if "pull_number" in ctx.params else "issue_number"
        issue = self.issues.get((repo.full_name.lower(), int(ctx.params[key])))
        if issue is None or (key == "pull_number" and not issue.is_pull):
            raise _HTTPError(404, "Not Found")
        return issue

    def _comment(self, ctx: _Ctx) -> FakeComment:
        repo = self._repo(ctx)
        c = self.comments.get(int(ctx.params["comment_id"]))
        if c is None or c.repo is not repo:
            raise _HTTPError(404, "Not Found")
        return c

    # -- pagination ------------------------------------------------------------------------------

    def _page(
        self, ctx: _Ctx, items: Sequence[Any], *, default_per_page: int = 30
    ) -> tuple[list[Any], dict[str, str]]:
        per_page = max(1, min(100, int(ctx.query.get("per_page", default_per_page))))
        page = max(1, int(ctx.query.get("page", 1)))
        chunk = list(items[(page - 1) * per_page : page * per_page])
        last = max(1, math.ceil(len(items) / per_page))

        def link(p: int) -> str:
            return str(ctx.request.url.update_query(per_page=per_page, page=p))

        rels = []
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{link(page - 1)}>; rel="prev"', f'<{link(1)}>; rel="first"']
        return chunk, ({"Link": ", ".join(rels)} if rels else {})

    def _known_sha(self, repo: FakeRepo, sha: str) -> bool:
        if any(g.repo is repo and g.head_sha == sha for g in self.merge_groups):
            return True
        return any(
            isinstance(issue, FakePR)
            and issue.repo is repo
            and (
                sha in (issue.head_sha, issue.base_sha) or any(c.sha == sha for c in issue.commits)
            )
            for issue in self.issues.values()
        )

    async def _fault(self, rec: Recorded, method: str, route: str) -> web.Response | None:
        fault = take_fault(self.faults, method, route)
        if fault is None:
            return None
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.status is None:
            return None
        rec.status = fault.status
        fault_body = fault.body
        if fault_body is None:
            fault_body = {"message": _phrase(fault.status), "documentation_url": DOCS}
        return web.json_response(fault_body, status=fault.status, headers=fault.headers)
