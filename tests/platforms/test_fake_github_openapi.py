"""The fake GitHub itself: its OpenAPI checks, its fixtures, and the endpoints the client does
not cover yet (hook deliveries, listings)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from bot.core.model import RepoRef
from bot.platforms.base import ForgeError, RetryableForgeError
from bot.platforms.github.auth import make_app_jwt
from bot.platforms.github.client import CO_AUTHORS_QUERY, GitHubPlatform, GitHubSettings
from bot.platforms.github.events import comment_from_payload, pull_request_from_payload
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge.github import (
    DATA,
    OPENAPI_SUBSET,
    AppKeyPair,
    FakeGitHub,
    OpenAPI,
    load_all_webhook_examples,
)

APP_ID = "4242"
REPO = RepoRef(GITHUB, "octo", "hello")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEBHOOKS = DATA / "webhooks"


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def token_for(fake: FakeGitHub, session: aiohttp.ClientSession, keys: AppKeyPair) -> str:
    if 7 not in fake.installations:
        fake.add_installation(7)
    jwt = make_app_jwt(app_id=APP_ID, private_key=keys.private_pem, now=time.time())
    async with session.post(
        f"{fake.url}/app/installations/7/access_tokens",
        headers={"Authorization": f"Bearer {jwt}"},
    ) as resp:
        assert resp.status == 201
        token: str = (await resp.json())["token"]
        return token


# -- the subset ------------------------------------------------------------------------------------


def test_subset_is_small_and_records_its_source() -> None:
    assert OPENAPI_SUBSET.stat().st_size < 1_000_000
    api = OpenAPI.load()
    assert api.source["package"] == "@octokit/openapi"
    assert api.source["version"] == "23.0.2"


def test_fake_serves_exactly_the_subset(fake_github: FakeGitHub) -> None:
    ops = {
        (method.upper(), template)
        for template, methods in OpenAPI.load().doc["paths"].items()
        for method in methods
    }
    assert set(fake_github._handlers) == ops


def test_extract_openapi_keeps_property_names_and_follows_refs() -> None:
    script = load_script(FIXTURES / "github" / "extract_openapi.py")
    spec = {
        "openapi": "3.0.3",
        "info": {"version": "1.2.3"},
        "paths": {
            "/things/{id}": {
                "post": {
                    "operationId": "things/post",
                    "summary": "dropped",
                    "parameters": [{"$ref": "#/components/parameters/id"}],
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/t"}}
                        }
                    },
                    "responses": {"201": {"description": "ok"}},
                }
            }
        },
        "components": {
            "parameters": {
                "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            },
            "schemas": {
                "t": {
                    "type": "object",
                    "description": "dropped",
                    "properties": {
                        "description": {"type": "string", "description": "kept as a field"},
                        "child": {"$ref": "#/components/schemas/t"},  # a cycle
                    },
                }
            },
        },
    }
    out = script.extract(spec, source_file="x.json", operations=(("post", "/things/{id}"),))
    assert out["source"]["version"] == "1.2.3"
    op = out["paths"]["/things/{id}"]["post"]
    assert op["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    t = out["components"]["schemas"]["t"]
    assert "description" not in t and set(t["properties"]) == {"description", "child"}
    assert t["properties"]["description"] == {"type": "string"}


def test_validator_keywords() -> None:
    api = OpenAPI.load()
    status_body = api.doc["paths"]["/repos/{owner}/{repo}/statuses/{sha}"]["post"]["requestBody"]
    schema = status_body["schema"]
    assert api.validate(schema, {"state": "success", "description": None}) == []
    assert api.validate(schema, {"state": "great"})
    assert api.validate(schema, {"description": "no state"})
    commit = {"$ref": "#/components/schemas/commit"}
    user_or_empty = api.schemas["commit"]["properties"]["author"]  # nullable oneOf
    assert api.validate(user_or_empty, None) == []
    assert api.validate(user_or_empty, {}) == []  # empty-object
    assert api.validate(user_or_empty, {"login": "x"})  # neither a full user nor empty
    assert api.validate(commit, {"sha": "x"})
    with pytest.raises(ValueError, match="cannot check"):
        OpenAPI({**api.doc, "components": {"schemas": {"x": {"type": "string", "const": "a"}}}})


# -- the fake flags what GitHub would not accept ---------------------------------------------------


async def test_fake_flags_a_body_that_violates_the_schema(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    fake_github.add_installation(7, repos=["octo/hello"])
    pr = fake_github.add_pr("octo/hello")
    headers = {"Authorization": f"token {token}"}
    base = f"{fake_github.url}/repos/octo/hello"
    bad = [
        ("POST", f"{base}/statuses/{pr.head_sha}", {"state": "great"}, "request"),
        ("POST", f"{base}/statuses/{pr.head_sha}", {"description": "no state"}, "request"),
        ("POST", f"{base}/issues/1/labels", ["cla/yes"], "request"),  # bare array
        ("POST", f"{base}/issues/1/labels", {"labels": []}, "request"),  # minItems 1
        ("PATCH", f"{base}/issues/comments/5", {"text": "x"}, "request"),
        ("POST", f"{base}/issues/comments/5/reactions", {"content": "thumbsup"}, "request"),
        ("GET", f"{base}/pulls/1/commits?per_page=many", None, "request"),
        ("GET", f"{base}/pulls/1?sort=asc", None, "request"),  # undeclared parameter
        ("GET", f"{base}/pulls/one", None, "request"),  # not an integer
        ("PUT", f"{base}/pulls/1", None, "method"),
        ("GET", f"{base}/pulls", None, "route"),  # exists at GitHub, not in the subset
        ("GET", f"{fake_github.url}/nope", None, "route"),
    ]
    for method, url, body, kind in bad:
        async with http_session.request(method, url, json=body, headers=headers) as resp:
            assert resp.status == 599, (method, url)
            assert (await resp.json())["problems"]
        assert fake_github.violations[-1].kind == kind, (method, url)
    assert len(fake_github.violations) == len(bad)
    assert fake_github.statuses_for(pr.head_sha) == [] and fake_github.labels_of(pr) == []
    fake_github.violations.clear()  # seen; the autouse check would fail the test otherwise


async def test_fake_flags_its_own_answers_off_schema(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    fake_github.add_installation(7, repos=["octo/hello"])
    fake_github.add_pr("octo/hello")
    real = fake_github._user_json

    def broken(*args: Any) -> dict[str, Any]:
        user = real(*args)
        del user["login"]
        return user

    monkeypatch.setattr(fake_github, "_user_json", broken)
    async with http_session.get(
        f"{fake_github.url}/repos/octo/hello/pulls/1", headers={"Authorization": f"token {token}"}
    ) as resp:
        assert resp.status == 200
    (violation,) = fake_github.violations
    assert violation.kind == "response"
    assert any("'login'" in p for p in violation.problems)
    fake_github.violations.clear()


async def test_a_violation_reaches_the_client_as_a_plain_forge_error(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    fake_github.add_installation(7, repos=["octo/hello"])
    pr = fake_github.add_pr("octo/hello")
    platform = GitHubPlatform(
        session=http_session,
        settings=GitHubSettings(
            app_id=APP_ID, private_key=app_keys.private_pem, api_url=fake_github.url
        ),
    )
    fake_github.inject(
        "GET", "/repos/{owner}/{repo}/pulls/{pull_number}", status=599, body={"message": "bad"}
    )
    with pytest.raises(ForgeError) as err:
        await platform.client(7).get_pull(REPO, pr.number)
    assert not isinstance(err.value, RetryableForgeError)
    assert err.value.status == 599 and "bad" in str(err.value)


async def test_repo_routes_need_a_valid_token(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    fake_github.add_pr("octo/hello")
    url = f"{fake_github.url}/repos/octo/hello/pulls/1"
    for auth in ({}, {"Authorization": "token nope"}, {"Authorization": f"Bearer {token}x"}):
        async with http_session.get(url, headers=auth) as resp:
            assert resp.status == 401
    fake_github.expire_token(token)
    async with http_session.get(url, headers={"Authorization": f"token {token}"}) as resp:
        assert resp.status == 401
        assert (await resp.json())["message"] == "Bad credentials"
    jwt = make_app_jwt(app_id=APP_ID, private_key=app_keys.private_pem, now=time.time())
    async with http_session.get(url, headers={"Authorization": f"Bearer {jwt}"}) as resp:
        assert resp.status == 401  # an App JWT is not an installation token


# -- endpoints beyond the client -------------------------------------------------------------------


async def test_hook_deliveries_and_redelivery(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    ok = fake_github.add_delivery(guid="g1", status_code=200)
    failed = [fake_github.add_delivery(guid=f"f{i}", status_code=500) for i in range(3)]
    jwt = make_app_jwt(app_id=APP_ID, private_key=app_keys.private_pem, now=time.time())
    headers = {"Authorization": f"Bearer {jwt}"}
    seen: list[dict[str, Any]] = []
    url: str | None = f"{fake_github.url}/app/hook/deliveries?per_page=2"
    while url:
        async with http_session.get(url, headers=headers) as resp:
            assert resp.status == 200
            seen += await resp.json()
            link = resp.links.get("next")
            url = str(link["url"]) if link else None
    assert [d["guid"] for d in seen] == ["f2", "f1", "f0", "g1"]
    assert [d["status"] for d in seen] == ["HTTP 500"] * 3 + ["OK"]
    async with http_session.post(
        f"{fake_github.url}/app/hook/deliveries/{failed[0].id}/attempts", headers=headers
    ) as resp:
        assert resp.status == 202
    async with http_session.get(
        f"{fake_github.url}/app/hook/deliveries/{ok.id}", headers=headers
    ) as resp:
        assert resp.status == 200 and (await resp.json())["guid"] == "g1"
    assert fake_github.redelivered == [failed[0].id]
    assert fake_github.deliveries[-1].guid == "f0" and fake_github.deliveries[-1].redelivery
    async with http_session.get(f"{fake_github.url}/app/hook/deliveries") as resp:
        assert resp.status == 401


async def test_listings_statuses_and_labels(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    fake_github.add_installation(7, repos=["octo/hello"])
    pr = fake_github.add_pr("octo/hello", labels=["a", "b/c"])
    headers = {"Authorization": f"token {token}"}
    base = f"{fake_github.url}/api/v3/repos/octo/hello"
    for i in range(3):
        body = {"state": "pending", "context": "cla", "description": f"run {i}"}
        async with http_session.post(
            f"{base}/statuses/{pr.head_sha}", json=body, headers=headers
        ) as resp:
            assert resp.status == 201
    async with http_session.post(
        f"{base}/statuses/{pr.head_sha}",
        json={"state": "failure", "description": "x" * 141},
        headers=headers,
    ) as resp:
        assert resp.status == 422
    async with http_session.post(
        f"{base}/statuses/{'0' * 40}", json={"state": "failure"}, headers=headers
    ) as resp:
        assert resp.status == 422
    async with http_session.get(
        f"{base}/commits/{pr.head_sha}/statuses?per_page=2", headers=headers
    ) as resp:
        assert [s["description"] for s in await resp.json()] == ["run 2", "run 1"]
        assert "/api/v3/repos/" in str(resp.links["next"]["url"])
    async with http_session.get(f"{base}/issues/1/labels", headers=headers) as resp:
        assert [label["name"] for label in await resp.json()] == ["a", "b/c"]
    async with http_session.get(
        f"{base}/issues/1/comments?since=2020-01-01T00:00:00Z", headers=headers
    ) as resp:
        assert resp.status == 200 and await resp.json() == []


async def test_pr_commits_stop_at_250(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    fake_github.add_installation(7, repos=["octo/hello"])
    fake_github.add_pr("octo/hello", commits=300)
    url = f"{fake_github.url}/repos/octo/hello/pulls/1/commits"
    async with http_session.get(url, headers={"Authorization": f"token {token}"}) as resp:
        assert len(await resp.json()) == 30  # default page size
        assert "page=9" in str(resp.links["last"]["url"])  # 250 / 30 → 9 pages


async def test_missing_permission_answers_as_github_does(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    inst = fake_github.add_installation(7, repos=["octo/hello"], permissions={"metadata": "read"})
    assert inst.permissions == {"metadata": "read"}
    token = await token_for(fake_github, http_session, app_keys)
    pr = fake_github.add_pr("octo/hello", commits=2)
    url = f"{fake_github.url}/repos/octo/hello/compare/{pr.base_sha}...{pr.head_sha}"
    real = json.loads(
        (FIXTURES / "github" / "rest.403.resource-not-accessible-by-integration.json").read_text()
    )
    async with http_session.get(url, headers={"Authorization": f"token {token}"}) as resp:
        assert resp.status == 403
        assert resp.headers["X-Accepted-GitHub-Permissions"] == "contents=read"
        body = await resp.json()
    assert set(body) == set(real["body"]) and body["status"] == real["body"]["status"] == "403"
    assert body["message"] == real["body"]["message"]


def test_a_new_installation_holds_the_manifests_permissions(fake_github: FakeGitHub) -> None:
    import yaml

    manifest = yaml.safe_load((FIXTURES.parent.parent / "app.yaml").read_text())
    assert fake_github.add_installation(9).permissions == manifest["default_permissions"]


async def graphql_post(
    fake: FakeGitHub, session: aiohttp.ClientSession, token: str, query: str, **variables: Any
) -> Any:
    async with session.post(
        f"{fake.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"bearer {token}"},
    ) as resp:
        return resp.status, await resp.json()


async def test_graphql_queries_are_checked_against_githubs_schema(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    fake_github.add_installation(7, repos=["octo/hello"])
    status, body = await graphql_post(
        fake_github, http_session, token, '{ repository(owner: "octo", name: "hello") { nope } }'
    )
    assert status == 599 and body["problems"] == [
        "Cannot query field 'nope' on type 'Repository'. Did you mean 'name'?"
    ]
    assert [v.kind for v in fake_github.violations] == ["graphql"]
    fake_github.violations.clear()


async def test_graphql_answers_from_the_state_with_githubs_errors(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    token = await token_for(fake_github, http_session, app_keys)
    inst = fake_github.add_installation(7, repos=["octo/hello"])
    kat = fake_github.user("kat")
    fake_github.set_emails("kat", ("kat@example.com", True))
    pr = fake_github.add_pr("octo/hello", commits=0)
    fake_github.add_commit(
        pr, message="Pair\n\nCo-authored-by: Kat <kat@example.com>", author_login="alice"
    )
    query = """query($n: Int!) { repository(owner: "octo", name: "hello") {
      pullRequest(number: $n) { commits(first: 5) { totalCount
        nodes { commit { oid authors(first: 5) { nodes { name email user { login databaseId } } } } } } } } }"""
    status, body = await graphql_post(fake_github, http_session, token, query, n=pr.number)
    commits = body["data"]["repository"]["pullRequest"]["commits"]
    assert status == 200 and commits["totalCount"] == 1 and "errors" not in body
    authors = commits["nodes"][0]["commit"]["authors"]["nodes"]
    alice = fake_github.user("alice")
    assert authors == [
        {
            "name": "Alice Example",
            "email": "alice@example.com",
            "user": {"login": "alice", "databaseId": alice.id},
        },
        {"name": "Kat", "email": "kat@example.com", "user": {"login": "kat", "databaseId": kat.id}},
    ]
    status, body = await graphql_post(fake_github, http_session, token, query, n=99)
    assert body["data"] == {"repository": {"pullRequest": None}}
    assert [e["type"] for e in body["errors"]] == ["NOT_FOUND"]
    inst.permissions.pop("contents")
    status, body = await graphql_post(fake_github, http_session, token, query, n=pr.number)
    assert "errors" not in body  # the token holds what the installation held when it was made
    token = await token_for(fake_github, http_session, app_keys)
    forbidden = json.loads((FIXTURES / "github" / "graphql.forbidden.partial.json").read_text())
    status, body = await graphql_post(fake_github, http_session, token, query, n=pr.number)
    (error,) = body["errors"]
    assert (error["type"], error["message"]) == (
        forbidden["errors"][0]["type"],
        forbidden["errors"][0]["message"],
    )
    assert status == 200 and body["data"]["repository"]["pullRequest"]["commits"]["nodes"] == [None]


def _comparable(answer: Any) -> Any:
    """An answer without the query locations graphql-core adds to its errors."""
    errors = [{k: v for k, v in e.items() if k != "locations"} for e in answer.get("errors", ())]
    return {"data": answer.get("data"), "errors": errors}


async def test_without_graphql_core_the_co_author_query_gets_the_same_answer(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """graphql-core is a test dependency: the sandbox, on the runtime's dependencies alone,
    answers the bot's one query from the same resolvers (and nothing else)."""
    inst = fake_github.add_installation(7, repos=["octo/hello"])
    kat = fake_github.user("kat")
    fake_github.set_emails("kat", ("kat@example.com", True))
    pr = fake_github.add_pr("octo/hello", commits=0)
    for n in range(3):
        fake_github.add_commit(
            pr, message=f"Pair {n}\n\nCo-authored-by: Kat <kat@example.com>", author_login="alice"
        )
    fake_github.add_commit(pr, author=("Nobody", "nobody@example.com"))
    asked = [
        {"owner": "octo", "name": "hello", "number": pr.number},
        {"owner": "octo", "name": "hello", "number": 99},  # no such PR
        {"owner": "octo", "name": "nope", "number": pr.number},  # no such repository
    ]
    token = await token_for(fake_github, http_session, app_keys)
    inst.permissions.pop("contents")
    forbidden = await token_for(fake_github, http_session, app_keys)  # commits need contents
    cases = [(token, v) for v in asked] + [(forbidden, asked[0])]

    async def answers() -> list[Any]:
        got = [
            await graphql_post(fake_github, http_session, t, CO_AUTHORS_QUERY, **v)
            for t, v in cases
        ]
        assert {status for status, _ in got} == {200}
        return [body for _, body in got]

    with_core = await answers()
    monkeypatch.setitem(sys.modules, "graphql", None)  # as if it were not installed
    without = await answers()
    _, other = await graphql_post(fake_github, http_session, token, "{ viewer { login } }")
    assert [_comparable(a) for a in without] == [_comparable(a) for a in with_core]
    nodes = with_core[0]["data"]["repository"]["pullRequest"]["commits"]["nodes"]
    authors = [a for n in nodes for a in n["commit"]["authors"]["nodes"]]
    assert {"email": "kat@example.com", "user": {"login": "kat", "databaseId": kat.id}} in authors
    assert {"email": "nobody@example.com", "user": None} in authors
    assert [e["type"] for e in with_core[1]["errors"]] == ["NOT_FOUND"]
    assert [e["type"] for e in with_core[3]["errors"]] == ["FORBIDDEN"] * 4
    assert "data" not in other and other["errors"]  # no other query is answered without it


