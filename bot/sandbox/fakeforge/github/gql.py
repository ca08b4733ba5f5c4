"""GraphQL: every query validated against GitHub's published schema with graphql-core, then
executed against the fake's state, errors shaped as GitHub's.

graphql-core is a test dependency: where it is not installed (the sandbox, ``cla-bot demo``, on
the runtime's dependencies alone) queries cannot be checked, and the one query the bot sends
(its co-author query, kept as ``data/github/co-authors.graphql``) is answered from the same
resolvers; any other gets an error.
"""

from __future__ import annotations

import base64
import functools
import gzip
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.fakeforge.github.access import Access
from bot.sandbox.fakeforge.github.records import (
    CO_AUTHORS_QUERY_FILE,
    GRAPHQL_SCHEMA,
    LEVELS,
    NOT_ACCESSIBLE,
    FakeCommit,
    FakeInstallation,
    FakePR,
    FakeRepo,
    FakeUser,
    Recorded,
    _trailers,
)

if TYPE_CHECKING:
    import graphql


class GraphQLAPI(Access):
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
        if self.strict:
            self.graphql_queries.append(query)
        root = self._gql_root(inst, tok.permissions)
        try:
            problems, answer = _execute(root, query, variables)
        except ImportError:  # no graphql-core: the runtime's dependencies alone
            problems, answer = [], _co_authors_answer(root, query, variables)
        if problems:
            return self._violation(rec, "graphql", problems)
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
            authors.append(self._gql_actor(name, email, self.user_by_email(email)))
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


def _execute(
    root: Mapping[str, Any], query: str, variables: Mapping[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """(what is wrong with ``query`` against GitHub's schema, the answer) with graphql-core;
    ImportError where it is not installed."""
    import graphql

    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        return [exc.message], {}
    problems = [e.message for e in graphql.validate(_graphql_schema(), document)]
    if problems:
        return problems, {}
    result = graphql.execute(
        _graphql_schema(), document, root_value=root, variable_values=dict(variables)
    )
    assert not isinstance(result, Awaitable)
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [_gql_error_json(e) for e in result.errors]
    return [], answer


@functools.cache
def _graphql_schema() -> graphql.GraphQLSchema:
    """GitHub's published schema. It does not pass graphql-core's own schema checks (a few
    duplicate and deprecated interface fields), so it is taken as valid: queries are still
    checked against it in full."""
    import graphql

    sdl = gzip.decompress(GRAPHQL_SCHEMA.read_bytes()).decode("utf-8")
    return graphql.build_schema(sdl, assume_valid=True, assume_valid_sdl=True)


@functools.cache
def _co_authors_query() -> str:
    return CO_AUTHORS_QUERY_FILE.read_text("utf-8")


def _co_authors_answer(
    root: Mapping[str, Any], query: str, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The answer graphql-core would give to the co-author query, from the same resolvers
    (partial data and errors alike); an error for any other query."""
    if query.split() != _co_authors_query().split():
        return {"errors": [{"message": "without graphql-core the fake answers one query only"}]}
    owner, name, number = variables.get("owner"), variables.get("name"), variables.get("number")
    after = variables.get("after")
    if not (isinstance(owner, str) and isinstance(name, str) and isinstance(number, int)):
        return {"errors": [{"message": "owner, name and number are required"}]}
    errors: list[dict[str, Any]] = []

    def resolve(path: list[str | int], field: Callable[[], Any]) -> Any:
        try:
            return field()
        except _GqlError as exc:
            errors.append({"message": str(exc), "path": path, "type": exc.kind})
            return None

    def author(actor: Mapping[str, Any]) -> dict[str, Any]:
        user = actor["user"]
        linked = (
            None if user is None else {"login": user["login"], "databaseId": user["databaseId"]}
        )
        return {"email": actor["email"], "user": linked}

    def commit(i: int, node: Mapping[str, Any]) -> dict[str, Any] | None:
        path: list[str | int] = ["repository", "pullRequest", "commits", "nodes", i, "commit"]
        c = resolve(path, lambda: node["commit"](None))
        if c is None:
            return None  # a commit is non-null: the error empties its node
        authors = c["authors"](None, first=100)
        return {
            "commit": {"oid": c["oid"], "authors": {"nodes": list(map(author, authors["nodes"]))}}
        }

    data: dict[str, Any] = {"repository": None}
    repo = resolve(["repository"], lambda: root["repository"](None, owner=owner, name=name))
    if repo is not None:
        path: list[str | int] = ["repository", "pullRequest"]
        pr = resolve(path, lambda: repo["pullRequest"](None, number=number))
        data["repository"] = {"pullRequest": None}
        if pr is not None:
            page = pr["commits"](None, first=100, after=after)
            commits = {
                "totalCount": page["totalCount"],
                "pageInfo": {
                    "hasNextPage": page["pageInfo"]["hasNextPage"],
                    "endCursor": page["pageInfo"]["endCursor"],
                },
                "nodes": [commit(i, n) for i, n in enumerate(page["nodes"])],
            }
            data["repository"]["pullRequest"] = {"commits": commits}
    return {"data": data, **({"errors": errors} if errors else {})}


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
