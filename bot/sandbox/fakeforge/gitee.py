"""A fake Gitee API v5: a real aiohttp server on 127.0.0.1 with in-memory state.

It serves, under ``/api/v5`` like gitee.com, the endpoints the bot uses, and checks what Gitee
documents (there is no reliable OpenAPI description to validate against, so the checks are
written out here; each names its source):

* a token on every call — ``Authorization: Bearer|token <t>`` or the ``access_token`` query
  parameter (swagger: every operation takes ``access_token``); anything else gets
  ``401 {"message": "401 Unauthorized: Access token does not exist"}``;
* query parameters must be documented for the route (``page``/``per_page`` ≤ 100 on lists, none
  on ``…/pulls/{n}/commits``, which lists at most 250 commits without paging);
* ``POST|PUT …/pulls/{n}/labels`` bodies are a **bare JSON array** of names (go-gitee: "the
  gitee api is not normalized"); ``{"labels": [...]}`` is refused;
* comment bodies are ``{"body": "<non-empty>"}``;
* a label name is one path segment: ``DELETE …/labels/cla/yes`` (a raw ``/``) matches no route
  and gets 404, only ``cla%2Fyes`` works ("gitee's bug", opensourceways community-robot-lib);
  comma-separated names remove several labels at once;
* comments are created on ``/pulls/{n}/comments`` and read/edited/deleted at
  ``/pulls/comments/{id}``.

A request the fake refuses for its shape is answered 400 (as Gitee does) **and** appended to
``fake.violations``; tests assert ``fake.violations == []``.

List endpoints answer ``total_count`` / ``total_page`` headers. Labels added to a PR are created
in the repository when missing (as the Gitee web UI does for new PR labels; an assumption).

Faults: ``fake.inject("GET", "/repos/{owner}/{repo}/pulls/{number}", status=502, times=2)``
makes the next matching request(s) fail, optionally with headers/body, or wait ``delay_s``.

Webhooks: ``merge_request_event(pr, action=…, action_desc=…)`` and ``note_event(comment)``
build bodies from the templates in ``bot/sandbox/fakeforge/data/gitee``;
``fake.delivery(payload, mode=…)`` or the module-level ``signed_headers(body, secret=…,
mode=…)`` make the headers Gitee sends. The signature is computed here independently of
``bot.platforms.gitee.sansio``.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.sandbox.fakeforge.faults import Fault, take_fault

FIXTURES = Path(__file__).resolve().parent / "data" / "gitee"
API_PREFIX = "/api/v5"
MAX_PR_COMMITS = 250
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
UNAUTHORIZED = "401 Unauthorized: Access token does not exist"
CST = timezone(timedelta(hours=8))

Mode = Literal["signature", "password"]


# -- webhook signing (Gitee help article 4290), independent of the bot's code ------------------


def gitee_signature(timestamp_ms: int | str, secret: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signed_headers(
    body: bytes | Mapping[str, Any] | None = None,
    *,
    secret: str,
    mode: Mode = "signature",
    timestamp_ms: int | None = None,
    event: str | None = None,
    url_encode: bool = False,
    ping: bool = False,
) -> dict[str, str]:
    """The headers Gitee sends with a delivery. ``event`` defaults from the body's
    ``hook_name``; ``url_encode`` applies the doc's optional URL-encoding step."""
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    if event is None:
        payload: Any = body
        if isinstance(body, bytes | bytearray):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        hook_name = payload.get("hook_name") if isinstance(payload, Mapping) else None
        event = HOOK_EVENTS.get(str(hook_name), "Merge Request Hook")
    if mode == "password":
        token = secret
    else:
        token = gitee_signature(timestamp_ms, secret)
        if url_encode:
            token = urllib.parse.quote_plus(token)
    return {
        "Content-Type": "application/json",
        "User-Agent": "git-oschina-hook",
        "X-Gitee-Token": token,
        "X-Gitee-Timestamp": str(timestamp_ms),
        "X-Gitee-Event": event,
        "X-Gitee-Ping": "true" if ping else "false",
    }


