"""The fake GitHub's state and the methods tests seed and inspect it with."""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from aiohttp.test_utils import TestServer

from bot.sandbox.fakeforge.common import Ids
from bot.sandbox.fakeforge.faults import Fault
from bot.sandbox.fakeforge.github.openapi import (
    OpenAPI,
)
from bot.sandbox.fakeforge.github.records import (
    GHES_PREFIX,
    FakeCheckRun,
    FakeComment,
    FakeCommit,
    FakeDelivery,
    FakeGrant,
    FakeInstallation,
    FakeIssue,
    FakeLabel,
    FakeManifestApp,
    FakeMergeGroup,
    FakeOAuthApp,
    FakePR,
    FakeReaction,
    FakeRepo,
    FakeStatus,
    FakeToken,
    FakeUser,
    Recorded,
    Violation,
    _iso,
    _sha,
    manifest_permissions,
)
from bot.sandbox.fakeforge.keys import generate_app_keypair


class GitHubState:
    """In-memory GitHub: seeding (``add_pr``, ``add_installation`` …), token control,
    faults and inspection; the HTTP side is in :mod:`.app` and the endpoint modules."""

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
        self.app_id = str(app_id)
        self.public_key_pem = public_key_pem or generate_app_keypair().public_pem
        self.token_lifetime_s = token_lifetime_s
        self.clock = clock
        self.openapi = openapi or OpenAPI.load()
        # Tests' fake (strict): every request is kept in ``requests`` (App JWTs' claims, GraphQL
        # queries and token exchanges in theirs), and a path that is not GitHub's is a
        # violation (599). The sandbox's (not strict): none of those logs grow over a long
        # demo, and an unknown path is GitHub's plain 404.
        self.strict = strict
        self.changes = 0  # successful writes so far (the sandbox's pages poll for changes)
        self._ids = Ids(1000)

        self.users: dict[str, FakeUser] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.installations: dict[int, FakeInstallation] = {}
        self.issues: dict[tuple[str, int], FakeIssue] = {}
        self.comments: dict[int, FakeComment] = {}
        self.statuses: dict[str, list[FakeStatus]] = {}  # sha → oldest first
        self.check_runs: dict[int, FakeCheckRun] = {}
        self.merge_groups: list[FakeMergeGroup] = []
        self.reactions: list[FakeReaction] = []
        self.permissions: dict[tuple[str, str], tuple[str, str]] = {}
        # (organisation, login), lower-cased → (role, state) as ``org-membership`` says them.
        self.memberships: dict[tuple[str, str], tuple[str, str]] = {}
        self.deliveries: list[FakeDelivery] = []
        self.redelivered: list[int] = []  # delivery ids asked to be redelivered
        self.redelivery_status_code = 200  # what a redelivery attempt "gets"
        self.tokens: dict[str, FakeToken] = {}
        self.token_requests: Counter[int] = Counter()
        self.jwt_claims: list[dict[str, Any]] = []

        self.requests: list[Recorded] = []
        self.violations: list[Violation] = []
        self.faults: list[Fault] = []
        self.in_flight = 0  # requests being handled right now
        self.peak_in_flight = 0

        self.app_slug = app_slug
        self.bot = self.user(f"{app_slug}[bot]", type="Bot")
        self.graphql_queries: list[str] = []  # every query text POSTed to /graphql

        # OAuth web flow (``web_url``) and the user-token API (``/user``, ``/user/emails``).
        self.oauth_apps: dict[str, FakeOAuthApp] = {}
        self.grants: dict[str, FakeGrant] = {}
        self.user_tokens: dict[str, str] = {}  # token → login
        self.user_emails: dict[str, list[dict[str, Any]]] = {}  # login → /user/emails items
        self.signed_in: str | None = None  # who the browser is signed in to GitHub as
        self.token_exchanges: list[dict[str, str]] = []
        # Where GitHub posts the App's webhooks (set by tests), and a switch to lose them.
        self.hook_url: str | None = None
        self.hook_secret = "test-webhook-secret-0123456789"  # noqa: S105 (a fake's)
        self.hooks_blocked = False
        self.hook_timeout_s = hook_timeout_s  # a receiver slower than this: not delivered
        # The API and web bases the webhook payloads' URLs are made of (GitHub's, or the
        # sandbox's own address so that the links the bot builds from them lead back to it).
        self.payload_api = "https://api.github.com"
        self.payload_web = "https://github.com"
        # The App manifest flow: registrations waiting for their code to be converted.
        self.manifest_apps: dict[str, FakeManifestApp] = {}  # code → registration
        self._server: TestServer | None = None
        self._web_server: TestServer | None = None

    # -- seeding helpers -------------------------------------------------------------------------

    def next_id(self) -> int:
        return self._ids()

    def user(self, login: str, *, type: str = "User", user_id: int | None = None) -> FakeUser:
        """Get or create an account."""
        u = self.users.get(login.lower())
        if u is None:
            u = self.users[login.lower()] = FakeUser(login, user_id or self.next_id(), type)
        return u

    def add_repo(
        self, full_name: str, *, repo_id: int | None = None, private: bool = False
    ) -> FakeRepo:
        owner, _, name = full_name.partition("/")
        repo = self.repos.get(full_name.lower())
        if repo is None:
            repo = FakeRepo(self.user(owner), name, repo_id or self.next_id(), private)
            self.repos[full_name.lower()] = repo
        return repo

    def repo(self, full_name: str) -> FakeRepo:
        return self.repos[full_name.lower()]

    def add_installation(
        self,
        installation_id: int,
        *,
        account: str = "octo-org",
        repos: Iterable[str] | None = None,
        suspended: bool = False,
        permissions: Mapping[str, str] | None = None,
    ) -> FakeInstallation:
        """An installation that can see ``repos`` (full names; ``None`` = every repository),
        granted ``permissions`` (default: the manifest's ``default_permissions``)."""
        names = None if repos is None else {r.lower() for r in repos}
        for r in repos or ():
            self.add_repo(r)
        granted = dict(manifest_permissions() if permissions is None else permissions)
        inst = FakeInstallation(installation_id, self.user(account), names, suspended, granted)
        self.installations[installation_id] = inst
        return inst

    def make_commit(
        self,
        *,
        sha: str | None = None,
        message: str = "Change things",
        author: tuple[str, str] = ("Alice Example", "alice@example.com"),
        committer: tuple[str, str] | None = None,
        author_login: str | None = None,
        committer_login: str | None = None,
        parents: Sequence[str] = (),
    ) -> FakeCommit:
        """A commit; ``author_login``/``committer_login`` = the linked account (else null)."""
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
            parents=list(parents),
        )

    def add_pr(
        self,
        full_name: str,
        *,
        number: int | None = None,
        author: str = "alice",
        commits: int | Sequence[FakeCommit] = 1,
        base_ref: str = "main",
        base_sha: str | None = None,
        head_ref: str = "feature",
        labels: Iterable[str] = (),
        state: str = "open",
        draft: bool = False,
        title: str = "A change",
    ) -> FakePR:
        """A pull request; ``commits`` = a count (commits by ``author``, linked) or commits."""
        repo = self.add_repo(full_name)
        user = self.user(author)
        if number is None:
            number = 1 + max((n for (k, n) in self.issues if k == full_name.lower()), default=0)
        pr = FakePR(
            repo=repo,
            number=number,
            id=self.next_id(),
            user=user,
            title=title,
            state=state,
            base_ref=base_ref,
            base_sha=base_sha or _sha(),
            head_ref=head_ref,
            draft=draft,
        )
        self.issues[(full_name.lower(), number)] = pr
        for name in labels:
            self._label_issue(pr, name)
        if isinstance(commits, int):
            for i in range(commits):
                self.add_commit(
                    pr,
                    message=f"Commit {i + 1}",
                    author=(author.title(), f"{author}@example.com"),
                    author_login=author,
                    committer_login=author,
                )
        else:
            for c in commits:
                self.add_commit(pr, commit=c)
        return pr

    def add_issue(self, full_name: str, number: int, *, author: str = "alice") -> FakeIssue:
        repo = self.add_repo(full_name)
        issue = FakeIssue(repo=repo, number=number, id=self.next_id(), user=self.user(author))
        self.issues[(full_name.lower(), number)] = issue
        return issue

    def add_commit(
        self,
        pr: FakePR,
        *,
        commit: FakeCommit | None = None,
        move_head: bool = True,
        **make: Any,
    ) -> FakeCommit:
        """Append a commit (given, or built by ``make_commit(**make)``) and move the head to it
        (``move_head=False`` leaves ``pr.head_sha`` alone, e.g. to simulate a stale list)."""
        c = commit or self.make_commit(**make)
        if not c.parents:
            c.parents = [pr.commits[-1].sha if pr.commits else pr.base_sha]
        pr.commits.append(c)
        if move_head:
            pr.head_sha = c.sha
        return c

    def pr(self, full_name: str, number: int) -> FakePR:
        issue = self.issues[(full_name.lower(), number)]
        assert isinstance(issue, FakePR)
        return issue

    def add_comment(
        self,
        issue: FakeIssue,
        body: str,
        *,
        user: str | FakeUser = "someone",
        user_type: str = "User",
    ) -> FakeComment:
        author = user if isinstance(user, FakeUser) else self.user(user, type=user_type)
        now = _iso(self.clock())
        c = FakeComment(self.next_id(), issue.repo, issue.number, body, author, now, now)
        self.comments[c.id] = c
        return c

    def set_permission(
        self, full_name: str, login: str, permission: str, *, role_name: str | None = None
    ) -> None:
        """``permission`` is GitHub's legacy value: admin / write / read / none."""
        self.user(login)
        self.permissions[(full_name.lower(), login.lower())] = (permission, role_name or permission)

    def add_org(self, login: str, *, org_id: int | None = None) -> FakeUser:
        """An organisation account (get or create; an existing account becomes one)."""
        org = self.user(login, type="Organization", user_id=org_id)
        org.type = "Organization"
        return org

    def set_membership(
        self, org: str, login: str, role: str = "member", *, state: str = "active"
    ) -> None:
        """``login``'s membership of the organisation ``org``: ``role`` admin (an owner) /
        member / billing_manager, ``state`` active / pending (invited, not accepted yet)."""
        self.add_org(org)
        self.user(login)
        self.memberships[(org.lower(), login.lower())] = (role, state)

    def add_delivery(
        self,
        *,
        guid: str | None = None,
        event: str = "pull_request",
        action: str | None = "opened",
        status_code: int = 200,
        installation_id: int | None = None,
        repository_id: int | None = None,
        redelivery: bool = False,
        payload: dict[str, Any] | None = None,
    ) -> FakeDelivery:
        d = FakeDelivery(
            id=self.next_id(),
            guid=guid or secrets.token_hex(16),
            event=event,
            action=action,
            status_code=status_code,
            delivered_at=_iso(self.clock()),
            redelivery=redelivery,
            installation_id=installation_id,
            repository_id=repository_id,
            payload=payload,
        )
        self.deliveries.append(d)
        return d

    # -- token control ---------------------------------------------------------------------------

    def tokens_for(self, installation_id: int) -> list[FakeToken]:
        return [t for t in self.tokens.values() if t.installation_id == installation_id]

    def expire_token(self, token: str) -> None:
        self.tokens[token].expires_at = self.clock() - 1

    def revoke_tokens(self, installation_id: int | None = None) -> None:
        for t in self.tokens.values():
            if installation_id is None or t.installation_id == installation_id:
                t.revoked = True

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
        """The next ``times`` requests matching (method, OpenAPI route template) wait
        ``delay_s`` and then answer ``status`` (with ``headers``/``body``), or are served
        normally when ``status`` is None."""
        if route != "/graphql" and not any(r.template == route for r in self.openapi.routes):
            raise ValueError(f"unknown route template {route!r}")
        f = Fault(method.upper(), route, status, dict(headers or {}), body, delay_s, times)
        self.faults.append(f)
        return f

    # -- inspection ------------------------------------------------------------------------------

    def count(self, method: str, route: str) -> int:
        """Requests seen for (method, OpenAPI route template), whatever their answer."""
        return sum(1 for r in self.requests if r.method == method.upper() and r.route == route)

    def writes(self, *, include_failed: bool = False) -> list[Recorded]:
        """Non-GET requests to repository routes (successful ones unless ``include_failed``)."""
        return [
            r
            for r in self.requests
            if r.method != "GET"
            and r.path.startswith("/repos/")
            and (include_failed or (r.status is not None and 200 <= r.status < 300))
        ]

    def issue(self, full_name: str, number: int) -> FakeIssue:
        return self.issues[(full_name.lower(), number)]

    def labels_of(self, issue: FakeIssue) -> list[str]:
        return list(issue.labels)

    def comments_of(self, issue: FakeIssue) -> list[FakeComment]:
        return [
            c
            for c in self.comments.values()
            if c.repo is issue.repo and c.issue_number == issue.number
        ]

    def bot_comments(self, issue: FakeIssue) -> list[FakeComment]:
        return [c for c in self.comments_of(issue) if c.user.type == "Bot"]

    def statuses_for(self, sha: str) -> list[FakeStatus]:
        return list(self.statuses.get(sha, ()))

    def status_for(self, sha: str, context: str) -> FakeStatus | None:
        """The latest status of ``sha`` for ``context`` (contexts compare case-insensitively)."""
        for s in reversed(self.statuses.get(sha, ())):
            if s.context.lower() == context.lower():
                return s
        return None

    def reactions_on(self, comment_id: int) -> list[FakeReaction]:
        return [r for r in self.reactions if r.comment_id == comment_id]

    def check_runs_for(self, sha: str, name: str | None = None) -> list[FakeCheckRun]:
        """The check runs on ``sha`` (of ``name``), oldest first."""
        return [
            r
            for r in self.check_runs.values()
            if r.head_sha == sha and (name is None or r.name == name)
        ]

    def check_run_for(self, sha: str, name: str) -> FakeCheckRun | None:
        """The latest check run of ``name`` on ``sha``, as GitHub shows it on the PR."""
        runs = self.check_runs_for(sha, name)
        return runs[-1] if runs else None

    def user_by_email(self, email: str) -> FakeUser | None:
        """The account GitHub links to ``email``: one with it verified, or a noreply address's."""
        wanted = email.strip().lower()
        for login, items in self.user_emails.items():
            if any(i["email"].lower() == wanted and i["verified"] for i in items):
                return self.users.get(login.lower())
        match = re.fullmatch(r"([0-9]+)\+[^@]+@users\.noreply\.github\.com", wanted)
        if match is not None:
            return next((u for u in self.users.values() if u.id == int(match.group(1))), None)
        return None

    def _label_issue(self, issue: FakeIssue, name: str) -> None:
        if name.lower() not in issue.repo.labels:
            issue.repo.labels[name.lower()] = FakeLabel(self.next_id(), name)
        canonical = issue.repo.labels[name.lower()].name
        if canonical.lower() not in (n.lower() for n in issue.labels):
            issue.labels.append(canonical)

    @property
    def web_url(self) -> str:
        """Web base like ``https://github.com`` (OAuth pages), no trailing slash."""
        if self._web_server is None:
            raise RuntimeError("the fake GitHub is not started")
        return str(self._web_server.make_url("")).rstrip("/")

    @property
    def url(self) -> str:
        """API base like ``https://api.github.com`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeGitHub not started")
        return str(self._server.make_url("/")).rstrip("/")

    @property
    def ghes_url(self) -> str:
        """API base like GitHub Enterprise Server's ``https://HOST/api/v3``."""
        return self.url + GHES_PREFIX