# -- payload builders and fixtures -----------------------------------------------------------------


def test_event_builders_match_the_state(fake_github: FakeGitHub) -> None:
    fake_github.add_installation(7, repos=["octo/hello"])
    pr = fake_github.add_pr("octo/hello", commits=2, labels=["cla/no"])
    got = pull_request_from_payload(fake_github.pull_request_event(pr, action="synchronize"))
    assert (got.head_sha, got.number, got.installation_id) == (pr.head_sha, pr.number, 7)
    assert got.labels == ("cla/no",)
    comment = fake_github.add_comment(pr, "/cla check", user="bob")
    ev = comment_from_payload(fake_github.issue_comment_event(comment))
    assert ev.is_pull_request and ev.body == "/cla check" and ev.author.login == "bob"
    assert ev.installation_id == 7 and ev.comment_id == comment.id


def test_webhook_examples_fixture() -> None:
    with gzip.open(WEBHOOKS / "examples.json.gz", "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    assert data["source"]["package"] == "@octokit/webhooks-examples"
    names = {e["name"] for e in data["events"]}
    assert {"pull_request", "issue_comment", "installation", "ping"} <= names
    assert len(load_all_webhook_examples()) == sum(len(e["examples"]) for e in data["events"])
    sources = json.loads((WEBHOOKS / "sources.json").read_text())
    by_name = {e["name"]: e["examples"] for e in data["events"]}
    for file, origin in sources["files"].items():
        plain = json.loads((WEBHOOKS / file).read_text())
        if "derived" not in origin:
            assert plain == by_name[origin["event"]][origin["index"]], file
        else:
            assert plain != by_name[origin["event"]][origin["index"]], file
