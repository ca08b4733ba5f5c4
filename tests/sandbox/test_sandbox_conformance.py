"""The sandbox is the tests' fake GitHub: what the bot asks of it in the demo is checked against
GitHub's OpenAPI subset as in every other test, and so are the sandbox's answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox import Sandbox
from bot.sandbox.demo import Demo, start_demo
from bot.sandbox.world import SCENARIOS


@pytest.fixture
async def demo(make_env: Callable[..., dict[str, str]], tmp_path: Path) -> AsyncIterator[Demo]:
    d = await start_demo(
        make_env("sqlite+aiosqlite:///ignored.db"), host="127.0.0.1", port=0, cwd=tmp_path
    )
    try:
        yield d
    finally:
        await d.close()


async def test_the_bots_requests_in_the_demo_are_githubs(demo: Demo) -> None:
    world, sb = demo.sandbox.world, demo.sandbox_url
    async with aiohttp.ClientSession() as http:
        for scenario in ("linked", "coauthored"):
            form = {"repo": "sandbox-org/widgets", "scenario": scenario, "title": scenario}
            async with http.post(f"{sb}/-/pulls", data=form) as resp:
                assert resp.status == 200
        first, second = (world.pull("sandbox-org/widgets", n) for n in (1, 2))
        assert first is not None and second is not None
        form = {"user": "mona", "body": "/cla status @ada"}
        async with http.post(f"{sb}/sandbox-org/widgets/pull/1/comments", data=form) as resp:
            assert resp.status == 200
        deadline = time.monotonic() + 15
        while not (len(world.comments_of(first)) >= 3 and world.combined(second)):
            assert time.monotonic() < deadline, "the bot did not answer"
            await asyncio.sleep(0.05)
    fake = demo.sandbox.fake
    assert fake.violations == []
    # A demo keeps no log of requests, App JWTs or GraphQL queries.
    assert (fake.requests, fake.jwt_claims, fake.graphql_queries) == ([], [], [])
    assert [s.state for s in world.combined(first)] == ["failure"]
    assert all(d.ok for d in world.deliveries)


async def test_an_unknown_api_path_is_githubs_404_not_a_violation() -> None:
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.api_url}/no/such/route") as resp:
            assert resp.status == 404
            assert (await resp.json())["message"] == "Not Found"
        assert sandbox.fake.violations == []


async def test_payloads_link_back_to_the_sandbox() -> None:
    async with Sandbox() as sandbox:
        world = sandbox.world
        repo = world.repo("sandbox-org/docs")
        assert repo is not None
        pr = world.open_pull(repo, next(s for s in SCENARIOS if s.key == "linked"), "T")
        payload = sandbox.fake.pull_request_event(pr)
    assert payload["pull_request"]["html_url"] == f"{sandbox.url}/sandbox-org/docs/pull/1"
    assert payload["repository"]["url"] == f"{sandbox.api_url}/repos/sandbox-org/docs"
