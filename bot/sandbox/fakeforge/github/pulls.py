"""Pull requests, their commits and compare, issue comments and reactions, labels, and
collaborator permissions."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fakeforge.github.access import Access
from bot.sandbox.fakeforge.github.records import (
    MAX_PR_COMMITS,
    FakePR,
    FakeReaction,
    _Ctx,
    _HTTPError,
    _iso,
)


class PullsAPI(Access):
    # -- handlers: pulls and commits -------------------------------------------------------------

    async def _get_pull(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        pr = self._issue(ctx)
        assert isinstance(pr, FakePR)
        return 200, self._pr_json(pr, ctx.api, ctx.web), {}

    async def _pull_commits(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        pr = self._issue(ctx)
        assert isinstance(pr, FakePR)
        self._require(ctx, "pull_requests", "read")
        commits = pr.commits[:MAX_PR_COMMITS]
        chunk, headers = self._page(ctx, commits)
        return 200, [self._commit_json(pr.repo, c, ctx.api, ctx.web) for c in chunk], headers

    async def _compare(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        # "Repository permissions for "Contents"": compare needs contents=read (GitHub's
        # table of permissions required for GitHub Apps); pull_requests alone does not do.
        self._require(ctx, "contents", "read")
        base, sep, head = ctx.params["basehead"].partition("...")
        if not sep:
            raise _HTTPError(404, "Not Found")
        for issue in self.issues.values():
            if (
                isinstance(issue, FakePR)
                and issue.repo is repo
                and issue.head_sha == head
                and base in (issue.base_sha, issue.base_ref)
            ):
                pr = issue
                break
        else:
            raise _HTTPError(404, "Not Found")
        commits = pr.commits
        if "per_page" in ctx.query or "page" in ctx.query:
            chunk, headers = self._page(ctx, commits)
        else:
            chunk, headers = commits[:MAX_PR_COMMITS], {}
        base_commit = self.make_commit(sha=pr.base_sha, message="Base", author=("B", "b@x.org"))
        base_json = self._commit_json(repo, base_commit, ctx.api, ctx.web)
        body = {
            "url": f"{ctx.api}/repos/{repo.full_name}/compare/{base}...{head}",
            "html_url": f"{ctx.web}/{repo.full_name}/compare/{base}...{head}",
            "permalink_url": f"{ctx.web}/{repo.full_name}/compare/{base}...{head}",
            "diff_url": f"{ctx.web}/{repo.full_name}/compare/{base}...{head}.diff",
            "patch_url": f"{ctx.web}/{repo.full_name}/compare/{base}...{head}.patch",
            "base_commit": base_json,
            "merge_base_commit": base_json,
            "status": "ahead",
            "ahead_by": len(commits),
            "behind_by": 0,
            "total_commits": len(commits),
            "commits": [self._commit_json(repo, c, ctx.api, ctx.web) for c in chunk],
            "files": [],
        }
        return 200, body, headers

    # -- handlers: comments ----------------------------------------------------------------------

    async def _list_comments(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        issue = self._issue(ctx)
        items = sorted(self.comments_of(issue), key=lambda c: c.id)
        since = ctx.query.get("since")
        if since:
            items = [c for c in items if c.updated_at >= since]
        chunk, headers = self._page(ctx, items)
        return 200, [self._comment_json(c, ctx.api, ctx.web) for c in chunk], headers

    async def _create_comment(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        issue = self._issue(ctx)
        c = self.add_comment(issue, ctx.body["body"], user=self.bot)
        body = self._comment_json(c, ctx.api, ctx.web)
        return 201, body, {"Location": body["url"]}

    async def _get_comment(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        return 200, self._comment_json(self._comment(ctx), ctx.api, ctx.web), {}

    async def _edit_comment(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        c = self._comment(ctx)
        if c.user is not self.bot:
            raise _HTTPError(403, "Resource not accessible by integration")
        c.body = ctx.body["body"]
        c.updated_at = _iso(self.clock())
        return 200, self._comment_json(c, ctx.api, ctx.web), {}

    async def _react(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        c = self._comment(ctx)
        content = ctx.body["content"]
        for r in self.reactions:
            if r.comment_id == c.id and r.content == content and r.user is self.bot:
                return 200, self._reaction_json(r, ctx.api, ctx.web), {}
        r = FakeReaction(self.next_id(), c.id, content, self.bot, _iso(self.clock()))
        self.reactions.append(r)
        return 201, self._reaction_json(r, ctx.api, ctx.web), {}

    # -- handlers: labels ------------------------------------------------------------------------

    async def _list_labels(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        issue = self._issue(ctx)
        chunk, headers = self._page(ctx, self._labels_json(issue, ctx.api))
        return 200, chunk, headers

    async def _add_labels(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        issue = self._issue(ctx)
        raw = ctx.body["labels"] if isinstance(ctx.body, dict) else ctx.body or []
        for item in raw:
            self._label_issue(issue, item if isinstance(item, str) else item["name"])
        return 200, self._labels_json(issue, ctx.api), {}

    async def _remove_label(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        issue = self._issue(ctx)
        name = ctx.params["name"]
        for existing in issue.labels:
            if existing.lower() == name.lower():
                issue.labels.remove(existing)
                return 200, self._labels_json(issue, ctx.api), {}
        raise _HTTPError(404, "Label does not exist")

    async def _permission(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        login = ctx.params["username"]
        user = self.users.get(login.lower())
        if user is None:
            raise _HTTPError(404, "Not Found")
        default = ("none", "none") if repo.private else ("read", "read")
        permission, role = self.permissions.get((repo.full_name.lower(), login.lower()), default)
        user_json = self._user_json(user, ctx.api, ctx.web)
        level = {"admin": 4, "write": 3, "read": 1}.get(permission, 0)
        user_json["permissions"] = {
            "admin": level >= 4,
            "maintain": role in ("admin", "maintain"),
            "push": level >= 3,
            "triage": level >= 3 or role == "triage",
            "pull": level >= 1,
        }
        user_json["role_name"] = role
        return 200, {"permission": permission, "role_name": role, "user": user_json}, {}
