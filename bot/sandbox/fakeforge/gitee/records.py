"""What the fake Gitee holds: its limits and data (the fixtures), one dataclass per kind of
thing (users, repositories, labels, commits, pull requests, comments, requests seen, violations),
and its routes."""

from __future__ import annotations

import functools
import json
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "gitee"
API_PREFIX = "/api/v5"
MAX_PR_COMMITS = 250
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
UNAUTHORIZED = "401 Unauthorized: Access token does not exist"
CST = timezone(timedelta(hours=8))

Mode = Literal["signature", "password"]


@functools.cache
def _fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def load_fixture(name: str) -> Any:
    """A fresh copy of ``bot/sandbox/fakeforge/data/gitee/<name>`` (``.json`` may be omitted)."""
    if not name.endswith(".json"):
        name += ".json"
    return json.loads(_fixture_text(name))


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
