"""Commit statuses and check runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.fakeforge.github.access import Access
from bot.sandbox.fakeforge.github.records import (
    STATUS_DESCRIPTION_MAX,
    STATUSES_PER_CONTEXT_MAX,
    FakeCheckRun,
    FakeStatus,
    _Ctx,
    _HTTPError,
    _iso,
)


class ChecksAPI(Access):
    # -- handlers: statuses and permissions ------------------------------------------------------

    async def _create_status(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        sha = ctx.params["sha"]
        if not self._known_sha(repo, sha):
            raise _HTTPError(422, f"No commit found for SHA: {sha}")
        description = ctx.body.get("description")
        if description is not None and len(description) > STATUS_DESCRIPTION_MAX:
            raise _HTTPError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "Status",
                        "code": "custom",
                        "field": "description",
                        "message": "description is too long (maximum is 140 characters)",
                    }
                ],
            )
        context = ctx.body.get("context") or "default"
        same = [s for s in self.statuses.get(sha, ()) if s.context.lower() == context.lower()]
        if len(same) >= STATUSES_PER_CONTEXT_MAX:
            raise _HTTPError(
                422,
                "Validation Failed",
                errors=[{"resource": "Status", "code": "custom", "message": "too many statuses"}],
            )
        s = FakeStatus(
            id=self.next_id(),
            repo=repo,
            sha=sha,
            state=ctx.body["state"],
            description=description,
            target_url=ctx.body.get("target_url"),
            context=context,
            creator=self.bot,
            created_at=_iso(self.clock()),
        )
        self.statuses.setdefault(sha, []).append(s)
        body = self._status_json(s, ctx.api, ctx.web)
        return 201, body, {"Location": body["url"]}

    async def _create_check_run(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        self._require(ctx, "checks", "write")
        sha = ctx.body["head_sha"]
        if not self._known_sha(repo, sha):
            raise _HTTPError(422, f"No commit found for SHA: {sha}")
        now = _iso(self.clock())
        run = FakeCheckRun(
            id=self.next_id(),
            repo=repo,
            head_sha=sha,
            name=ctx.body["name"],
            status="queued",
            conclusion=None,
            title=None,
            summary=None,
            details_url=None,
            actions=[],
            started_at=now,
            completed_at=None,
        )
        self._apply_check_run(run, ctx.body)
        self.check_runs[run.id] = run
        return 201, self._check_run_json(run, ctx.api, ctx.web), {}

    async def _update_check_run(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        self._require(ctx, "checks", "write")
        run = self.check_runs.get(int(ctx.params["check_run_id"]))
        if run is None or run.repo is not repo:
            raise _HTTPError(404, "Not Found")
        self._apply_check_run(run, ctx.body)
        run.updates += 1
        return 200, self._check_run_json(run, ctx.api, ctx.web), {}

    def _apply_check_run(self, run: FakeCheckRun, body: Mapping[str, Any]) -> None:
        """GitHub's rules: a conclusion completes the run, a completed run needs one."""
        status = body.get("status", "completed" if "conclusion" in body else run.status)
        if status == "completed" and body.get("conclusion", run.conclusion) is None:
            raise _HTTPError(422, "Validation Failed: conclusion is required when completed")
        run.name = body.get("name", run.name)
        run.status = status
        run.conclusion = body.get("conclusion", run.conclusion)
        if "output" in body:
            run.title, run.summary = body["output"]["title"], body["output"]["summary"]
        run.details_url = body.get("details_url", run.details_url)
        if "actions" in body:
            run.actions = [dict(a) for a in body["actions"]]
        if run.status == "completed":
            run.completed_at = _iso(self.clock())

    async def _list_check_runs(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        self._require(ctx, "checks", "read")
        name = ctx.query.get("check_name")
        runs = [r for r in reversed(self.check_runs_for(ctx.params["ref"], name)) if r.repo is repo]
        chunk, headers = self._page(ctx, runs)
        body = {
            "total_count": len(runs),
            "check_runs": [self._check_run_json(r, ctx.api, ctx.web) for r in chunk],
        }
        return 200, body, headers

    async def _list_statuses(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        items = [s for s in reversed(self.statuses.get(ctx.params["ref"], [])) if s.repo is repo]
        chunk, headers = self._page(ctx, items)
        return 200, [self._status_json(s, ctx.api, ctx.web) for s in chunk], headers
