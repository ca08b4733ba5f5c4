"""The fake Gitee itself: what it refuses, what it records, and its webhook helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.platforms.gitee import routing, sansio
from bot.sandbox.fakeforge.gitee import FakeGitee, gitee_signature, load_fixture, signed_headers


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitee]:
    async with FakeGitee() as f:
        f.add_pr("open-cla/cla-demo", number=1, labels=["cla/no"])
        yield f


async def call(
    fake: FakeGitee,
    method: str,
    path: str,
    *,
    token: str | None = "default",
    body: Any = None,
    raw_body: bytes | None = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    headers = {}
    if token == "default":
        token = fake.token
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw_body
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            fake.origin + "/api/v5" + path,
            headers=headers,
            data=data,
            params=query,
        ) as resp,
    ):
        text = await resp.text()
        return resp.status, (json.loads(text) if text.strip() else None)


async def test_every_call_needs_the_token(fake: FakeGitee) -> None:
    for token in (None, "wrong"):
        status, data = await call(fake, "GET", "/repos/open-cla/cla-demo/pulls/1", token=token)
        assert status == 401 and "Unauthorized" in data["message"]
    status, _ = await call(
        fake,
        "GET",
        "/repos/open-cla/cla-demo/pulls/1",
        token=None,
        query={"access_token": fake.token},
    )
    assert status == 200
    assert fake.requests[-1].token_in_query is True
    assert "access_token" not in fake.requests[-1].query
    assert fake.violations == []


async def test_label_bodies_must_be_a_bare_array(fake: FakeGitee) -> None:
    status, _ = await call(
        fake, "POST", "/repos/open-cla/cla-demo/pulls/1/labels", body={"labels": ["cla/yes"]}
    )
    assert status == 400
    assert fake.violations and "bare JSON array" in fake.violations[0].problems[0]
    assert fake.labels_of(fake.pr("open-cla/cla-demo", 1)) == ["cla/no"]


async def test_a_raw_slash_in_a_label_name_matches_nothing(fake: FakeGitee) -> None:
    status, _ = await call(fake, "DELETE", "/repos/open-cla/cla-demo/pulls/1/labels/cla/no")
    assert status == 404
    assert fake.labels_of(fake.pr("open-cla/cla-demo", 1)) == ["cla/no"]
    status, _ = await call(fake, "DELETE", "/repos/open-cla/cla-demo/pulls/1/labels/cla%2Fno")
    assert status == 204
    assert fake.labels_of(fake.pr("open-cla/cla-demo", 1)) == []


async def test_comma_separated_label_names_remove_several(fake: FakeGitee) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    fake.add_pr("open-cla/cla-demo", number=2, labels=["a", "b", "c"])
    status, _ = await call(fake, "DELETE", "/repos/open-cla/cla-demo/pulls/2/labels/a,c")
    assert status == 204
    assert fake.labels_of(fake.pr("open-cla/cla-demo", 2)) == ["b"]
    assert fake.labels_of(pr) == ["cla/no"]


@pytest.mark.parametrize("body", [{"text": "hi"}, {"body": ""}, {"body": 3}, ["hi"]])
async def test_comment_bodies_are_checked(fake: FakeGitee, body: Any) -> None:
    status, _ = await call(fake, "POST", "/repos/open-cla/cla-demo/pulls/1/comments", body=body)
    assert status == 400 and fake.violations


async def test_comments_are_edited_only_at_pulls_comments_id(fake: FakeGitee) -> None:
    status, created = await call(
        fake, "POST", "/repos/open-cla/cla-demo/pulls/1/comments", body={"body": "hello"}
    )
    assert status == 201 and created["user"]["login"] == fake.bot.login
    cid = created["id"]
    status, _ = await call(
        fake, "PATCH", f"/repos/open-cla/cla-demo/pulls/1/comments/{cid}", body={"body": "x"}
    )
    assert status == 404  # no such route
    status, edited = await call(
        fake, "PATCH", f"/repos/open-cla/cla-demo/pulls/comments/{cid}", body={"body": "bye"}
    )
    assert status == 200 and edited["body"] == "bye"


async def test_undocumented_query_parameters_are_violations(fake: FakeGitee) -> None:
    status, _ = await call(
        fake, "GET", "/repos/open-cla/cla-demo/pulls/1/commits", query={"page": "2"}
    )
    assert status == 400 and "not documented" in fake.violations[0].problems[0]


async def test_list_paging_headers(fake: FakeGitee) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    for i in range(45):
        fake.add_comment(pr, f"c{i}")
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            fake.url + "/repos/open-cla/cla-demo/pulls/1/comments",
            params={"page": "3", "per_page": "20"},
            headers={"Authorization": f"token {fake.token}"},
        ) as resp,
    ):
        assert resp.status == 200
        assert resp.headers["total_count"] == "45" and resp.headers["total_page"] == "3"
        assert [c["body"] for c in await resp.json()] == [f"c{i}" for i in range(40, 45)]
    status, _ = await call(
        fake, "GET", "/repos/open-cla/cla-demo/pulls/1/comments", query={"per_page": "101"}
    )
    assert status == 400


async def test_inject_knows_its_routes(fake: FakeGitee) -> None:
    with pytest.raises(ValueError):
        fake.inject("GET", "/repos/{owner}/{repo}/issues/{number}/labels", status=500)
    fake.inject("GET", "/repos/{owner}/{repo}/pulls/{number}", status=502, times=2)
    statuses = [(await call(fake, "GET", "/repos/open-cla/cla-demo/pulls/1"))[0] for _ in range(3)]
    assert statuses == [502, 502, 200]


# -- webhook helpers ---------------------------------------------------------------------------


def test_signature_helper_matches_the_documented_vector() -> None:
    assert gitee_signature(1576754827988, "this is secret") == (
        "2D978FIy4DMMTbiN80zQkNH1Eq/kMBt3gL6OnWfGzzY="
    )
    h = signed_headers(b"{}", secret="this is secret", timestamp_ms=1576754827988, url_encode=True)
    assert h["X-Gitee-Token"] == "2D978FIy4DMMTbiN80zQkNH1Eq%2FkMBt3gL6OnWfGzzY%3D"
    pw = signed_headers({"hook_name": "note_hooks"}, secret="pw", mode="password", timestamp_ms=1)
    assert pw["X-Gitee-Token"] == "pw" and pw["X-Gitee-Event"] == "Note Hook"


@pytest.mark.parametrize("mode", ["signature", "password"])
async def test_deliveries_pass_the_bots_verification_and_route(fake: FakeGitee, mode: str) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    payload = fake.merge_request_event(pr, action="update", action_desc="source_branch_changed")
    headers, body = fake.delivery(payload, mode=mode, timestamp_ms=1_716_169_860_000)  # type: ignore[arg-type]
    sansio.verify(headers, secret=fake.webhook_secret, now_ms=1_716_169_861_000, window_s=3600)
    parsed = json.loads(body)
    assert parsed["timestamp"] == "1716169860000"
    assert (parsed["password"] != "") is (mode == "password")
    assert sansio.event_name(headers, parsed) == "Merge Request Hook"
    route = routing.route("Merge Request Hook", parsed, bot_login=fake.bot.login)
    assert isinstance(route, routing.CheckJob)
    assert route.repo.owner == "open-cla" and route.number == 1


async def test_merge_request_event_reflects_the_state(fake: FakeGitee) -> None:
    pr = fake.add_pr("open-cla/cla-demo", number=5, author="li-na", commits=3, labels=["x"])
    payload = fake.merge_request_event(pr, action="open")
    template = load_fixture("merge_request_hook.open")
    assert set(payload) == set(template)
    assert payload["pull_request"]["head"]["sha"] == pr.head_sha
    assert payload["pull_request"]["commits"] == 3
    assert payload["pull_request"]["labels"][0]["name"] == "x"
    assert payload["pull_request"]["user"]["login"] == "li-na"
    assert payload["repository"]["namespace"] == "open-cla"
    assert payload["repository"]["path"] == "cla-demo"


async def test_note_event_reflects_the_comment(fake: FakeGitee) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    comment = fake.add_comment(pr, "/check-cla", user="li-na")
    payload = fake.note_event(comment)
    assert set(payload) == set(load_fixture("note_hook.pull_request"))
    assert payload["comment"]["id"] == comment.id
    assert payload["comment"]["user"]["login"] == "li-na"
    assert payload["noteable_type"] == "PullRequest"
    route = routing.route("Note Hook", payload, bot_login=fake.bot.login)
    assert isinstance(route, routing.CommentJobs) and route.check is not None
    assert route.check.comment_id == comment.id