HOOK_EVENTS = {
    "push_hooks": "Push Hook",
    "tag_push_hooks": "Tag Push Hook",
    "issue_hooks": "Issue Hook",
    "merge_request_hooks": "Merge Request Hook",
    "note_hooks": "Note Hook",
}


@functools.cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def load_fixture(name: str) -> Any:
    """A fresh copy of ``bot/sandbox/fakeforge/data/gitee/<name>`` (``.json`` may be omitted)."""
    if not name.endswith(".json"):
        name += ".json"
    return json.loads(_fixture_text(name))


# -- state -------------------------------------------------------------------------------------


def _sha() -> str:
    return secrets.token_hex(20)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=UTC).astimezone(CST).isoformat()


@dataclass
class FakeUser:
    login: str
    id: int
    name: str = ""
    email: str = ""


@dataclass
class FakeRepo:
    namespace: str  # the owner path (API coordinate)
    path: str  # the repository path (API coordinate)
    id: int
    owner: FakeUser
    name: str = ""  # the display name, may differ from ``path``
    namespace_name: str = ""  # the display name of the namespace
    labels: dict[str, FakeLabel] = field(default_factory=dict)  # name → label

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.path}"


@dataclass
class FakeLabel:
    id: int
    name: str
    color: str = "ededed"


@dataclass
class FakeCommit:
    sha: str
    message: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    author: FakeUser | None = None  # the Gitee account linked to the author email, or None
    committer: FakeUser | None = None
    parents: list[str] = field(default_factory=list)
    date: str = "2024-05-20T09:20:00+08:00"


@dataclass
class FakePR:
    repo: FakeRepo
    number: int
    id: int
    user: FakeUser
    head_sha: str
    base_sha: str
    title: str = "A change"
    state: str = "open"  # open / closed / merged
    base_ref: str = "master"
    head_ref: str = "feature"
    draft: bool = False
    labels: list[str] = field(default_factory=list)  # names, in the order added
    commits: list[FakeCommit] = field(default_factory=list)


@dataclass
class FakeComment:
    id: int
    repo: FakeRepo
    pr_number: int
    body: str
    user: FakeUser
    created_at: str
    updated_at: str


@dataclass
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str  # decoded, without /api/v5
    raw_path: str  # as sent (percent-encoding kept), without /api/v5
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    route: str | None = None
    status: int | None = None
    token_in_query: bool = False


@dataclass
class Violation:
    method: str
    raw_path: str
    route: str | None
    problems: list[str]


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message}


@dataclass
class _Ctx:
    request: web.Request
    params: dict[str, str]  # decoded path parameters
    query: Mapping[str, str]
    body: Any
    api: str  # origin + /api/v5, for URLs in answers


Answer = tuple[int, Any, dict[str, str]]
Handler = Callable[[_Ctx], Awaitable[Answer]]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    segments: tuple[str, ...]
    query: frozenset[str]
    handler: Handler

    @property
    def literals(self) -> int:
        return sum(1 for s in self.segments if not s.startswith("{"))

    def match(self, raw_segments: Sequence[str]) -> dict[str, str] | None:
        if len(raw_segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.segments, raw_segments, strict=True):
            if want.startswith("{"):
                if not got:
                    return None
                params[want[1:-1]] = urllib.parse.unquote(got)
            elif want != got:
                return None
        return params


RECORDED_HEADERS = ("authorization", "accept", "user-agent", "content-type")
LIST_QUERY = frozenset({"page", "per_page"})


