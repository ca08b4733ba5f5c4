"""What the fake GitHub holds: its limits and data paths, and one dataclass per kind of
thing (users, repositories, pull requests, statuses, check runs, deliveries, tokens, requests
seen, faults to inject)."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bot.settings import bundled

DATA = Path(__file__).resolve().parent.parent / "data"
OPENAPI_SUBSET = DATA / "github" / "openapi-subset.json"
# GitHub's GraphQL schema, as @octokit/graphql-schema publishes it (see SOURCES.md there).
GRAPHQL_SCHEMA = DATA / "github" / "graphql-schema.graphql.gz"
# The one query the fake answers without graphql-core: the co-author query as the bot sends it
# (tests/sandbox/fakeforge/test_graphql_optional.py holds the two the same).
CO_AUTHORS_QUERY_FILE = DATA / "github" / "co-authors.graphql"
GRAPHQL_PATHS = ("/graphql", "/api/graphql")
LEVELS = {"read": 1, "write": 2, "admin": 3}
NOT_ACCESSIBLE = "Resource not accessible by integration"
WEBHOOK_FIXTURES = DATA / "webhooks"
GHES_PREFIX = "/api/v3"
VIOLATION_STATUS = 599
JWT_SKEW_S = 30
JWT_MAX_LIFETIME_S = 600
MAX_PR_COMMITS = 250
STATUS_DESCRIPTION_MAX = 140
STATUSES_PER_CONTEXT_MAX = 1000
DOCS = "https://docs.github.com/rest"


# -- state -------------------------------------------------------------------------------------


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha() -> str:
    return secrets.token_hex(20)


@dataclass
class FakeUser:
    login: str
    id: int
    type: str = "User"  # "Bot" for Apps


@dataclass
class FakeRepo:
    owner: FakeUser
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    labels: dict[str, FakeLabel] = field(default_factory=dict)  # lower-cased name → label

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class FakeLabel:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@functools.cache
def manifest_permissions() -> dict[str, str]:
    """The App manifest's ``default_permissions`` (``app.yaml``): what a new installation holds."""
    manifest = yaml.safe_load(bundled("app.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in manifest["default_permissions"].items()}


@dataclass
class FakeInstallation:
    id: int
    account: FakeUser
    repos: set[str] | None = None  # lower-cased full names; None = all repositories
    suspended: bool = False
    # What the installation was granted (name → read/write), by default the manifest's.
    permissions: dict[str, str] = field(default_factory=lambda: dict(manifest_permissions()))

    def can_see(self, repo: FakeRepo) -> bool:
        return self.repos is None or repo.full_name.lower() in self.repos


@dataclass
class FakeCommit:
    sha: str
    message: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    author: FakeUser | None = None  # the account GitHub linked to the author email, or None
    committer: FakeUser | None = None
    parents: list[str] = field(default_factory=list)
    date: str = "2024-01-01T00:00:00Z"

    @property
    def title(self) -> str:
        """The message's first line, as GitHub shows a commit in a list."""
        lines = self.message.strip().splitlines()
        return lines[0] if lines else ""


@dataclass
class FakeIssue:
    repo: FakeRepo
    number: int
    id: int
    user: FakeUser
    title: str = "A change"
    state: str = "open"
    labels: list[str] = field(default_factory=list)  # names, in the order added

    @property
    def is_pull(self) -> bool:
        return False


@dataclass
class FakePR(FakeIssue):
    head_sha: str = ""
    base_sha: str = ""
    base_ref: str = "main"
    head_ref: str = "feature"
    draft: bool = False
    merged: bool = False
    commits: list[FakeCommit] = field(default_factory=list)

    @property
    def is_pull(self) -> bool:
        return True


@dataclass
class FakeComment:
    id: int
    repo: FakeRepo
    issue_number: int
    body: str
    user: FakeUser
    created_at: str
    updated_at: str


@dataclass
class FakeStatus:
    id: int
    repo: FakeRepo
    sha: str
    state: str
    description: str | None
    target_url: str | None
    context: str
    creator: FakeUser
    created_at: str


@dataclass
class FakeCheckRun:
    id: int
    repo: FakeRepo
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    title: str | None
    summary: str | None
    details_url: str | None
    actions: list[dict[str, str]]
    started_at: str
    completed_at: str | None
    updates: int = 0  # PATCHes it received


@dataclass
class FakeMergeGroup:
    """A merge queue entry: its temporary branch and the commit the queue waits on."""

    repo: FakeRepo
    pr: FakePR
    head_sha: str
    base_sha: str
    base_ref: str

    @property
    def head_ref(self) -> str:
        return (
            f"refs/heads/gh-readonly-queue/{self.base_ref}/pr-{self.pr.number}-{self.pr.head_sha}"
        )


@dataclass
class FakeReaction:
    id: int
    comment_id: int
    content: str
    user: FakeUser
    created_at: str


@dataclass
class FakeDelivery:
    id: int
    guid: str
    event: str
    action: str | None
    status_code: int
    delivered_at: str
    redelivery: bool = False
    installation_id: int | None = None
    repository_id: int | None = None
    payload: dict[str, Any] | None = None  # what was sent, for redeliveries
    answer: str = ""  # the receiver's ``message`` (or text), or why it could not be reached
    duration_s: float = 0.27

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def status(self) -> str:
        if self.status_code == 0:
            return "Couldn't connect to server"
        return "OK" if 200 <= self.status_code < 300 else f"HTTP {self.status_code}"


@dataclass
class FakeToken:
    value: str
    installation_id: int
    expires_at: float
    revoked: bool = False
    # What the installation held when the token was made: a permission accepted later comes
    # with the next token only.
    permissions: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeOAuthApp:
    client_id: str
    client_secret: str
    redirect_uri: str  # GitHub accepts this URL or a path below it


@dataclass
class FakeGrant:
    code: str
    client_id: str
    redirect_uri: str
    login: str
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class FakeManifestApp:
    """An App registered through the manifest flow (``/settings/apps/new``), waiting for its
    code to be converted (``POST /app-manifests/{code}/conversions``)."""

    code: str
    manifest: dict[str, Any]
    org: str | None
    state: str | None
    expires_at: float
    app_id: int
    slug: str
    converted: bool = False


@dataclass
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str  # decoded, without the /api/v3 prefix
    raw_path: str  # as sent, without the prefix
    prefix: str  # "" or "/api/v3"
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    route: str | None = None  # the OpenAPI path template
    status: int | None = None


@dataclass
class Violation:
    method: str
    path: str
    route: str | None
    kind: str  # "route" | "method" | "request" | "response" | "unimplemented"
    problems: list[str]


class _HTTPError(Exception):
    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "documentation_url": DOCS, **extra}
        self.headers = dict(headers or {})


@dataclass
class _Ctx:
    request: web.Request
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    api: str  # base of API URLs in answers: origin + prefix
    web: str  # base of html URLs


Handler = Callable[[_Ctx], Awaitable[tuple[int, Any, dict[str, str]]]]

RECORDED_HEADERS = ("authorization", "accept", "user-agent", "content-type", "x-github-api-version")


_TRAILER = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$", re.I | re.M)


def _trailers(message: str) -> list[tuple[str, str]]:
    """``Co-authored-by: Name <email>`` lines of a message, as GitHub lists co-authors."""
    return [(m.group(1), m.group(2)) for m in _TRAILER.finditer(message)]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
