"""POST /webhooks/github: verified, stored, acknowledged — and nothing written otherwise."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.models import Installation, Job, Repository
from bot.web.app import create_app
from bot.web.keys import SESSIONS
from tests.helpers import sign

PR_PAYLOAD: dict[str, Any] = {
    "action": "opened",
    "number": 7,
    "pull_request": {
        "number": 7,
        "state": "open",
        "head": {"sha": "a" * 40, "ref": "feature"},
        "base": {"sha": "b" * 40, "ref": "main"},
        "user": {"login": "octocat", "id": 1, "type": "User"},
        "labels": [],
        "commits": 1,
        "body": "secret body text that must not be stored",
    },
    "repository": {
        "id": 99,
        "full_name": "acme/widgets",
        "name": "widgets",
        "owner": {"login": "acme"},
    },
    "installation": {"id": 555},
    "sender": {"login": "octocat", "id": 1, "type": "User"},
}


@pytest.fixture
async def client(
    aiohttp_client: Any, db_url: str, make_settings: Any, github_env: dict[str, str]
) -> Any:
    settings = make_settings(db_url, **github_env)
    app = create_app(settings, run_worker=False, clients={})
    return await aiohttp_client(app)


async def count(client: Any, model: type) -> int:
    async with client.app[SESSIONS]() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_valid_delivery_is_stored_and_accepted(
    client: Any, delivery: Callable[..., Any]
) -> None:
    body, headers = delivery("pull_request", PR_PAYLOAD, delivery_id="d-1")
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 202
    async with client.app[SESSIONS]() as s:
        job = (await s.scalars(select(Job))).one()
    assert job.delivery_key == "d-1"
    assert job.pr_key == "github:acme/widgets#7"
    assert job.installation_id == 555
    assert job.status == "queued"
    stored = json.dumps(job.payload)
    assert "secret body text" not in stored  # only the fields the job needs
    assert job.payload["pull"]["head_sha"] == "a" * 40


async def test_redelivery_is_a_duplicate(client: Any, delivery: Callable[..., Any]) -> None:
    body, headers = delivery("pull_request", PR_PAYLOAD, delivery_id="same")
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 202
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 200
    assert (await resp.json())["message"] == "duplicate delivery"
    assert await count(client, Job) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda h, b: h.pop("X-Hub-Signature-256"), id="missing"),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": sign(b, "another-secret-value-123")}),
            id="wrong-secret",
        ),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}), id="zeros"
        ),
        pytest.param(lambda h, b: h.update({"X-Hub-Signature-256": "garbage"}), id="garbage"),
        pytest.param(
            lambda h, b: (
                h.pop("X-Hub-Signature-256"),
                h.update({"X-Hub-Signature": "sha1=" + "0" * 40}),
            ),
            id="sha1-only",
        ),
    ],
)
async def test_bad_signature_is_401_and_writes_nothing(
    client: Any, delivery: Callable[..., Any], mutate: Callable[..., Any]
) -> None:
    body, headers = delivery("pull_request", PR_PAYLOAD)
    mutate(headers, body)
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 401
    assert await count(client, Job) == 0


async def test_tampered_body_is_401(client: Any, delivery: Callable[..., Any]) -> None:
    body, headers = delivery("pull_request", PR_PAYLOAD)
    resp = await client.post(
        "/webhooks/github", data=body.replace(b"acme", b"evil"), headers=headers
    )
    assert resp.status == 401
    assert await count(client, Job) == 0


@pytest.mark.parametrize(
    ("body", "header_changes", "status"),
    [
        (b"not json", {}, 400),
        (b"\xff\xfe{}", {}, 400),
        (json.dumps(PR_PAYLOAD).encode().replace(b"secret body", b"\xff\xfe body"), {}, 400),
        (b"[1, 2]", {}, 400),
        (json.dumps(PR_PAYLOAD).encode(), {"X-GitHub-Event": None}, 400),
        (json.dumps(PR_PAYLOAD).encode(), {"X-GitHub-Delivery": None}, 400),
        (
            json.dumps(PR_PAYLOAD).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
        ),
        (json.dumps({"action": "opened", "pull_request": {}}).encode(), {}, 400),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "not-utf8-in-an-unread-field",
        "not-object",
        "no-event",
        "no-delivery",
        "form-encoded",
        "missing-fields",
    ],
)
async def test_signed_but_malformed_is_4xx_and_writes_nothing(
    client: Any,
    delivery: Callable[..., Any],
    body: bytes,
    header_changes: dict[str, str | None],
    status: int,
) -> None:
    _, headers = delivery("pull_request", body)
    for k, v in header_changes.items():
        if v is None:
            headers.pop(k)
        else:
            headers[k] = v
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == status
    assert "message" in await resp.json()
    assert await count(client, Job) == 0


async def test_too_large_is_413(client: Any, delivery: Callable[..., Any]) -> None:
    body = b'{"x": "' + b"a" * (25 * 1024 * 1024) + b'"}'
    _, headers = delivery("pull_request", b"{}")
    headers["X-Hub-Signature-256"] = sign(body)
    resp = await client.post("/webhooks/github", data=io.BytesIO(body), headers=headers)
    assert resp.status == 413
    assert await count(client, Job) == 0


async def test_large_but_allowed_payload_is_accepted(
    client: Any, delivery: Callable[..., Any]
) -> None:
    payload = dict(PR_PAYLOAD)
    payload["padding"] = "x" * (3 * 1024 * 1024)  # over aiohttp's 1 MiB default
    body, headers = delivery("pull_request", payload)
    resp = await client.post("/webhooks/github", data=io.BytesIO(body), headers=headers)
    assert resp.status == 202


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("watch", {"action": "started"}),
        ("pull_request", {**PR_PAYLOAD, "action": "labeled"}),
        ("pull_request", {**PR_PAYLOAD, "action": "assigned"}),
        ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
    ],
    ids=["unknown-event", "labeled", "assigned", "ping"],
)
async def test_unused_events_are_200_without_a_job(
    client: Any, delivery: Callable[..., Any], event: str, payload: dict[str, Any]
) -> None:
    body, headers = delivery(event, payload)
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 200
    assert await count(client, Job) == 0


async def test_a_repository_webhook_without_installation_is_200_ignored(
    client: Any, delivery: Callable[..., Any]
) -> None:
    payload = {k: v for k, v in PR_PAYLOAD.items() if k != "installation"}
    body, headers = delivery("pull_request", payload)
    resp = await client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status == 200
    answer = await resp.json()
    assert answer["message"] == "ignored" and "no installation" in answer["reason"]
    assert await count(client, Job) == 0


async def test_comment_command_makes_a_check_job_but_chatter_does_not(
    client: Any, delivery: Callable[..., Any]
) -> None:
    base = {
        "action": "created",
        "issue": {"number": 7, "pull_request": {"url": "x"}, "labels": []},
        "comment": {
            "id": 11,
            "body": "LGTM",
            "user": {"login": "octocat", "id": 1, "type": "User"},
        },
        "repository": PR_PAYLOAD["repository"],
        "installation": {"id": 555},
    }
    body, headers = delivery("issue_comment", base)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 200
    cmd = {**base, "comment": {**base["comment"], "id": 12, "body": "thanks!\n/CLA Check\n"}}
    body, headers = delivery("issue_comment", cmd)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 202
    alias = {**base, "comment": {**base["comment"], "id": 13, "body": "/check-cla"}}
    body, headers = delivery("issue_comment", alias)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 202
    bot = {
        **base,
        "comment": {
            "id": 14,
            "body": "/cla check",
            "user": {"login": "cla[bot]", "id": 2, "type": "Bot"},
        },
    }
    body, headers = delivery("issue_comment", bot)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 200
    async with client.app[SESSIONS]() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
    assert [j.payload["comment_id"] for j in jobs] == [12, 13]
    assert all("body" not in json.dumps(j.payload) for j in jobs)


async def test_installation_events_keep_tables_current(
    client: Any, delivery: Callable[..., Any]
) -> None:
    created = {
        "action": "created",
        "installation": {"id": 777, "account": {"login": "acme", "id": 5}},
        "repositories": [{"id": 1, "full_name": "acme/one", "name": "one"}],
        "sender": {"login": "admin", "id": 9},
    }
    body, headers = delivery("installation", created)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 202
    added = {
        "action": "added",
        "installation": {"id": 777, "account": {"login": "acme", "id": 5}},
        "repository_selection": "selected",
        "repositories_added": [{"id": 2, "full_name": "acme/two", "name": "two"}],
        "repositories_removed": [{"id": 1, "full_name": "acme/one", "name": "one"}],
    }
    body, headers = delivery("installation_repositories", added)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 202
    async with client.app[SESSIONS]() as s:
        inst = (await s.scalars(select(Installation))).one()
        repos = {r.full_name: r for r in (await s.scalars(select(Repository))).all()}
    assert inst.installation_id == 777 and inst.account_login == "acme"
    assert repos["acme/two"].installation_id == 777 and repos["acme/two"].removed_at is None
    assert repos["acme/one"].removed_at is not None
    deleted = {**created, "action": "deleted"}
    body, headers = delivery("installation", deleted)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 202
    async with client.app[SESSIONS]() as s:
        assert (await s.scalars(select(Installation))).one().deleted_at is not None


async def test_database_down_is_503(client: Any, delivery: Callable[..., Any]) -> None:
    dead = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    sessions = client.app[SESSIONS]
    live = sessions.kw["bind"]
    sessions.configure(bind=dead)  # the database goes away under the running app
    try:
        body, headers = delivery("pull_request", PR_PAYLOAD)
        resp = await client.post("/webhooks/github", data=body, headers=headers)
        assert resp.status == 503
        assert "retry" in (await resp.json())["message"]
    finally:
        sessions.configure(bind=live)
        await dead.dispose()
    assert await count(client, Job) == 0


async def test_github_not_configured_is_404(
    aiohttp_client: Any, db_url: str, make_settings: Any, delivery: Callable[..., Any]
) -> None:
    app = create_app(make_settings(db_url), run_worker=False, clients={})
    client = await aiohttp_client(app)
    body, headers = delivery("pull_request", PR_PAYLOAD)
    assert (await client.post("/webhooks/github", data=body, headers=headers)).status == 404
