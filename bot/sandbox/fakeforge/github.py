"""A fake GitHub REST API: a real aiohttp server on 127.0.0.1 with in-memory state.

It serves the endpoints the bot uses (paths exactly as GitHub's, also under ``/api/v3`` like
GitHub Enterprise Server), and checks every request against the OpenAPI subset extracted from
``@octokit/openapi`` (``bot/sandbox/fakeforge/data/github/openapi-subset.json``): the path must
exist for the method, query and path parameters must be declared with the right type, and a
JSON body must validate against the operation's request-body schema. A mismatch is answered
with HTTP 599 and appended to ``fake.violations`` — tests assert ``fake.violations == []``.
Every 2xx answer of the fake itself is validated against the operation's response schema too
(a fake bug is a violation as well), so what the bot parses has GitHub's shape.

Typical use::

    async with FakeGitHub(app_id="1", public_key_pem=keys.public_pem) as fake:
        fake.add_installation(7, repos=["octo/hello"])
        pr = fake.add_pr("octo/hello", commits=3, author="alice")
        ...  # point the bot at fake.url (or fake.ghes_url)
        assert fake.status_for(pr.head_sha, "cla").state == "success"

Auth: ``POST /app/installations/{id}/access_tokens`` and ``/app/hook/...`` need the App JWT
(RS256, verified with the App's public key; ``iss`` = app id, ``iat`` not in the future beyond
30 s, ``exp`` − ``iat`` ≤ 600 s, not expired). Repository routes need an installation token
(``Authorization: token …`` or ``Bearer …``) of an installation that can see the repository:
unknown, expired or revoked tokens get ``401 {"message": "Bad credentials"}``.

Permissions: each installation holds a permission map (``FakeInstallation.permissions``; by
default the manifest's ``default_permissions`` read from ``app.yaml``). A route that needs a
permission the installation lacks answers as GitHub does: ``403 {"message": "Resource not
accessible by integration", "documentation_url": …, "status": "403"}`` with
``X-Accepted-GitHub-Permissions: contents=read`` (``_require``). GitHub may let public
resources through without the permission; the fake never does, so tests hold either way.

GraphQL: ``POST /graphql`` (``/api/graphql`` like GitHub Enterprise Server) validates every query
against GitHub's published schema (``bot/sandbox/fakeforge/data/github/graphql-schema.graphql.gz``,
from ``@octokit/graphql-schema``) with graphql-core — an invalid query is a violation (kind
``graphql``) — and executes it against the fake's state: repositories, pull requests, their
commits and each commit's ``authors`` (the git author, then every ``Co-authored-by:`` trailer,
``user`` linked through verified emails set with ``set_emails``, or a noreply address's id).
Errors come as GitHub's do: HTTP 200 with ``errors[]`` carrying ``type`` (``NOT_FOUND``,
``FORBIDDEN``) and partial ``data``.

Faults: ``fake.inject("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", status=502)`` makes the
next matching request(s) fail (``times``), optionally with headers/body or after ``delay_s``
(``fake.inject("POST", "/graphql", …)`` for GraphQL).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import gzip
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import graphql
import jwt
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.settings import bundled

DATA = Path(__file__).resolve().parent / "data"
OPENAPI_SUBSET = DATA / "github" / "openapi-subset.json"
# GitHub's GraphQL schema, as @octokit/graphql-schema publishes it (see SOURCES.md there).
GRAPHQL_SCHEMA = DATA / "github" / "graphql-schema.graphql.gz"
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

# -- the App's key pair --------------------------------------------------------------------------


@dataclass(frozen=True)
class AppKeyPair:
    private_pem: str
    public_pem: str


@functools.cache
def generate_app_keypair() -> AppKeyPair:
    """An RSA-2048 key pair for the fake App; generated once per process (test session)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # what GitHub hands out
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeyPair(private_pem=private_pem, public_pem=public_pem)


# -- OpenAPI subset: routes and a validator for the keywords it uses ------------------------------

SCHEMA_KEYWORDS = frozenset(
    {
        "$ref",
        "additionalProperties",
        "allOf",
        "anyOf",
        "discriminator",  # an annotation: oneOf is still checked in full
        "default",
        "deprecated",
        "enum",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "minItems",
        "minLength",
        "nullable",
        "oneOf",
        "pattern",
        "properties",
        "readOnly",
        "required",
        "type",
        "writeOnly",
    }
)


@dataclass(frozen=True)
class _Route:
    template: str
    regex: re.Pattern[str]
    literals: int
    methods: Mapping[str, Any]