class FakeGitee:
    """In-memory Gitee behind a real HTTP server; see the module docstring."""

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
        self._ids = itertools.count(5000)

        self.users: dict[str, FakeUser] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.prs: dict[tuple[str, int], FakePR] = {}
        self.comments: dict[int, FakeComment] = {}
        self.permissions: dict[tuple[str, str], str] = {}  # (repo full name, login) → value
        self.tokens: dict[str, str] = {}  # extra accepted tokens → login

        self.requests: list[Recorded] = []
        self.violations: list[Violation] = []
        self.faults: list[Fault] = []
        self.in_flight = 0
        self.peak_in_flight = 0

        self.bot = self.user(bot_login, name="CLA Robot")
        self.tokens[self.token] = self.bot.login

        routes = [
            ("GET", "/user", frozenset(), self._get_user),
            ("GET", "/emails", frozenset(), self._get_emails),
            ("GET", "/users/{username}", frozenset(), self._get_user_by_login),
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
            ("GET", "/users/{username}", frozenset(), self._get_user_by_login),
        ]
        self.routes = sorted(
            (
                _Route(m, t, tuple(t.strip("/").split("/")), q | {"access_token"}, h)
                for m, t, q, h in routes
            ),
            key=lambda r: -r.literals,
        )
        # OAuth (the web flow on the origin, the user API under /api/v5)
        self.oauth_apps: dict[str, tuple[str, str]] = {}  # client id → (secret, redirect uri)
        self.grants: dict[str, tuple[str, str, str, bool]] = {}  # code → (client, uri, login, used)
        self.user_emails: dict[str, list[dict[str, Any]]] = {}
        self.signed_in: str | None = None
        self.app = web.Application()
        self.app.router.add_get("/oauth/authorize", self._oauth_authorize)
        self.app.router.add_post("/oauth/token", self._oauth_token)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._server: TestServer | None = None

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
        return next(self._ids)

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

    # -- webhooks --------------------------------------------------------------------------------

    def merge_request_event(
        self,
        pr: FakePR,
        *,
        action: str = "open",
        action_desc: str | None = None,
        sender: str | None = None,
    ) -> dict[str, Any]:
        """A ``Merge Request Hook`` body for ``pr`` (template: the fixture)."""
        payload: dict[str, Any] = load_fixture("merge_request_hook.open")
        who = self._hook_user(self.user(sender) if sender else pr.user)
        hook_pr = self._hook_pr(pr)
        repo = self._hook_repo(pr.repo)
        payload.update(
            action=action,
            action_desc=action_desc,
            pull_request=hook_pr,
            number=pr.number,
            iid=pr.number,
            title=pr.title,
            state=pr.state,
            url=hook_pr["html_url"],
            source_branch=pr.head_ref,
            target_branch=pr.base_ref,
            source_repo={"project": repo, "repository": repo},
            target_repo={"project": repo, "repository": repo},
            project=repo,
            repository=repo,
            author=self._hook_user(pr.user),
            updated_by=who,
            sender=who,
            hook_url=f"https://gitee.com/{pr.repo.full_name}/hooks/{payload['hook_id']}/edit",
            timestamp=str(int(self.clock() * 1000)),
        )
        return payload

    def note_event(self, comment: FakeComment, *, action: str = "comment") -> dict[str, Any]:
        """A ``Note Hook`` body for a comment on a pull request."""
        payload: dict[str, Any] = load_fixture("note_hook.pull_request")
        pr = self.pr(comment.repo.full_name, comment.pr_number)
        user = self._hook_user(comment.user)
        html = f"https://gitee.com/{pr.repo.full_name}/pulls/{pr.number}#note_{comment.id}"
        repo = self._hook_repo(pr.repo)
        payload.update(
            action=action,
            comment={
                "id": comment.id,
                "body": comment.body,
                "user": user,
                "created_at": comment.created_at,
                "updated_at": comment.updated_at,
                "html_url": html,
            },
            repository=repo,
            project=repo,
            author=user,
            sender=user,
            url=html,
            note=comment.body,
            noteable_type="PullRequest",
            noteable_id=pr.id,
            title=pr.title,
            per_iid=f"!{pr.number}",
            pull_request=self._hook_pr(pr),
            hook_url=f"https://gitee.com/{pr.repo.full_name}/hooks/{payload['hook_id']}/edit",
            timestamp=str(int(self.clock() * 1000)),
        )
        return payload

    def delivery(
        self,
        payload: Mapping[str, Any],
        *,
        mode: Mode = "signature",
        timestamp_ms: int | None = None,
        secret: str | None = None,
        url_encode: bool = False,
    ) -> tuple[dict[str, str], bytes]:
        """(headers, raw body) as Gitee would POST them; the body repeats ``timestamp`` and,
        per mode, ``password`` or ``sign`` like real deliveries."""
        secret = self.webhook_secret if secret is None else secret
        if timestamp_ms is None:
            timestamp_ms = int(self.clock() * 1000)
        body = dict(payload)
        body["timestamp"] = str(timestamp_ms)
        if mode == "password":
            body["password"], body["sign"] = secret, ""
        else:
            body["password"], body["sign"] = "", gitee_signature(timestamp_ms, secret)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(
            raw, secret=secret, mode=mode, timestamp_ms=timestamp_ms, url_encode=url_encode
        )
        return headers, raw

    # -- JSON shapes -----------------------------------------------------------------------------

    @staticmethod
    def _hook_user(u: FakeUser) -> dict[str, Any]:
        return {
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "username": u.login,
            "user_name": u.login,
            "url": f"https://gitee.com/{u.login}",
            "login": u.login,
            "avatar_url": "https://gitee.com/assets/no_portrait.png",
            "html_url": f"https://gitee.com/{u.login}",
            "type": "User",
            "site_admin": False,
        }

    def _hook_repo(self, r: FakeRepo) -> dict[str, Any]:
        data: dict[str, Any] = load_fixture("merge_request_hook.open")["repository"]
        full = r.full_name
        data.update(
            id=r.id,
            name=r.name,
            path=r.path,
            full_name=full,
            owner=self._hook_user(r.owner),
            html_url=f"https://gitee.com/{full}",
            url=f"https://gitee.com/{full}",
            git_http_url=f"https://gitee.com/{full}.git",
            clone_url=f"https://gitee.com/{full}.git",
            ssh_url=f"git@gitee.com:{full}.git",
            git_ssh_url=f"git@gitee.com:{full}.git",
            namespace=r.namespace,
            name_with_namespace=f"{r.namespace_name}/{r.name}",
            path_with_namespace=full,
        )
        return data

    def _hook_pr(self, pr: FakePR) -> dict[str, Any]:
        data: dict[str, Any] = load_fixture("merge_request_hook.open")["pull_request"]
        user = self._hook_user(pr.user)
        repo = self._hook_repo(pr.repo)
        html = f"https://gitee.com/{pr.repo.full_name}/pulls/{pr.number}"
        data.update(
            id=pr.id,
            number=pr.number,
            state=pr.state,
            html_url=html,
            diff_url=html + ".diff",
            patch_url=html + ".patch",
            title=pr.title,
            labels=[self._label_json(pr.repo, n) for n in pr.labels],
            user=user,
            updated_by=user,
            merge_reference_name=f"refs/pull/{pr.number}/MERGE",
            head={
                "label": f"{pr.user.login}:{pr.head_ref}",
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": user,
                "repo": repo,
            },
            base={
                "label": f"{pr.repo.namespace}:{pr.base_ref}",
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": self._hook_user(pr.repo.owner),
                "repo": repo,
            },
            merged=pr.state == "merged",
            commits=len(pr.commits),
            comments=len(self.comments_of(pr)),
        )
        return data

    @staticmethod
    def _user_json(u: FakeUser, api: str) -> dict[str, Any]:
        base = f"{api}/users/{u.login}"
        return {
            "id": u.id,
            "login": u.login,
            "name": u.name,
            "avatar_url": "https://gitee.com/assets/no_portrait.png",
            "url": base,
            "html_url": f"https://gitee.com/{u.login}",
            "remark": "",
            "followers_url": base + "/followers",
            "following_url": base + "/following_url{/other_user}",
            "gists_url": base + "/gists{/gist_id}",
            "starred_url": base + "/starred{/owner}{/repo}",
            "subscriptions_url": base + "/subscriptions",
            "organizations_url": base + "/orgs",
            "repos_url": base + "/repos",
            "events_url": base + "/events{/privacy}",
            "received_events_url": base + "/received_events",
            "type": "User",
        }

    def _repo_json(self, r: FakeRepo, api: str) -> dict[str, Any]:
        full = r.full_name
        owner = self._user_json(r.owner, api)
        return {
            "id": r.id,
            "full_name": full,
            "human_name": f"{r.namespace_name}/{r.name}",
            "url": f"{api}/repos/{full}",
            "namespace": {
                "id": r.id + 1,
                "type": "group",
                "name": r.namespace_name,
                "path": r.namespace,
                "html_url": f"https://gitee.com/{r.namespace}",
            },
            "path": r.path,
            "name": r.name,
            "owner": owner,
            "assigner": owner,
            "description": "",
            "private": False,
            "public": True,
            "internal": False,
            "fork": False,
            "html_url": f"https://gitee.com/{full}.git",
            "ssh_url": f"git@gitee.com:{full}.git",
        }

    def _label_json(self, r: FakeRepo, name: str, api: str = "https://gitee.com/api/v5") -> Any:
        label = r.labels.get(name) or FakeLabel(0, name)
        return {
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "repository_id": r.id,
            "url": f"{api}/repos/{r.full_name}/labels/{urllib.parse.quote(name, safe='')}",
            "created_at": "2024-05-20T09:32:00+08:00",
            "updated_at": "2024-05-20T09:32:00+08:00",
        }

    def _pr_json(self, pr: FakePR, api: str) -> dict[str, Any]:
        data: dict[str, Any] = load_fixture("api_pull")
        base = f"{api}/repos/{pr.repo.full_name}"
        html = f"https://gitee.com/{pr.repo.full_name}/pulls/{pr.number}"
        user = self._user_json(pr.user, api)
        repo = self._repo_json(pr.repo, api)
        data.update(
            id=pr.id,
            url=f"{base}/pulls/{pr.number}",
            html_url=html,
            diff_url=html + ".diff",
            patch_url=html + ".patch",
            issue_url=f"{base}/pulls/{pr.number}/issues",
            commits_url=f"{base}/pulls/{pr.number}/commits",
            comments_url=f"{base}/pulls/{pr.number}/comments",
            number=pr.number,
            state=pr.state,
            labels=[self._label_json(pr.repo, n, api) for n in pr.labels],
            draft=pr.draft,
            merged_at="2024-05-21T10:00:00+08:00" if pr.state == "merged" else None,
            user=user,
            title=pr.title,
            head={
                "label": pr.head_ref,
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": user,
                "repo": repo,
            },
            base={
                "label": pr.base_ref,
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": self._user_json(pr.repo.owner, api),
                "repo": repo,
            },
        )
        return data

    def _commit_json(self, r: FakeRepo, c: FakeCommit, api: str) -> dict[str, Any]:
        base = f"{api}/repos/{r.full_name}"
        return {
            "url": f"{base}/commits/{c.sha}",
            "sha": c.sha,
            "html_url": f"https://gitee.com/{r.full_name}/commit/{c.sha}",
            "comments_url": f"{base}/commits/{c.sha}/comments",
            "commit": {
                "author": {"name": c.author_name, "email": c.author_email, "date": c.date},
                "committer": {"name": c.committer_name, "email": c.committer_email, "date": c.date},
                "message": c.message,
                "tree": {"sha": c.sha[::-1], "url": f"{base}/git/trees/{c.sha[::-1]}"},
            },
            "author": self._user_json(c.author, api) if c.author else None,
            "committer": self._user_json(c.committer, api) if c.committer else {},
            "parents": [{"sha": p, "url": f"{base}/commits/{p}"} for p in c.parents],
        }

    def _comment_json(self, c: FakeComment, api: str) -> dict[str, Any]:
        base = f"{api}/repos/{c.repo.full_name}"
        html = f"https://gitee.com/{c.repo.full_name}/pulls/{c.pr_number}#note_{c.id}"
        return {
            "url": f"{base}/pulls/comments/{c.id}",
            "id": c.id,
            "path": None,
            "position": None,
            "original_position": None,
            "new_line": None,
            "commit_id": None,
            "original_commit_id": None,
            "user": self._user_json(c.user, api),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "body": c.body,
            "html_url": html,
            "pull_request_url": f"{base}/pulls/{c.pr_number}",
            "_links": {
                "self": {"href": f"{base}/pulls/comments/{c.id}"},
                "html": {"href": html},
                "pull_request": {"href": f"{base}/pulls/{c.pr_number}"},
            },
            "comment_type": "pr_comment",
            "in_reply_to_id": None,
        }

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

    # -- handlers --------------------------------------------------------------------------------

    # -- OAuth ------------------------------------------------------------------------------------

    def add_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.oauth_apps[client_id] = (client_secret, redirect_uri)

    def set_emails(self, login: str, *emails: tuple[str, bool]) -> None:
        """``/emails`` of ``login``: (email, confirmed) items, the first is primary."""
        self.user(login)
        self.user_emails[login.lower()] = [
            {
                "email": e,
                "state": "confirmed" if ok else "unconfirmed",
                "scope": ["primary", "committed"] if i == 0 else ["committed"],
            }
            for i, (e, ok) in enumerate(emails)
        ]

    async def _oauth_authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        app = self.oauth_apps.get(q.get("client_id", ""))
        if app is None:
            return web.Response(status=404, text="unknown client_id")
        if q.get("redirect_uri") != app[1] or q.get("response_type") != "code":
            return web.Response(status=400, text="invalid redirect_uri or response_type")
        if self.signed_in is None:
            return web.Response(status=401, text="sign in to Gitee first (fake.signed_in)")
        code = secrets.token_hex(10)
        self.grants[code] = (q["client_id"], app[1], self.signed_in, False)
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        raise web.HTTPFound(app[1] + "?" + urllib.parse.urlencode(params))

    async def _oauth_token(self, request: web.Request) -> web.Response:
        form = {**dict(request.query), **{k: str(v) for k, v in (await request.post()).items()}}
        app = self.oauth_apps.get(form.get("client_id", ""))
        grant = self.grants.get(form.get("code", ""))
        if app is None or form.get("client_secret") != app[0]:
            return web.json_response({"error": "invalid_client"}, status=401)
        if (
            grant is None
            or grant[3]
            or grant[0] != form.get("client_id")
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant[1]
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.grants[form["code"]] = (*grant[:3], True)
        token = "gitee-user-" + secrets.token_hex(12)
        self.tokens[token] = grant[2]
        return web.json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": 86400,
                "scope": "user_info emails",
            }
        )

    async def _get_emails(self, ctx: _Ctx) -> Answer:
        login = self._authenticate(ctx.request, b"")
        return 200, list(self.user_emails.get(login.lower(), [])), {}

    async def _get_user(self, ctx: _Ctx) -> Answer:
        login = self._authenticate(ctx.request, b"")
        return 200, self._profile_json(self.user(login), ctx.api), {}

    def _profile_json(self, u: FakeUser, api: str) -> dict[str, Any]:
        """A user's profile, as ``GET /user`` and ``GET /users/{username}`` answer."""
        data = self._user_json(u, api)
        data.update(blog=None, weibo=None, bio=None, public_repos=0, followers=0, following=0)
        return data

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

    async def _get_user_by_login(self, ctx: _Ctx) -> Answer:
        """``GET /users/{username}`` ("获取一个用户"): by login only — Gitee has no lookup by id."""
        u = self.users.get(ctx.params["username"].lower())
        if u is None:
            raise _HTTPError(404, "Not Found")
        return 200, self._profile_json(u, ctx.api), {}
