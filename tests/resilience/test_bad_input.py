"""Signed deliveries whose values the bot cannot use or store — deep nesting, integers beyond
the columns, lone surrogates, a number where a list belongs, a list where a login belongs,
compressed bodies — get a 4xx on both endpoints, write nothing and log no traceback; and
unstorable deliveries arriving together with valid ones never fail their neighbours."""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import logging
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.fakeforge.gitee import FakeGitee, load_fixture, signed_headers
from bot.sandbox.fakeforge.github import load_webhook_example
from bot.storage.models import Installation, Job, PrBlocker, PrCheck, Repository
from bot.web.keys import SESSIONS
from tests.helpers import sign
from tests.resilience.conftest import table_counts

MODELS = (Job, Installation, Repository, PrCheck, PrBlocker)
DEEP = 100_000
INT64_OVER = 2**63  # one past BigInteger
LONE_SURROGATE = "\ud800"


def github_pr(**installation: Any) -> dict[str, Any]:
    payload = load_webhook_example("pull_request.opened")
    payload["installation"] = {"id": 555, **installation}
    return payload


def github_comment(login: Any) -> dict[str, Any]:
    payload = load_webhook_example("issue_comment.created.pr")
    payload["installation"] = {"id": 555}
    payload["comment"]["user"].update(login=login, type="User")
    payload["comment"]["body"] = "/cla export-my-data"
    return payload


def nested(depth: int) -> bytes:
    return b'{"action": "opened", "x": ' + b"[" * depth + b"]" * depth + b"}"


def changed(payload: dict[str, Any], path: str, value: Any) -> bytes:
    data = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return json.dumps(data).encode()  # ASCII: a lone surrogate travels as "\ud800"


GITHUB_CASES: dict[str, tuple[str, bytes]] = {
    "deep-nesting": ("pull_request", nested(DEEP)),
    "installation-id-2^63": ("pull_request", changed(github_pr(), "installation.id", INT64_OVER)),
    "pr-number-2^64": (
        "pull_request",
        changed(github_pr(), "pull_request.number", 2**64),
    ),
    "surrogate-in-full-name": (
        "pull_request",
        changed(github_pr(), "repository.full_name", "acme/widg" + LONE_SURROGATE),
    ),
    "labels-a-number": ("pull_request", changed(github_pr(), "pull_request.labels", 5)),
    "repositories-a-number": (
        "installation",
        changed(load_webhook_example("installation.created"), "repositories", 5),
    ),
    "repositories-added-a-number": (
        "installation_repositories",
        changed(load_webhook_example("installation_repositories.added"), "repositories_added", 5),
    ),
    "login-a-list": (
        "issue_comment",
        changed(github_comment("alice"), "comment.user.login", ["alice"]),
    ),
}


def gitee_mr() -> dict[str, Any]:
    payload = load_fixture("merge_request_hook.open")
    payload["nonce"] = uuid.uuid4().hex  # every body its own delivery key
    return payload


GITEE_CASES: dict[str, Callable[[], bytes]] = {
    "deep-nesting": lambda: nested(DEEP),
    "pr-number-2^63": lambda: changed(gitee_mr(), "pull_request.number", INT64_OVER),
    "repository-id-2^64": lambda: changed(gitee_mr(), "repository.id", 2**64),
    "surrogate-in-path": lambda: changed(gitee_mr(), "repository.path", "demo" + LONE_SURROGATE),
    "surrogate-in-namespace": lambda: changed(
        gitee_mr(), "repository.namespace", "open" + LONE_SURROGATE
    ),
    "action-a-number": lambda: changed(gitee_mr(), "action", 5),
}

ENCODINGS = {
    "deflate": zlib.compress,
    "gzip": gzip.compress,
    "br": lambda b: b"\x0b\x02\x80" + b,  # what a brotli body starts like; never decoded
}


def github_headers(event: str, body: bytes, **extra: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body),
        "Content-Type": "application/json",
        **extra,
    }