class OpenAPI:
    """Routes and schemas of the extracted subset, with a small OpenAPI 3.0 schema validator.

    Only the keywords in ``SCHEMA_KEYWORDS`` are understood; loading a subset that uses any
    other keyword fails, so a re-extraction cannot silently weaken the checks.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.source: Mapping[str, Any] = doc["source"]
        self.schemas: Mapping[str, Any] = doc["components"]["schemas"]
        routes = []
        for template, methods in doc["paths"].items():
            parts = []
            literals = 0
            for seg in template.strip("/").split("/"):
                m = re.fullmatch(r"\{([a-z_]+)\}", seg)
                if m:
                    parts.append(f"(?P<{m.group(1)}>[^/]+)")
                else:
                    parts.append(re.escape(seg))
                    literals += 1
            regex = re.compile("/" + "/".join(parts))
            routes.append(_Route(template, regex, literals, methods))
        self.routes = sorted(routes, key=lambda r: -r.literals)
        for schema in self._all_schemas():
            self._check_keywords(schema)

    @classmethod
    def load(cls, path: Path = OPENAPI_SUBSET) -> OpenAPI:
        return _load_openapi(path)

    def _all_schemas(self) -> Iterable[Any]:
        yield from self.schemas.values()
        for methods in self.doc["paths"].values():
            for op in methods.values():
                for p in op["parameters"]:
                    yield p["schema"]
                if op["requestBody"] and op["requestBody"]["schema"]:
                    yield op["requestBody"]["schema"]
                for resp in op["responses"].values():
                    if resp["schema"]:
                        yield resp["schema"]

    def _check_keywords(self, schema: Any) -> None:
        if isinstance(schema, list):
            for s in schema:
                self._check_keywords(s)
            return
        if not isinstance(schema, dict):
            return
        unknown = set(schema) - SCHEMA_KEYWORDS
        if unknown:
            raise ValueError(f"schema keyword(s) the fake cannot check: {sorted(unknown)}")
        for key, value in schema.items():
            if key == "properties":
                for sub in value.values():
                    self._check_keywords(sub)
            elif key in ("items", "additionalProperties", "oneOf", "anyOf", "allOf"):
                self._check_keywords(value)

    def match(self, raw_path: str) -> tuple[_Route, dict[str, str]] | None:
        """The route for a raw (percent-encoded) path, with decoded path parameters."""
        for route in self.routes:
            m = route.regex.fullmatch(raw_path)
            if m:
                return route, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
        return None

    def resolve(self, ref: str) -> Any:
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref}")
        return self.schemas[ref[len(prefix) :]]

    def validate(self, schema: Any, value: Any, where: str = "$") -> list[str]:
        errors: list[str] = []
        self._check(schema, value, where, errors)
        return errors

    def _check(self, schema: Any, value: Any, where: str, errors: list[str]) -> None:
        if not isinstance(schema, dict):
            return
        if value is None and schema.get("nullable") is True:
            return
        if "$ref" in schema:
            self._check(self.resolve(schema["$ref"]), value, where, errors)
            return
        if "oneOf" in schema:
            n = sum(1 for s in schema["oneOf"] if not self.validate(s, value, where))
            if n != 1:
                errors.append(f"{where}: matches {n} schemas of oneOf, expected exactly 1")
        if "anyOf" in schema and not any(
            not self.validate(s, value, where) for s in schema["anyOf"]
        ):
            errors.append(f"{where}: matches no schema of anyOf")
        for sub in schema.get("allOf", ()):
            self._check(sub, value, where, errors)
        typ = schema.get("type")
        if value is None:
            if typ is not None or "enum" in schema:
                errors.append(f"{where}: null is not allowed")
            return
        if typ is not None and not _type_ok(typ, value):
            errors.append(f"{where}: expected {typ}, got {type(value).__name__}")
            return
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
        if isinstance(value, dict):
            props = schema.get("properties", {})
            for name in schema.get("required", ()):
                if name not in value:
                    errors.append(f"{where}: missing required property {name!r}")
            extra = schema.get("additionalProperties", True)
            for key, sub_value in value.items():
                if key in props:
                    self._check(props[key], sub_value, f"{where}.{key}", errors)
                elif extra is False:
                    errors.append(f"{where}: unexpected property {key!r}")
                elif isinstance(extra, dict):
                    self._check(extra, sub_value, f"{where}.{key}", errors)
        elif isinstance(value, list):
            if "items" in schema:
                for i, item in enumerate(value):
                    self._check(schema["items"], item, f"{where}[{i}]", errors)
            if len(value) < schema.get("minItems", 0):
                errors.append(f"{where}: fewer than {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                errors.append(f"{where}: more than {schema['maxItems']} items")
        elif isinstance(value, str):
            if len(value) < schema.get("minLength", 0):
                errors.append(f"{where}: shorter than {schema['minLength']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                errors.append(f"{where}: longer than {schema['maxLength']}")
            if "pattern" in schema and not re.search(schema["pattern"], value):
                errors.append(f"{where}: does not match {schema['pattern']!r}")

    def check_request(
        self,
        op: Mapping[str, Any],
        path_params: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        body: bytes,
        content_type: str,
    ) -> tuple[list[str], Any]:
        """Problems with a request for ``op``, and the decoded JSON body (or ``None``)."""
        problems: list[str] = []
        declared = {(p["in"], p["name"]): p for p in op["parameters"]}
        for name, raw in path_params.items():
            p = declared.get(("path", name))
            if p is None:
                problems.append(f"path parameter {name!r} not declared")
            else:
                problems += self._check_param(p, raw, f"path:{name}")
        seen = Counter(name for name, _ in query)
        for name, raw in query:
            p = declared.get(("query", name))
            if p is None:
                problems.append(f"query parameter {name!r} is not declared for this operation")
            else:
                problems += self._check_param(p, raw, f"query:{name}")
        problems += [f"query parameter {n!r} given {c} times" for n, c in seen.items() if c > 1]
        for (where, name), p in declared.items():
            if where == "query" and p["required"] and name not in seen:
                problems.append(f"required query parameter {name!r} missing")
        data: Any = None
        spec = op["requestBody"]
        if body.strip():
            if spec is None:
                problems.append("this operation takes no request body")
            elif not content_type.startswith("application/json"):
                problems.append(f"request body content-type {content_type!r}, expected JSON")
            else:
                try:
                    data = json.loads(body)
                except ValueError:
                    problems.append("request body is not valid JSON")
                else:
                    if spec["schema"] is not None:
                        problems += self.validate(spec["schema"], data, "body")
        elif spec is not None and spec["required"]:
            problems.append("request body required")
        return problems, data

    def _check_param(self, param: Mapping[str, Any], raw: str, where: str) -> list[str]:
        schema = param["schema"]
        typ = schema.get("type")
        value: Any = raw
        if typ == "integer":
            if not re.fullmatch(r"-?\d+", raw):
                return [f"{where}: {raw!r} is not an integer"]
            value = int(raw)
        elif typ == "boolean":
            if raw not in ("true", "false"):
                return [f"{where}: {raw!r} is not a boolean"]
            value = raw == "true"
        return self.validate(schema, value, where)


def _type_ok(typ: str, value: Any) -> bool:
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "array":
        return isinstance(value, list)
    if typ == "object":
        return isinstance(value, dict)
    raise ValueError(f"unknown schema type {typ!r}")


@functools.cache
def _load_openapi(path: Path) -> OpenAPI:
    return OpenAPI(json.loads(path.read_text(encoding="utf-8")))


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


@dataclass
class Fault:
    method: str
    route: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay_s: float = 0.0
    times: int = 1


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


# -- the server ----------------------------------------------------------------------------------


class FakeGitHub:
    """In-memory GitHub behind a real HTTP server; see the module docstring."""

    def __init__(
        self,
        *,
        app_id: str = "4242",
        public_key_pem: str | None = None,
        app_slug: str = "cla-bot",
        token_lifetime_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
        openapi: OpenAPI | None = None,
    ) -> None:
        self.app_id = str(app_id)
        self.public_key_pem = public_key_pem or generate_app_keypair().public_pem
        self.token_lifetime_s = token_lifetime_s
        self.clock = clock
        self.openapi = openapi or OpenAPI.load()
        self._ids = itertools.count(1000)

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
        self._handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/app"): self._get_app,
            ("POST", "/app/installations/{installation_id}/access_tokens"): self._create_token,
            ("GET", "/app/hook/deliveries"): self._list_deliveries,
            ("GET", "/app/hook/deliveries/{delivery_id}"): self._get_delivery,
            ("POST", "/app/hook/deliveries/{delivery_id}/attempts"): self._redeliver,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"): self._get_pull,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"): self._pull_commits,
            ("GET", "/repos/{owner}/{repo}/compare/{basehead}"): self._compare,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._list_comments,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._create_comment,
            ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._get_comment,
            ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._edit_comment,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels"): self._list_labels,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"): self._add_labels,
            (
                "DELETE",
                "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
            ): self._remove_label,
            ("POST", "/repos/{owner}/{repo}/statuses/{sha}"): self._create_status,
            ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses"): self._list_statuses,
            (
                "GET",
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
            ): self._permission,
            (
                "POST",
                "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            ): self._react,
            ("POST", "/repos/{owner}/{repo}/check-runs"): self._create_check_run,
            ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"): self._update_check_run,
            ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"): self._list_check_runs,
        }
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._server: TestServer | None = None

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
        self._handlers[("GET", "/user")] = self._get_user
        self._handlers[("GET", "/user/emails")] = self._get_user_emails
        self._handlers[("GET", "/user/{account_id}")] = self._get_user_by_id
        self._handlers[("GET", "/users/{username}")] = self._get_user_by_login
        self.web = web.Application()
        self.web.router.add_get("/login/oauth/authorize", self._oauth_authorize)
        self.web.router.add_post("/login/oauth/access_token", self._oauth_access_token)
        # The App manifest flow: the registration page and the code conversion.
        self.manifest_apps: dict[str, FakeManifestApp] = {}  # code → registration
        self._handlers[("POST", "/app-manifests/{code}/conversions")] = self._convert_manifest
        self.web.router.add_post("/settings/apps/new", self._new_app_from_manifest)
        self.web.router.add_post(
            "/organizations/{org}/settings/apps/new", self._new_app_from_manifest
        )
        self._web_server: TestServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeGitHub:
        self._server = TestServer(self.app, host="127.0.0.1", port=0)
        await self._server.start_server()
        self._web_server = TestServer(self.web, host="127.0.0.1", port=0)
        await self._web_server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self._web_server is not None:
            await self._web_server.close()
            self._web_server = None

    @property
    def web_url(self) -> str:
        """Web base like ``https://github.com`` (OAuth pages), no trailing slash."""
        if self._web_server is None:
            raise RuntimeError("the fake GitHub is not started")
        return str(self._web_server.make_url("")).rstrip("/")

    # -- OAuth: the web flow GitHub runs for a signer ----------------------------------------------

    def add_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str) -> FakeOAuthApp:
        app = FakeOAuthApp(client_id, client_secret, redirect_uri)
        self.oauth_apps[client_id] = app
        return app

    def set_emails(self, login: str, *emails: tuple[str, bool] | tuple[str, bool, bool]) -> None:
        """``/user/emails`` of ``login``: (email, verified[, primary]) items, first is primary."""
        self.user(login)
        self.user_emails[login.lower()] = [
            {
                "email": e[0],
                "verified": e[1],
                "primary": e[2] if len(e) > 2 else i == 0,
                "visibility": "public" if i == 0 else None,
            }
            for i, e in enumerate(emails)
        ]

    async def _oauth_authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        app = self.oauth_apps.get(q.get("client_id", ""))
        if app is None:
            return web.Response(status=404, text="unknown client_id")
        redirect_uri = q.get("redirect_uri", app.redirect_uri)
        if not redirect_uri.startswith(app.redirect_uri):
            return web.Response(status=400, text="redirect_uri_mismatch")
        if self.signed_in is None:
            return web.Response(status=401, text="sign in to GitHub first (fake.signed_in)")
        challenge = q.get("code_challenge")
        if challenge and q.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="unsupported code_challenge_method")
        code = secrets.token_hex(10)
        self.grants[code] = FakeGrant(
            code, app.client_id, redirect_uri, self.signed_in, challenge, self.clock() + 600
        )
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(redirect_uri + sep + urllib.parse.urlencode(params))

    async def _oauth_access_token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            form = {k: str(v) for k, v in (await request.json()).items()}
        else:
            form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_exchanges.append({k: v for k, v in form.items() if k != "client_secret"})
        app = self.oauth_apps.get(form.get("client_id", ""))
        if app is None or not secrets.compare_digest(
            form.get("client_secret", ""), app.client_secret
        ):
            return web.json_response({"error": "incorrect_client_credentials"})
        grant = self.grants.get(form.get("code", ""))
        if (
            grant is None
            or grant.used
            or grant.expires_at < self.clock()
            or grant.client_id != app.client_id
        ):
            return web.json_response({"error": "bad_verification_code"})
        grant.used = True
        if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
            return web.json_response({"error": "redirect_uri_mismatch"})
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not secrets.compare_digest(expected, grant.code_challenge):
                return web.json_response({"error": "bad_verification_code"})
        token = "gho_" + secrets.token_hex(18)
        self.user_tokens[token] = grant.login
        return web.json_response({"access_token": token, "token_type": "bearer", "scope": ""})

    def _user_token(self, ctx: _Ctx) -> FakeUser:
        scheme, _, credential = ctx.request.headers.get("Authorization", "").partition(" ")
        login = self.user_tokens.get(credential) if scheme.lower() in ("token", "bearer") else None
        if login is None:
            raise _HTTPError(401, "Bad credentials")
        return self.user(login)

    async def _get_user(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        return 200, self._public_user_json(self._user_token(ctx), ctx), {}

    def _public_user_json(self, u: FakeUser, ctx: _Ctx) -> dict[str, Any]:
        """A ``public-user`` object, as ``GET /user`` and ``GET /user/{account_id}`` answer."""
        data = self._user_json(u, ctx.api, ctx.web)
        data.update(
            {
                "name": None,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "hireable": None,
                "bio": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": "2020-01-01T00:00:00Z",
                "updated_at": "2020-01-01T00:00:00Z",
            }
        )
        return data

    async def _get_user_by_login(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /users/{username}``: any token; an account nobody created is a 404."""
        u = self.users.get(ctx.params["username"].lower())
        if u is None:
            raise _HTTPError(404, "Not Found")
        return 200, self._public_user_json(u, ctx), {}

    async def _get_user_emails(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        u = self._user_token(ctx)
        return 200, list(self.user_emails.get(u.login.lower(), [])), {}

    async def _get_user_by_id(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /user/{account_id}`` ("Get a user using their ID"): public data, asked here
        with an installation token; an id no account has is a 404."""
        self._installation(ctx)
        wanted = int(ctx.params["account_id"])
        for u in self.users.values():
            if u.id == wanted:
                return 200, self._public_user_json(u, ctx), {}
        raise _HTTPError(404, "Not Found")

    # -- the App manifest flow (https://docs.github.com/apps/sharing-github-apps/
    #    registering-a-github-app-from-a-manifest) -------------------------------------------------

    async def _new_app_from_manifest(self, request: web.Request) -> web.StreamResponse:
        """The page GitHub shows for a posted manifest, as if its owner clicked *Create*: the
        manifest must be valid JSON with ``url`` and ``hook_attributes.url``; GitHub then
        redirects to ``redirect_url`` with a one-hour, single-use ``code`` and the ``state``."""
        form = await request.post()
        try:
            manifest = json.loads(str(form.get("manifest", "")))
        except ValueError:
            return web.Response(status=422, text="manifest is not JSON")
        if (
            not isinstance(manifest, dict)
            or not isinstance(manifest.get("url"), str)
            or not isinstance(manifest.get("hook_attributes"), dict)
            or not isinstance(manifest["hook_attributes"].get("url"), str)
        ):
            return web.Response(status=422, text="manifest needs url and hook_attributes.url")
        redirect = manifest.get("redirect_url")
        if not isinstance(redirect, str):
            return web.Response(status=422, text="manifest needs a redirect_url here")
        callbacks = manifest.get("callback_urls", [])
        if not isinstance(callbacks, list) or len(callbacks) > 10:
            return web.Response(status=422, text="callback_urls: at most 10 URLs")
        code = secrets.token_hex(16)
        name = str(manifest.get("name") or "app")
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"
        state = request.query.get("state")
        self.manifest_apps[code] = FakeManifestApp(
            code=code,
            manifest=manifest,
            org=request.match_info.get("org"),
            state=state,
            expires_at=self.clock() + 3600,
            app_id=self.next_id(),
            slug=slug,
        )
        params = {"code": code}
        if state is not None:
            params["state"] = state
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(redirect + sep + urllib.parse.urlencode(params))

    async def _convert_manifest(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        reg = self.manifest_apps.get(ctx.params["code"])
        if reg is None or reg.converted or reg.expires_at <= self.clock():
            raise _HTTPError(404, "Not Found")
        reg.converted = True
        owner = self.user(reg.org or "octocat")
        perms = reg.manifest.get("default_permissions") or {}
        now = _iso(self.clock())
        body = {
            "id": reg.app_id,
            "slug": reg.slug,
            "node_id": f"MDM6QXBw{reg.app_id}",
            "client_id": f"Iv1.{secrets.token_hex(8)}",
            "owner": self._user_json(owner, ctx.api, ctx.web),
            "name": str(reg.manifest.get("name") or reg.slug),
            "description": reg.manifest.get("description"),
            "external_url": reg.manifest["url"],
            "html_url": f"{self.web_url}/apps/{reg.slug}",
            "created_at": now,
            "updated_at": now,
            "permissions": {str(k): str(v) for k, v in perms.items()},
            "events": [str(e) for e in reg.manifest.get("default_events") or []],
            "installations_count": 0,
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20),
            "pem": generate_app_keypair().private_pem,
        }
        return 201, body, {}

    async def __aenter__(self) -> FakeGitHub:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

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

    # -- seeding helpers -------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

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

    def _take_fault(self, method: str, route: str) -> Fault | None:
        for f in self.faults:
            if f.method == method and f.route == route and f.times > 0:
                f.times -= 1
                return f
        return None

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

    # -- merge queues and check runs: the events GitHub sends -------------------------------------

    def add_merge_group(self, pr: FakePR) -> FakeMergeGroup:
        """Queue ``pr``: GitHub makes a merge commit on ``gh-readonly-queue/<base>/pr-<N>-<sha>``
        and waits for the required checks on it."""
        group = FakeMergeGroup(pr.repo, pr, _sha(), pr.base_sha, pr.base_ref)
        self.merge_groups.append(group)
        return group

    def merge_group_event(
        self,
        group: FakeMergeGroup,
        *,
        action: str = "checks_requested",
        head_ref: str | None = None,
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``merge_group`` delivery body for ``group``, shaped like the real example."""
        payload = webhook_example("merge_group", "checks_requested")
        api, web_base = "https://api.github.com", "https://github.com"
        payload["action"] = action
        mg = payload["merge_group"]
        mg.update(
            head_sha=group.head_sha,
            head_ref=head_ref if head_ref is not None else group.head_ref,
            base_sha=group.base_sha,
            base_ref=f"refs/heads/{group.base_ref}",
        )
        mg["head_commit"]["id"] = group.head_sha
        if action == "destroyed":
            payload["reason"] = "dequeued"
        payload["repository"] = self._repo_json(group.repo, api, web_base)
        payload["sender"] = self._user_json(group.pr.user, api, web_base)
        self._set_installation(payload, group.repo, installation_id)
        return payload

    def check_run_event(
        self,
        run: FakeCheckRun,
        *,
        action: str = "rerequested",
        identifier: str | None = None,
        sender: str = "alice",
        app_id: int | None = None,
        pull_requests: bool = True,
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``check_run`` delivery body for ``run``, as GitHub sends it when someone clicks
        *Re-run* (``rerequested``) or a button of the run (``requested_action`` with its
        ``identifier``). ``pull_requests=False`` is a fork PR's run: GitHub names no PR."""
        kind = "requested_action" if action == "requested_action" else "rerequested"
        payload = webhook_example("check_run", kind)
        api, web_base = "https://api.github.com", "https://github.com"
        payload["action"] = action
        cr = payload["check_run"]
        cr.update(
            id=run.id,
            head_sha=run.head_sha,
            name=run.name,
            status=run.status,
            conclusion=run.conclusion,
            url=f"{api}/repos/{run.repo.full_name}/check-runs/{run.id}",
            html_url=f"{web_base}/{run.repo.full_name}/runs/{run.id}",
            details_url=run.details_url,
            pull_requests=self._check_pulls(run.repo, run.head_sha, api) if pull_requests else [],
        )
        cr["app"]["id"] = int(self.app_id) if app_id is None else app_id
        cr["check_suite"]["head_sha"] = run.head_sha
        cr["check_suite"]["app"]["id"] = cr["app"]["id"]
        if action == "requested_action":
            payload["requested_action"] = {"identifier": identifier or "recheck"}
        else:
            payload.pop("requested_action", None)
        payload["repository"] = self._repo_json(run.repo, api, web_base)
        payload["sender"] = self._user_json(self.user(sender), api, web_base)
        self._set_installation(payload, run.repo, installation_id)
        return payload

    def check_suite_event(
        self,
        repo_name: str,
        head_sha: str,
        *,
        action: str = "rerequested",
        sender: str = "alice",
        app_id: int | None = None,
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """A ``check_suite`` delivery body (*Re-run all checks* is ``rerequested``)."""
        payload = webhook_example("check_suite", action)
        api, web_base = "https://api.github.com", "https://github.com"
        repo = self.repo(repo_name)
        payload["action"] = action
        cs = payload["check_suite"]
        cs.update(
            head_sha=head_sha,
            after=head_sha,
            pull_requests=self._check_pulls(repo, head_sha, api),
        )
        cs["app"]["id"] = int(self.app_id) if app_id is None else app_id
        payload["repository"] = self._repo_json(repo, api, web_base)
        payload["sender"] = self._user_json(self.user(sender), api, web_base)
        self._set_installation(payload, repo, installation_id)
        return payload

    def _check_pulls(self, repo: FakeRepo, sha: str, api: str) -> list[dict[str, Any]]:
        """The ``pull_requests`` of a check run or suite: the open PRs whose head is ``sha``."""
        out = []
        for issue in self.issues.values():
            if isinstance(issue, FakePR) and issue.repo is repo and issue.head_sha == sha:
                ref = {"id": repo.id, "url": f"{api}/repos/{repo.full_name}", "name": repo.name}
                out.append(
                    {
                        "url": f"{api}/repos/{repo.full_name}/pulls/{issue.number}",
                        "id": issue.id,
                        "number": issue.number,
                        "head": {"ref": issue.head_ref, "sha": issue.head_sha, "repo": ref},
                        "base": {"ref": issue.base_ref, "sha": issue.base_sha, "repo": ref},
                    }
                )
        return out

    # -- webhook payloads consistent with the state ------------------------------------------------

    def pull_request_event(
        self,
        pr: FakePR,
        *,
        action: str = "opened",
        installation_id: int | None = None,
        sender: str | None = None,
    ) -> dict[str, Any]:
        """A ``pull_request`` delivery body for ``pr``, shaped like the real example payload."""
        payload = _webhook_template("pull_request.opened")
        api, web_base = "https://api.github.com", "https://github.com"
        payload["action"] = action
        payload["number"] = pr.number
        payload["pull_request"] = self._pr_json(pr, api, web_base)
        payload["repository"] = self._repo_json(pr.repo, api, web_base)
        payload["sender"] = self._user_json(self.user(sender) if sender else pr.user, api, web_base)
        if action == "synchronize":
            payload["before"] = pr.commits[-2].sha if len(pr.commits) > 1 else pr.base_sha
            payload["after"] = pr.head_sha
        if action == "edited":
            payload["changes"] = {"base": {"ref": {"from": "old-base"}, "sha": {"from": _sha()}}}
        self._set_installation(payload, pr.repo, installation_id)
        return payload

    def issue_comment_event(
        self,
        comment: FakeComment,
        *,
        action: str = "created",
        installation_id: int | None = None,
    ) -> dict[str, Any]:
        """An ``issue_comment`` delivery body for ``comment``."""
        payload = _webhook_template("issue_comment.created")
        api, web_base = "https://api.github.com", "https://github.com"
        issue = self.issues[(comment.repo.full_name.lower(), comment.issue_number)]
        payload["action"] = action
        iss = payload["issue"]
        iss.update(
            number=issue.number,
            id=issue.id,
            title=issue.title,
            state=issue.state,
            user=self._user_json(issue.user, api, web_base),
            labels=[self._label_json(issue.repo, n, api) for n in issue.labels],
        )
        iss.pop("pull_request", None)
        if issue.is_pull:
            base = f"{web_base}/{issue.repo.full_name}/pull/{issue.number}"
            iss["pull_request"] = {
                "url": f"{api}/repos/{issue.repo.full_name}/pulls/{issue.number}",
                "html_url": base,
                "diff_url": base + ".diff",
                "patch_url": base + ".patch",
                "merged_at": None,
            }
        payload["comment"] = self._comment_json(comment, api, web_base)
        payload["repository"] = self._repo_json(comment.repo, api, web_base)
        payload["sender"] = self._user_json(comment.user, api, web_base)
        self._set_installation(payload, comment.repo, installation_id)
        return payload

    def _set_installation(
        self, payload: dict[str, Any], repo: FakeRepo, installation_id: int | None
    ) -> None:
        if installation_id is None:
            installation_id = next(
                (i.id for i in self.installations.values() if i.can_see(repo)), None
            )
        if installation_id is None:
            payload.pop("installation", None)
        else:
            payload["installation"] = {"id": installation_id, "node_id": f"MDIz{installation_id}"}

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
        prefix = ""
        if raw == GHES_PREFIX or raw.startswith(GHES_PREFIX + "/"):
            prefix, raw = GHES_PREFIX, raw[len(GHES_PREFIX) :] or "/"
        body = await request.read()
        query = list(request.query.items())
        rec = Recorded(
            method=request.method,
            path=urllib.parse.unquote(raw),
            raw_path=raw,
            prefix=prefix,
            query=dict(query),
            json=None,
            headers={k: request.headers[k] for k in RECORDED_HEADERS if k in request.headers},
        )
        self.requests.append(rec)
        try:
            rec.json = json.loads(body) if body.strip() else None
        except ValueError:
            rec.json = None

        if raw in GRAPHQL_PATHS:
            rec.route = "/graphql"
            return await self._serve_graphql(request, rec)
        matched = self.openapi.match(raw)
        if matched is None:
            return self._violation(rec, "route", [f"{raw} is not a path of GitHub's REST API"])
        route, params = matched
        rec.route = route.template
        op = route.methods.get(request.method.lower())
        if op is None:
            return self._violation(rec, "method", [f"{request.method} not allowed on {raw}"])
        problems, data = self.openapi.check_request(
            op, params, query, body, request.headers.get("Content-Type", "")
        )
        if problems:
            return self._violation(rec, "request", problems)

        faulty = await self._fault(rec, request.method, route.template)
        if faulty is not None:
            return faulty

        handler = self._handlers.get((request.method, route.template))
        if handler is None:
            rec.status = 501
            self.violations.append(
                Violation(rec.method, rec.path, rec.route, "unimplemented", ["not in the fake"])
            )
            return web.json_response({"message": "not implemented by the fake"}, status=501)

        origin = str(request.url.origin())
        ctx = _Ctx(request, params, request.query, data, origin + prefix, origin)
        try:
            status, payload, headers = await handler(ctx)
        except _HTTPError as exc:
            status, payload, headers = exc.status, exc.body, exc.headers
        rec.status = status
        self._check_response(rec, op, status, payload)
        headers = {**self._rate_headers(), **headers}
        if payload is None and status == 204:
            return web.Response(status=204, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    async def _fault(self, rec: Recorded, method: str, route: str) -> web.Response | None:
        fault = self._take_fault(method, route)
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

    # -- GraphQL ---------------------------------------------------------------------------------

    async def _serve_graphql(self, request: web.Request, rec: Recorded) -> web.Response:
        if request.method != "POST":
            return self._violation(rec, "method", [f"{request.method} not allowed on /graphql"])
        faulty = await self._fault(rec, "POST", "/graphql")
        if faulty is not None:
            return faulty
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        tok = self.tokens.get(credential) if scheme.lower() in ("token", "bearer") else None
        inst = self.installations.get(tok.installation_id) if tok is not None else None
        if tok is None or tok.revoked or tok.expires_at <= self.clock() or inst is None:
            rec.status = 401
            body = {
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/graphql",
            }
            return web.json_response(body, status=401)
        body = rec.json if isinstance(rec.json, dict) else {}
        query = body.get("query")
        variables: Any = body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            return self._violation(rec, "graphql", ["the body needs a query string"])
        self.graphql_queries.append(query)
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as exc:
            return self._violation(rec, "graphql", [exc.message])
        problems = [e.message for e in graphql.validate(_graphql_schema(), document)]
        if problems:
            return self._violation(rec, "graphql", problems)
        result = graphql.execute(
            _graphql_schema(),
            document,
            root_value=self._gql_root(inst, tok.permissions),
            variable_values=variables,
        )
        assert not isinstance(result, Awaitable)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_gql_error_json(e) for e in result.errors]
        rec.status = 200
        headers = {**self._rate_headers(), "x-ratelimit-resource": "graphql"}
        return web.json_response(answer, headers=headers)

    def _gql_root(self, inst: FakeInstallation, granted: Mapping[str, str]) -> dict[str, Any]:
        def repository(_info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
            repo = self.repos.get(f"{owner}/{name}".lower())
            if repo is None or not inst.can_see(repo):
                raise _GqlError(
                    "NOT_FOUND",
                    f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                )
            return self._gql_repository(granted, repo)

        return {"repository": repository}

    def _gql_granted(self, granted: Mapping[str, str], name: str) -> None:
        if LEVELS.get(granted.get(name, ""), 0) < LEVELS["read"]:
            raise _GqlError("FORBIDDEN", NOT_ACCESSIBLE)

    def _gql_repository(self, granted: Mapping[str, str], repo: FakeRepo) -> dict[str, Any]:
        def pull_request(_info: Any, number: int) -> dict[str, Any]:
            self._gql_granted(granted, "pull_requests")
            pr = self.issues.get((repo.full_name.lower(), number))
            if not isinstance(pr, FakePR):
                raise _GqlError(
                    "NOT_FOUND", f"Could not resolve to a PullRequest with the number of {number}."
                )
            return {
                "number": pr.number,
                "headRefOid": pr.head_sha,
                "baseRefOid": pr.base_sha,
                "commits": lambda _info, **args: _gql_connection(
                    pr.commits, args, lambda c: {"commit": lambda _i: self._gql_commit(granted, c)}
                ),
            }

        return {"name": repo.name, "nameWithOwner": repo.full_name, "pullRequest": pull_request}

    def _gql_commit(self, granted: Mapping[str, str], c: FakeCommit) -> dict[str, Any]:
        # Which permission GraphQL's commit data needs is not documented: the fake asks for
        # contents=read on top of pull_requests=read, the stricter reading.
        self._gql_granted(granted, "contents")
        authors = [self._gql_actor(c.author_name, c.author_email, c.author)]
        for name, email in _trailers(c.message):
            authors.append(self._gql_actor(name, email, self._user_by_email(email)))
        return {
            "oid": c.sha,
            "message": c.message,
            "author": authors[0],
            "committer": self._gql_actor(c.committer_name, c.committer_email, c.committer),
            "authors": lambda _info, **args: _gql_connection(authors, args, lambda a: a),
        }

    def _gql_actor(self, name: str, email: str, user: FakeUser | None) -> dict[str, Any]:
        linked = None
        if user is not None and user.type == "User":  # GitActor.user is a User: never a bot
            linked = {"login": user.login, "databaseId": user.id, "id": f"U_{user.id}"}
        return {"name": name, "email": email, "date": "2024-01-01T00:00:00Z", "user": linked}

    def _user_by_email(self, email: str) -> FakeUser | None:
        """The account GitHub links to ``email``: one with it verified, or a noreply address's."""
        wanted = email.strip().lower()
        for login, items in self.user_emails.items():
            if any(i["email"].lower() == wanted and i["verified"] for i in items):
                return self.users.get(login.lower())
        match = re.fullmatch(r"([0-9]+)\+[^@]+@users\.noreply\.github\.com", wanted)
        if match is not None:
            return next((u for u in self.users.values() if u.id == int(match.group(1))), None)
        return None

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

    # -- handlers: App ---------------------------------------------------------------------------

    async def _create_token(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        self._check_jwt(ctx)
        installation_id = int(ctx.params["installation_id"])
        inst = self.installations.get(installation_id)
        if inst is None:
            raise _HTTPError(404, "Not Found")
        if inst.suspended:
            raise _HTTPError(403, "This installation has been suspended")
        self.token_requests[installation_id] += 1
        expires_at = self.clock() + self.token_lifetime_s
        value = "ghs_" + secrets.token_urlsafe(27)
        self.tokens[value] = FakeToken(
            value, installation_id, expires_at, permissions=dict(inst.permissions)
        )
        body = {
            "token": value,
            "expires_at": _iso(expires_at),
            "permissions": dict(inst.permissions),
            "repository_selection": "all" if inst.repos is None else "selected",
        }
        return 201, body, {}

    async def _get_app(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /app``: the App the JWT authenticates (its ``slug`` makes its bot's login)."""
        self._check_jwt(ctx)
        return 200, self._app_json(ctx.api, ctx.web), {}

    def _app_json(self, api: str, web_base: str) -> dict[str, Any]:
        owner = FakeUser("octo-org", 1, "Organization")  # the App's owner: no account here
        return {
            "id": int(self.app_id),
            "slug": self.app_slug,
            "node_id": f"MDM6QXBw{self.app_id}",
            "client_id": "Iv1.fakeclientid",
            "owner": self._user_json(owner, api, web_base),
            "name": self.app_slug,
            "description": "Checks that every contributor of a pull request has signed the CLA.",
            "external_url": "https://cla.example.org",
            "html_url": f"{web_base}/apps/{self.app_slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": dict(manifest_permissions()),
            "events": ["issue_comment", "pull_request"],
        }

    def _delivery_item(self, d: FakeDelivery) -> dict[str, Any]:
        return {
            "id": d.id,
            "guid": d.guid,
            "delivered_at": d.delivered_at,
            "redelivery": d.redelivery,
            "duration": 0.27,
            "status": d.status,
            "status_code": d.status_code,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "throttled_at": None,
        }

    async def _list_deliveries(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        self._check_jwt(ctx)
        items = list(reversed(self.deliveries))  # newest first
        wanted = ctx.query.get("status")
        if wanted == "success":
            items = [d for d in items if d.status == "OK"]
        elif wanted == "failure":
            items = [d for d in items if d.status != "OK"]
        per_page = max(1, min(100, int(ctx.query.get("per_page", 30))))
        cursor = ctx.query.get("cursor", "")
        start = int(cursor) if cursor.isdigit() else 0
        chunk = items[start : start + per_page]
        headers = {}
        if start + per_page < len(items):
            nxt = ctx.request.url.update_query(per_page=per_page, cursor=str(start + per_page))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return 200, [self._delivery_item(d) for d in chunk], headers

    def _find_delivery(self, ctx: _Ctx) -> FakeDelivery:
        self._check_jwt(ctx)
        wanted = int(ctx.params["delivery_id"])
        for d in self.deliveries:
            if d.id == wanted:
                return d
        raise _HTTPError(404, "Not Found")

    async def _get_delivery(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        d = self._find_delivery(ctx)
        body = {
            **self._delivery_item(d),
            "url": "https://cla.example.org/webhooks/github",
            "request": {"headers": {"X-GitHub-Delivery": d.guid, "X-GitHub-Event": d.event}},
            "response": {"headers": {}, "payload": None},
        }
        body["request"]["payload"] = {"action": d.action} if d.action else {}
        return 200, body, {}

    async def _redeliver(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        d = self._find_delivery(ctx)
        self.redelivered.append(d.id)
        status = self.redelivery_status_code
        if self.hook_url is not None and d.payload is not None and not self.hooks_blocked:
            status = await self._post_hook(d.guid, d.event, d.payload)
        self.add_delivery(
            guid=d.guid,
            event=d.event,
            action=d.action,
            status_code=status,
            installation_id=d.installation_id,
            repository_id=d.repository_id,
            redelivery=True,
            payload=d.payload,
        )
        return 202, {}, {}

    # -- webhooks: GitHub posting to the App's webhook URL -----------------------------------------

    async def _post_hook(self, guid: str, event: str, payload: dict[str, Any]) -> int:
        import aiohttp

        body = json.dumps(payload).encode()
        digest = hmac.new(self.hook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-Hub-Signature-256": "sha256=" + digest,
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
        }
        assert self.hook_url is not None
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(self.hook_url, data=body, headers=headers) as resp,
            ):
                return resp.status
        except aiohttp.ClientError:
            return 0

    async def send_hook(self, event: str, payload: dict[str, Any]) -> FakeDelivery:
        """Deliver ``payload`` to ``hook_url`` as GitHub would, and record the attempt in the
        App's delivery log (with ``hooks_blocked`` the attempt fails: nothing reaches the bot)."""
        guid = secrets.token_hex(16)
        blocked = self.hooks_blocked or self.hook_url is None
        status = 0 if blocked else await self._post_hook(guid, event, payload)
        inst = payload.get("installation")
        return self.add_delivery(
            guid=guid,
            event=event,
            action=payload.get("action"),
            status_code=status,
            installation_id=inst.get("id") if isinstance(inst, dict) else None,
            payload=payload,
        )

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

    def _label_issue(self, issue: FakeIssue, name: str) -> None:
        if name.lower() not in issue.repo.labels:
            issue.repo.labels[name.lower()] = FakeLabel(self.next_id(), name)
        canonical = issue.repo.labels[name.lower()].name
        if canonical.lower() not in (n.lower() for n in issue.labels):
            issue.labels.append(canonical)

    def _labels_json(self, issue: FakeIssue, api: str) -> list[dict[str, Any]]:
        return [self._label_json(issue.repo, n, api) for n in issue.labels]

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

    # -- handlers: statuses and permissions ------------------------------------------------------

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

    def _check_run_json(self, r: FakeCheckRun, api: str, web_base: str) -> dict[str, Any]:
        url = f"{api}/repos/{r.repo.full_name}/check-runs/{r.id}"
        return {
            "id": r.id,
            "node_id": f"MDg6Q2hlY2tSdW4{r.id}",
            "head_sha": r.head_sha,
            "external_id": "",
            "name": r.name,
            "url": url,
            "html_url": f"{web_base}/{r.repo.full_name}/runs/{r.id}",
            "details_url": r.details_url,
            "status": r.status,
            "conclusion": r.conclusion,
            "started_at": r.started_at,
            "completed_at": r.completed_at,
            "output": {
                "title": r.title,
                "summary": r.summary,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "check_suite": {"id": r.id + 1_000_000},
            "app": self._app_json(api, web_base),
            "pull_requests": [],
        }

    async def _list_statuses(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = self._repo(ctx)
        items = [s for s in reversed(self.statuses.get(ctx.params["ref"], [])) if s.repo is repo]
        chunk, headers = self._page(ctx, items)
        return 200, [self._status_json(s, ctx.api, ctx.web) for s in chunk], headers

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

    # -- JSON shapes (validated against the OpenAPI response schemas) ------------------------------

    def _user_json(self, u: FakeUser, api: str, web_base: str) -> dict[str, Any]:
        url = f"{api}/users/{u.login}"
        return {
            "login": u.login,
            "id": u.id,
            "node_id": f"MDQ6VXNlcj{u.id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{web_base}/{u.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": u.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _repo_json(self, r: FakeRepo, api: str, web_base: str) -> dict[str, Any]:
        url = f"{api}/repos/{r.full_name}"
        templated = {
            "archive_url": "/{archive_format}{/ref}",
            "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}",
            "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}",
            "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}",
            "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}",
            "contributors_url": "/contributors",
            "deployments_url": "/deployments",
            "downloads_url": "/downloads",
            "events_url": "/events",
            "forks_url": "/forks",
            "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "hooks_url": "/hooks",
            "issue_comment_url": "/issues/comments{/number}",
            "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}",
            "keys_url": "/keys{/key_id}",
            "labels_url": "/labels{/name}",
            "languages_url": "/languages",
            "merges_url": "/merges",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}",
            "releases_url": "/releases{/id}",
            "stargazers_url": "/stargazers",
            "statuses_url": "/statuses/{sha}",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "tags_url": "/tags",
            "teams_url": "/teams",
            "trees_url": "/git/trees{/sha}",
        }
        host = urllib.parse.urlsplit(web_base).netloc
        body: dict[str, Any] = {
            "id": r.id,
            "node_id": f"MDEwOlJlcG9zaXRvcnk{r.id}",
            "name": r.name,
            "full_name": r.full_name,
            "owner": self._user_json(r.owner, api, web_base),
            "private": r.private,
            "html_url": f"{web_base}/{r.full_name}",
            "description": None,
            "fork": False,
            "url": url,
            **{k: url + v for k, v in templated.items()},
            "git_url": f"git://{host}/{r.full_name}.git",
            "ssh_url": f"git@{host}:{r.full_name}.git",
            "clone_url": f"{web_base}/{r.full_name}.git",
            "svn_url": f"{web_base}/{r.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": 1,
            "default_branch": r.default_branch,
            "open_issues": 0,
            "open_issues_count": 0,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "archived": False,
            "disabled": False,
            "visibility": "private" if r.private else "public",
            "license": None,
            "pushed_at": "2024-01-01T00:00:00Z",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        return body

    def _label_json(self, repo: FakeRepo, name: str, api: str) -> dict[str, Any]:
        label = repo.labels.get(name.lower()) or FakeLabel(0, name)
        quoted = urllib.parse.quote(label.name, safe="")
        return {
            "id": label.id,
            "node_id": f"MDU6TGFiZWw{label.id}",
            "url": f"{api}/repos/{repo.full_name}/labels/{quoted}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
        }

    def _pr_json(self, pr: FakePR, api: str, web_base: str) -> dict[str, Any]:
        full = pr.repo.full_name
        url = f"{api}/repos/{full}/pulls/{pr.number}"
        issue_url = f"{api}/repos/{full}/issues/{pr.number}"
        html = f"{web_base}/{full}/pull/{pr.number}"
        repo_json = self._repo_json(pr.repo, api, web_base)
        owner_json = self._user_json(pr.repo.owner, api, web_base)
        author_json = self._user_json(pr.user, api, web_base)
        links = {
            "self": {"href": url},
            "html": {"href": html},
            "issue": {"href": issue_url},
            "comments": {"href": f"{issue_url}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {"href": f"{api}/repos/{full}/pulls/comments{{/number}}"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{api}/repos/{full}/statuses/{pr.head_sha}"},
        }
        return {
            "url": url,
            "id": pr.id,
            "node_id": f"MDExOlB1bGxSZXF1ZXN0{pr.id}",
            "html_url": html,
            "diff_url": html + ".diff",
            "patch_url": html + ".patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/repos/{full}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{api}/repos/{full}/statuses/{pr.head_sha}",
            "number": pr.number,
            "state": "closed" if pr.state in ("closed", "merged") else "open",
            "locked": False,
            "title": pr.title,
            "user": author_json,
            "body": None,
            "labels": self._labels_json(pr, api),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "closed_at": None if pr.state == "open" else "2024-01-02T00:00:00Z",
            "merged_at": "2024-01-02T00:00:00Z" if pr.merged else None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{pr.user.login}:{pr.head_ref}",
                "ref": pr.head_ref,
                "sha": pr.head_sha,
                "user": author_json,
                "repo": repo_json,
            },
            "base": {
                "label": f"{pr.repo.owner.login}:{pr.base_ref}",
                "ref": pr.base_ref,
                "sha": pr.base_sha,
                "user": owner_json,
                "repo": repo_json,
            },
            "_links": links,
            "author_association": "CONTRIBUTOR",
            "auto_merge": None,
            "draft": pr.draft,
            "merged": pr.merged,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(self.comments_of(pr)),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(pr.commits),
            "additions": len(pr.commits),
            "deletions": 0,
            "changed_files": 1 if pr.commits else 0,
        }

    def _commit_json(
        self, repo: FakeRepo, c: FakeCommit, api: str, web_base: str
    ) -> dict[str, Any]:
        full = repo.full_name
        return {
            "url": f"{api}/repos/{full}/commits/{c.sha}",
            "sha": c.sha,
            "node_id": f"MDY6Q29tbWl0{c.sha[:12]}",
            "html_url": f"{web_base}/{full}/commit/{c.sha}",
            "comments_url": f"{api}/repos/{full}/commits/{c.sha}/comments",
            "commit": {
                "url": f"{api}/repos/{full}/git/commits/{c.sha}",
                "author": {"name": c.author_name, "email": c.author_email, "date": c.date},
                "committer": {
                    "name": c.committer_name,
                    "email": c.committer_email,
                    "date": c.date,
                },
                "message": c.message,
                "comment_count": 0,
                "tree": {"sha": c.sha[::-1], "url": f"{api}/repos/{full}/git/trees/{c.sha[::-1]}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "payload": None,
                    "signature": None,
                    "verified_at": None,
                },
            },
            "author": self._user_json(c.author, api, web_base) if c.author else None,
            "committer": self._user_json(c.committer, api, web_base) if c.committer else None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/repos/{full}/commits/{p}",
                    "html_url": f"{web_base}/{full}/commit/{p}",
                }
                for p in c.parents
            ],
        }

    def _comment_json(self, c: FakeComment, api: str, web_base: str) -> dict[str, Any]:
        full = c.repo.full_name
        url = f"{api}/repos/{full}/issues/comments/{c.id}"
        counts = Counter(r.content for r in self.reactions if r.comment_id == c.id)
        reactions: dict[str, Any] = {
            "url": f"{url}/reactions",
            "total_count": sum(counts.values()),
        }
        for content in ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"):
            reactions[content] = counts.get(content, 0)
        return {
            "id": c.id,
            "node_id": f"MDEyOklzc3VlQ29tbWVudA{c.id}",
            "url": url,
            "html_url": f"{web_base}/{full}/pull/{c.issue_number}#issuecomment-{c.id}",
            "body": c.body,
            "user": self._user_json(c.user, api, web_base),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "issue_url": f"{api}/repos/{full}/issues/{c.issue_number}",
            "author_association": "NONE",
            "performed_via_github_app": None,
            "reactions": reactions,
        }

    def _status_json(self, s: FakeStatus, api: str, web_base: str) -> dict[str, Any]:
        return {
            "url": f"{api}/repos/{s.repo.full_name}/statuses/{s.sha}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{s.creator.id}?v=4",
            "id": s.id,
            "node_id": f"MDEzOlN0YXR1c0NvbnRleHQ{s.id}",
            "state": s.state,
            "description": s.description,
            "target_url": s.target_url,
            "context": s.context,
            "created_at": s.created_at,
            "updated_at": s.created_at,
            "creator": self._user_json(s.creator, api, web_base),
        }

    def _reaction_json(self, r: FakeReaction, api: str, web_base: str) -> dict[str, Any]:
        return {
            "id": r.id,
            "node_id": f"MDg6UmVhY3Rpb24{r.id}",
            "user": self._user_json(r.user, api, web_base),
            "content": r.content,
            "created_at": r.created_at,
        }


@functools.cache
def _graphql_schema() -> graphql.GraphQLSchema:
    """GitHub's published schema. It does not pass graphql-core's own schema checks (a few
    duplicate and deprecated interface fields), so it is taken as valid: queries are still
    checked against it in full."""
    sdl = gzip.decompress(GRAPHQL_SCHEMA.read_bytes()).decode("utf-8")
    return graphql.build_schema(sdl, assume_valid=True, assume_valid_sdl=True)


class _GqlError(Exception):
    """A GraphQL error as GitHub types them (``NOT_FOUND``, ``FORBIDDEN``, …)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _gql_error_json(error: graphql.GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = dict(error.formatted)
    if isinstance(error.original_error, _GqlError):
        out["type"] = error.original_error.kind
    return out


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _gql_connection(
    items: Sequence[Any], args: Mapping[str, Any], node: Callable[[Any], Any]
) -> dict[str, Any]:
    """A cursor connection over ``items`` (``first``/``after`` only, 1–100 as GitHub allows)."""
    first, after = args.get("first"), args.get("after")
    if args.get("last") is not None or args.get("before") is not None:
        raise _GqlError("UNSUPPORTED", "the fake pages forwards only (first/after)")
    if first is None:
        raise _GqlError(
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the connection.",
        )
    if not 1 <= first <= 100:
        raise _GqlError(
            "EXCESSIVE_PAGINATION",
            f"Requesting {first} records on the connection exceeds the `first` limit of 100"
            " records.",
        )
    start = 0
    if after is not None:
        decoded = base64.b64decode(after.encode()).decode()
        start = int(decoded.removeprefix("cursor:")) + 1
    chunk = list(items[start : start + first])
    end = start + len(chunk)
    return {
        "totalCount": len(items),
        "nodes": [node(x) for x in chunk],
        "edges": [{"cursor": _cursor(start + i), "node": node(x)} for i, x in enumerate(chunk)],
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if chunk else None,
            "endCursor": _cursor(end - 1) if chunk else None,
        },
    }


_TRAILER = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$", re.I | re.M)


def _trailers(message: str) -> list[tuple[str, str]]:
    """``Co-authored-by: Name <email>`` lines of a message, as GitHub lists co-authors."""
    return [(m.group(1), m.group(2)) for m in _TRAILER.finditer(message)]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@functools.cache
def _webhook_template_text(stem: str) -> str:
    return (WEBHOOK_FIXTURES / f"{stem}.json").read_text(encoding="utf-8")


def _webhook_template(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_webhook_template_text(stem))
    return copy.deepcopy(data)


def load_webhook_example(name: str) -> dict[str, Any]:
    """One of the plain example payloads in ``bot/sandbox/fakeforge/data/webhooks`` (e.g. ``ping``,
    ``pull_request.opened``, ``issue_comment.created.pr``)."""
    return _webhook_template(name)


@functools.cache
def _webhook_examples() -> dict[str, list[dict[str, Any]]]:
    with gzip.open(WEBHOOK_FIXTURES / "examples.json.gz", "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return {e["name"]: e["examples"] for e in data["events"]}


def webhook_example(event: str, action: str) -> dict[str, Any]:
    """A copy of the first example of ``event``/``action`` in ``@octokit/webhooks-examples``
    (``examples.json.gz``, see ``extract_examples.py``) that carries an ``installation``, as the
    App receives it (``merge_group``, ``check_run``, ``check_suite``)."""
    examples = [e for e in _webhook_examples()[event] if e.get("action") == action]
    chosen = next((e for e in examples if "installation" in e), examples[0])
    return copy.deepcopy(chosen)


def load_all_webhook_examples() -> list[tuple[str, dict[str, Any]]]:
    """Every (event name, payload) of ``@octokit/webhooks-examples``."""
    import gzip

    with gzip.open(WEBHOOK_FIXTURES / "examples.json.gz", "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return [(e["name"], ex) for e in data["events"] for ex in e["examples"]]
