"""Every example payload of @octokit/webhooks-examples, delivered with a valid signature, gets a
2xx — never a 4xx for a real GitHub shape, never a 5xx."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.sandbox.fakeforge.github import DATA
from bot.storage.models import Job
from bot.web.app import create_app
from bot.web.keys import SESSIONS

EXAMPLES = DATA / "webhooks" / "examples.json.gz"


def all_examples() -> list[tuple[str, dict[str, Any]]]:
    data = json.loads(gzip.decompress(EXAMPLES.read_bytes()))
    return [(event["name"], example) for event in data["events"] for example in event["examples"]]


def test_the_fixture_is_the_whole_example_set() -> None:
    examples = all_examples()
    names = {name for name, _ in examples}
    assert len(examples) == 329
    assert {
        "pull_request",
        "issue_comment",
        "installation",
        "installation_repositories",
        "ping",
    } <= names


async def test_every_example_payload_gets_a_2xx(
    aiohttp_client: Any,
    sqlite_url: str,
    make_settings: Any,
    github_env: dict[str, str],
    delivery: Callable[..., Any],
) -> None:
    app = create_app(make_settings(sqlite_url, **github_env), run_worker=False, clients={})
    client = await aiohttp_client(app)
    outcomes: dict[int, list[str]] = {}
    for i, (event, payload) in enumerate(all_examples()):
        body, headers = delivery(event, payload, delivery_id=f"example-{i}")
        resp = await client.post("/webhooks/github", data=body, headers=headers)
        outcomes.setdefault(resp.status, []).append(f"{event}.{payload.get('action', '')}")
    bad = {k: v for k, v in outcomes.items() if not 200 <= k < 300}
    assert not bad, f"non-2xx answers: {bad}"
    async with app[SESSIONS]() as s:
        jobs = (await s.scalars(select(Job))).all()
    kinds = {(j.event, j.action) for j in jobs}
    assert ("pull_request", "opened") in kinds and ("pull_request", "synchronize") in kinds
    assert all(j.status in ("queued", "done") for j in jobs)