def no_traceback(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.exc_info or r.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize("case", list(GITHUB_CASES))
async def test_github_signed_but_unusable_values_are_400_and_write_nothing(
    webhook_app: Callable[[str], Any],
    db_url: str,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await webhook_app(db_url)
    event, body = GITHUB_CASES[case]
    before = await table_counts(client, MODELS)
    resp = await client.post("/webhooks/github", data=body, headers=github_headers(event, body))
    assert resp.status == 400, await resp.text()
    assert "message" in await resp.json()
    assert await table_counts(client, MODELS) == before
    assert no_traceback(caplog) == []


@pytest.mark.parametrize("case", list(GITEE_CASES))
async def test_gitee_signed_but_unusable_values_are_400_and_write_nothing(
    webhook_app: Callable[[str], Any],
    db_url: str,
    gitee: FakeGitee,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await webhook_app(db_url)
    body = GITEE_CASES[case]()
    headers = signed_headers(body, secret=gitee.webhook_secret, event="Merge Request Hook")
    before = await table_counts(client, MODELS)
    resp = await client.post("/webhooks/gitee", data=body, headers=headers)
    assert resp.status == 400, await resp.text()
    assert await table_counts(client, MODELS) == before
    assert no_traceback(caplog) == []


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
async def test_compressed_bodies_are_415_before_any_work(
    webhook_app: Callable[[str], Any],
    sqlite_url: str,
    gitee: FakeGitee,
    encoding: str,
    signed: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await webhook_app(sqlite_url)
    plain = json.dumps(github_pr()).encode()
    body = ENCODINGS[encoding](plain)
    gh = github_headers("pull_request", plain, **{"Content-Encoding": encoding})
    ge = signed_headers(json.dumps(gitee_mr()).encode(), secret=gitee.webhook_secret)
    ge["Content-Encoding"] = encoding
    if not signed:
        gh["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        ge["X-Gitee-Token"] = "wrong"
    before = await table_counts(client, MODELS)
    for path, headers in (("/webhooks/github", gh), ("/webhooks/gitee", ge)):
        resp = await client.post(path, data=body, headers=headers)
        assert resp.status == 415, (path, await resp.text())
        assert "Content-Encoding" in (await resp.json())["message"]
    assert await table_counts(client, MODELS) == before
    assert no_traceback(caplog) == []


async def test_poisoned_gitee_deliveries_never_fail_concurrent_github_ones(
    webhook_app: Callable[[str], Any], db_url: str, gitee: FakeGitee
) -> None:
    """20 unstorable Gitee deliveries among 100 valid GitHub ones, all at once: every GitHub
    delivery is stored and acknowledged, every poisoned one is refused as the client's fault."""
    client = await webhook_app(db_url)
    valid: list[tuple[str, bytes, dict[str, str]]] = []
    for n in range(100):
        payload = github_pr()
        payload["number"] = payload["pull_request"]["number"] = n + 1
        body = json.dumps(payload).encode()
        valid.append(("/webhooks/github", body, github_headers("pull_request", body)))
    poisoned: list[tuple[str, bytes, dict[str, str]]] = []
    for _ in range(20):
        body = changed(gitee_mr(), "repository.path", "demo" + LONE_SURROGATE)
        headers = signed_headers(body, secret=gitee.webhook_secret, event="Merge Request Hook")
        poisoned.append(("/webhooks/gitee", body, headers))
    mixed = [x for pair in zip(valid[:20], poisoned, strict=True) for x in pair] + valid[20:]

    async def post(path: str, body: bytes, headers: dict[str, str]) -> int:
        resp = await client.post(path, data=body, headers=headers)
        return int(resp.status)

    statuses = await asyncio.gather(*(post(*d) for d in mixed))
    by_path: dict[str, list[int]] = {}
    for (path, _, _), status in zip(mixed, statuses, strict=True):
        by_path.setdefault(path, []).append(status)
    assert by_path["/webhooks/github"] == [202] * 100
    assert by_path["/webhooks/gitee"] == [400] * 20
    async with client.app[SESSIONS]() as s:
        keys = set((await s.scalars(select(Job.delivery_key))).all())
        platforms = set((await s.scalars(select(Job.platform))).all())
    assert keys == {h["X-GitHub-Delivery"] for _, _, h in valid}
    assert platforms == {"github"}
