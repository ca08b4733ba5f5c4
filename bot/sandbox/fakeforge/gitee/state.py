"""The fake Gitee's state and the methods tests seed and inspect it with."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from aiohttp.test_utils import TestServer

from bot.sandbox.fakeforge.common import Ids
from bot.sandbox.fakeforge.faults import Fault
from bot.sandbox.fakeforge.gitee.records import (
    API_PREFIX,
    FakeComment,
    FakeCommit,
    FakeLabel,
    FakePR,
    FakeRepo,
    FakeUser,
    Recorded,
    Violation,
    _iso,
    _Route,
    _sha,
)


class GiteeState:
    """In-memory Gitee: seeding (``add_pr``, ``add_repo`` …), faults and inspection; the HTTP
    side is in :mod:`.app` and the endpoint modules."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_login: str = "cla-robot",
        webhook_secret: str = "gitee-webhook-secret-0123456789",  # noqa: S107 (a fake's)
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token or "gitee-pat-" + secrets.token_hex(16)
        self.webhook_secret = webhook_secret
        self.clock = clock
        self._ids = Ids(5000)

        self.users: dict[str, FakeUser] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.prs: dict[tuple[str, int], FakePR] = {}
        self.comments: dict[int, FakeComment] = {}
        self.permissions: dict[tuple[str, str], str] = {}  # (repo full name, login) → value
        self.orgs: set[str] = set()  # lower-cased logins of the accounts that are organisations
        # (organisation, login), lower-cased → (role, active) as ``GroupMember`` says them
        self.memberships: dict[tuple[str, str], tuple[str, bool]] = {}
        self.tokens: dict[str, str] = {}  # extra accepted tokens → login

        self.requests: list[Recorded] = []
        self.violations: list[Violation] = []
        self.faults: list[Fault] = []
        self.in_flight = 0
        self.peak_in_flight = 0

        self.bot = self.user(bot_login, name="CLA Robot")
        self.tokens[self.token] = self.bot.login

        self.routes: list[_Route] = []  # set by the HTTP side
        # OAuth (the web flow on the origin, the user API under /api/v5)
        self.oauth_apps: dict[str, tuple[str, str]] = {}  # client id → (secret, redirect uri)
        self.grants: dict[str, tuple[str, str, str, bool]] = {}  # code → (client, uri, login, used)
        self.user_emails: dict[str, list[dict[str, Any]]] = {}
        self.signed_in: str | None = None
        self._server: TestServer | None = None

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeGitee not started")
        return str(self._server.make_url("/")).rstrip("/")

    @property
    def url(self) -> str:
        """API base like ``https://gitee.com/api/v5`` (no trailing slash)."""
        return self.origin + API_PREFIX

    # -- seeding ---------------------------------------------------------------------------------

    def next_id(self) -> int:
        return self._ids()

    def user(self, login: str, *, name: str = "", user_id: int | None = None) -> FakeUser:
        """Get or create an account."""
        u = self.users.get(login.lower())
        if u is None:
            u = FakeUser(login, user_id or self.next_id(), name or login, f"{login}@example.com")
            self.users[login.lower()] = u
        return u

    def add_repo(self, full_name: str, *, name: str | None = None) -> FakeRepo:
        """``namespace/path``; ``name`` is the display name (defaults to a title-cased path)."""
        namespace, _, path = full_name.partition("/")
        repo = self.repos.get(full_name.lower())
        if repo is None:
            repo = FakeRepo(
                namespace=namespace,
                path=path,
                id=self.next_id(),
                owner=self.user(namespace),
                name=name or path.replace("-", " ").title(),
                namespace_name=namespace.replace("-", " ").title(),
            )
            self.repos[full_name.lower()] = repo
        return repo

    def make_commit(
        self,
        *,
        sha: str | None = None,
        message: str = "Change things",
        author: tuple[str, str] = ("Zhang Wei", "zhang.wei@example.com"),
        committer: tuple[str, str] | None = None,
        author_login: str | None = None,
        committer_login: str | None = None,
    ) -> FakeCommit:
        """A commit; ``author_login``/``committer_login`` = the linked account (else none)."""
        committer = committer or author
        return FakeCommit(
            sha=sha or _sha(),
            message=message,
            author_name=author[0],
            author_email=author[1],
            committer_name=committer[0],
            committer_email=committer[1],
            author=self.user(author_login) if author_login else None,
            committer=self.user(committer_login) if committer_login else None,
        )

    def add_pr(
        self,
        full_name: str,
        *,
        number: int | None = None,
        author: str = "zhang-wei",
        commits: int | Sequence[FakeCommit] = 1,
        labels: Iterable[str] = (),
        state: str = "open",
        base_ref: str = "master",
        head_ref: str = "feature",
        draft: bool = False,
        title: str = "A change",
    ) -> FakePR:
        """A pull request; ``commits`` = a count (by ``author``, linked) or given commits."""
        repo = self.add_repo(full_name)
        if number is None:
            number = 1 + max((n for (k, n) in self.prs if k == full_name.lower()), default=0)
        pr = FakePR(
            repo=repo,
            number=number,
            id=self.next_id(),
            user=self.user(author),
            head_sha="",
            base_sha=_sha(),
            title=title,
            state=state,
            base_ref=base_ref,
            head_ref=head_ref,
            draft=draft,
        )
        self.prs[(full_name.lower(), number)] = pr
        for label in labels:
            self._label(pr, label)
        if isinstance(commits, int):
            for i in range(commits):
                self.add_commit(
                    pr,
                    message=f"Commit {i + 1}",
                    author=(author, f"{author}@example.com"),
                    author_login=author,
                    committer_login=author,
                )
        else:
            for c in commits:
                self.add_commit(pr, commit=c)
        return pr

    def add_commit(
        self, pr: FakePR, *, commit: FakeCommit | None = None, move_head: bool = True, **make: Any
    ) -> FakeCommit:
        """Append a commit and move the head to it (``move_head=False``: a stale list)."""
        c = commit or self.make_commit(**make)
        if not c.parents:
            c.parents = [pr.commits[-1].sha if pr.commits else pr.base_sha]
        pr.commits.append(c)
        if move_head:
            pr.head_sha = c.sha
        return c

    def pr(self, full_name: str, number: int) -> FakePR:
        return self.prs[(full_name.lower(), number)]

    def add_comment(
        self, pr: FakePR, body: str, *, user: str | FakeUser = "someone"
    ) -> FakeComment:
        author = user if isinstance(user, FakeUser) else self.user(user)
        now = _iso(self.clock())
        c = FakeComment(self.next_id(), pr.repo, pr.number, body, author, now, now)
        self.comments[c.id] = c
        return c

    def set_permission(self, full_name: str, login: str, permission: str) -> None:
        """Gitee's ``permission`` value for a collaborator (``admin`` / ``write`` / ``read``)."""
        self.user(login)
        self.permissions[(full_name.lower(), login.lower())] = permission

    def add_org(self, login: str) -> FakeUser:
        """An organisation (get or create; its path is ``login``)."""
        org = self.user(login)
        self.orgs.add(login.lower())
        return org

    def set_membership(
        self, org: str, login: str, role: str = "member", *, active: bool = True
    ) -> None:
        """``login``'s membership of the organisation ``org``: ``role`` admin / member (what
        ``PUT /orgs/{org}/memberships/{username}`` sets), ``active`` False while it waits."""
        self.add_org(org)
        self.user(login)
        self.memberships[(org.lower(), login.lower())] = (role, active)

    def _label(self, pr: FakePR, name: str) -> None:
        if name not in pr.repo.labels:
            pr.repo.labels[name] = FakeLabel(self.next_id(), name)
        if name not in pr.labels:
            pr.labels.append(name)

    # -- faults ----------------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        route: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay_s: float = 0.0,
        times: int = 1,
    ) -> Fault:
        """The next ``times`` requests matching (method, route template without ``/api/v5``)
        wait ``delay_s`` and answer ``status`` (with ``headers`` / ``body``: JSON, or a ``str``
        sent as raw text), or are served normally when ``status`` is None."""
        if not any(r.template == route and r.method == method.upper() for r in self.routes):
            raise ValueError(f"unknown route {method} {route!r}")
        f = Fault(method.upper(), route, status, dict(headers or {}), body, delay_s, times)
        self.faults.append(f)
        return f

    # -- inspection ------------------------------------------------------------------------------

    def count(self, method: str, route: str) -> int:
        return sum(1 for r in self.requests if r.method == method.upper() and r.route == route)

    def matching(self, method: str, route: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.route == route]

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def labels_of(self, pr: FakePR) -> list[str]:
        return list(pr.labels)

    def comments_of(self, pr: FakePR) -> list[FakeComment]:
        return [c for c in self.comments.values() if c.repo is pr.repo and c.pr_number == pr.number]

    def bot_comments(self, pr: FakePR) -> list[FakeComment]:
        return [c for c in self.comments_of(pr) if c.user is self.bot]
