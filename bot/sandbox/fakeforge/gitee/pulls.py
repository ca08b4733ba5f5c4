"""Pull requests, their commits, comments and labels, and collaborator permissions."""

from __future__ import annotations

from bot.sandbox.fakeforge.gitee.access import Access
from bot.sandbox.fakeforge.gitee.records import MAX_PR_COMMITS, Answer, _Ctx, _HTTPError, _iso


class PullsAPI(Access):
    async def _get_pull(self, ctx: _Ctx) -> Answer:
        return 200, self._pr_json(self._pr(ctx), ctx.api), {}

    async def _commits(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        items = [self._commit_json(pr.repo, c, ctx.api) for c in pr.commits[:MAX_PR_COMMITS]]
        return 200, items, {}

    async def _list_comments(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        items = sorted(self.comments_of(pr), key=lambda c: c.id)
        if ctx.query.get("direction") == "desc":
            items.reverse()
        chunk, headers = self._page(ctx, [self._comment_json(c, ctx.api) for c in items])
        return 200, chunk, headers

    async def _comment(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        login = self._authenticate(ctx.request, b"")
        c = self.add_comment(pr, ctx.body["body"], user=self.user(login))
        return 201, self._comment_json(c, ctx.api), {}

    async def _get_comment(self, ctx: _Ctx) -> Answer:
        return 200, self._comment_json(self._comment_of(ctx), ctx.api), {}

    async def _edit(self, ctx: _Ctx) -> Answer:
        c = self._comment_of(ctx)
        login = self._authenticate(ctx.request, b"")
        if c.user.login.lower() != login.lower():
            raise _HTTPError(403, "403 Forbidden")
        c.body = ctx.body["body"]
        c.updated_at = _iso(self.clock())
        return 200, self._comment_json(c, ctx.api), {}

    async def _delete(self, ctx: _Ctx) -> Answer:
        c = self._comment_of(ctx)
        del self.comments[c.id]
        return 204, None, {}

    async def _list_pulls(self, ctx: _Ctx) -> Answer:
        repo = self._repo(ctx)
        state = ctx.query.get("state", "open")
        prs = [
            pr
            for (name, _), pr in sorted(self.prs.items())
            if name == repo.full_name.lower() and (state == "all" or pr.state == state)
        ]
        chunk, headers = self._page(ctx, [self._pr_json(pr, ctx.api) for pr in prs])
        return 200, chunk, headers

    async def _labels(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        chunk, headers = self._page(ctx, [self._label_json(pr.repo, n, ctx.api) for n in pr.labels])
        return 200, chunk, headers

    async def _add(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        for name in ctx.body:
            self._label(pr, name)
        return 201, [self._label_json(pr.repo, n, ctx.api) for n in pr.labels], {}

    async def _replace(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        pr.labels = []
        for name in ctx.body:
            self._label(pr, name)
        return 200, [self._label_json(pr.repo, n, ctx.api) for n in pr.labels], {}

    async def _remove(self, ctx: _Ctx) -> Answer:
        pr = self._pr(ctx)
        names = [n for n in ctx.params["name"].split(",") if n]
        if not names or not all(n in pr.labels for n in names):
            raise _HTTPError(404, "Not Found Label")
        pr.labels = [n for n in pr.labels if n not in names]
        return 204, None, {}

    async def _permission(self, ctx: _Ctx) -> Answer:
        repo = self._repo(ctx)
        login = ctx.params["username"]
        value = self.permissions.get((repo.full_name.lower(), login.lower()))
        if value is None:
            raise _HTTPError(404, "Not Found User")
        data = self._user_json(self.user(login), ctx.api)
        data.update(member_role=value, permission=value)
        return 200, data, {}
