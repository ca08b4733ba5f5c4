"""Adding a forge is its adapter plus one line in the registry: a third forge, made here from
nothing but a :class:`~bot.platforms.base.Forge` object, gets its webhook served at
``/webhooks/{name}``, its deliveries verified by its own receiver and stored, its PRs checked and
reported through its client, and its open PRs swept — with no other module changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.core.model import Account, Commit, ForgeFacts, GitPerson, Platform, PullRequest, RepoRef
from bot.platforms import registry
from bot.platforms.base import Connection, Forge, ForgeConfig, Reports, SettingsView
from bot.platforms.routing import CheckJob, Ignore
from bot.platforms.webhooks import Answer, Routed
from bot.sandbox.fakeforge import FakeForgeClient
from bot.storage.models import Job
from bot.web.app import create_app
from bot.web.keys import RUNTIME

TOY = Platform("toyforge")
REPO = RepoRef(TOY, "acme", "widgets", 9)
SECRET = "a-toy-secret-of-16+-bytes"


@dataclass(frozen=True)
class ToySettings:
    webhook_secret: str = SECRET
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = "http://127.0.0.1:9/api"
    web_url: str = "http://127.0.0.1:9"


class ToyWebhooks:
    """Trusts a delivery whose ``X-Toy-Secret`` is the secret; ``{"pr": N}`` asks for a check."""

    duplicate = Answer(200, "duplicate delivery", "duplicate")

    async def receive(
        self, headers: Mapping[str, str], content_type: str, body: bytes
    ) -> Routed | Answer:
        if headers.get("X-Toy-Secret") != SECRET:
            return Answer(401, "missing or invalid X-Toy-Secret", "bad_signature")
        key, _, number = body.decode().partition(":")
        if not number.isdigit():
            return Routed(key, "ping", None, Ignore("not a pull request"))
        job = CheckJob(REPO, int(number), None, "opened")
        return Routed(key, "pull", "opened", job)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> FakeForgeClient:
    """The registry with the toy forge added; its one bot account's recording client."""
    client = FakeForgeClient(platform=TOY, bot=Account(TOY, "1", "toy-bot", is_bot=True))

    def connect(_settings: SettingsView, _http: aiohttp.ClientSession) -> Connection:
        return Connection(clients=client.factory(), webhooks=ToyWebhooks(), open_pulls=client)

    forge = Forge(
        facts=ForgeFacts(TOY, "Toy Forge"),
        reports=Reports(statuses=True, check_runs=False, labels=True),
        body_is_signed=True,
        pull_path="pull",
        installations=False,
        settings_from_env=lambda _env: ForgeConfig(
            web_url=ToySettings.web_url, api_url=ToySettings.api_url, settings=ToySettings()
        ),
        connect=connect,
        not_connected="Set the toy's secret.",
    )
    forges = (*registry.FORGES, forge)
    monkeypatch.setattr(registry, "FORGES", forges)
    monkeypatch.setattr(registry, "BY_NAME", MappingProxyType({f.name: f for f in forges}))
    monkeypatch.setattr(registry, "NAMES", tuple(f.name for f in forges))
    monkeypatch.setattr(registry, "FACTS", tuple(f.facts for f in forges))
    return client


def _pr(client: FakeForgeClient, number: int) -> PullRequest:
    amy = Account(TOY, "11", "amy")
    who = GitPerson("Amy", "amy@example.com")
    return client.add_pr(
        PullRequest(REPO, number, f"{number:040x}", "main", "open", amy),
        [Commit(f"{number + 100:040x}", who, who, "Change", amy, amy)],
    )


async def test_a_third_forge_is_served_checked_and_swept_through_its_adapter(
    aiohttp_client: Any, db_url: str, make_settings: Any, toy: FakeForgeClient
) -> None:
    client = await aiohttp_client(create_app(make_settings(db_url), run_worker=False))
    runtime = client.app[RUNTIME]
    pr = _pr(toy, 1)

    refused = await client.post("/webhooks/toyforge", data=b"d1:1")
    assert refused.status == 401
    assert await refused.json() == {"message": "missing or invalid X-Toy-Secret"}
    signed = {"X-Toy-Secret": SECRET, "Content-Type": "application/json"}
    assert (await client.post("/webhooks/toyforge", data=b"d1:1", headers=signed)).status == 202
    again = await client.post("/webhooks/toyforge", data=b"d1:1", headers=signed)
    assert (again.status, await again.json()) == (200, {"message": "duplicate delivery"})
    ignored = await client.post("/webhooks/toyforge", data=b"d2:", headers=signed)
    assert await ignored.json() == {"message": "ignored", "reason": "not a pull request"}

    assert await runtime.drain() == 1
    status = toy.status_for(REPO, pr.head_sha, "cla")
    assert status is not None and status.description == "1 contributor must sign the CLA"
    assert toy.labels_of(REPO, 1) == ["cla/no"]
    assert len(toy.comments_on(REPO, 1)) == 1

    _pr(toy, 2)  # opened while its delivery was lost
    assert await runtime.sweep() == 1
    async with runtime.sessions() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
    assert [(j.platform, j.pr_key, j.status) for j in jobs] == [
        (TOY, "toyforge:acme/widgets#1", "done"),
        (TOY, "toyforge:acme/widgets#2", "queued"),
    ]
    metrics = runtime.metrics.render()
    for event, outcome in (("pull", "accepted"), ("-", "bad_signature"), ("pull", "duplicate")):
        assert f'{{event="{event}",outcome="{outcome}",platform="toyforge"}} 1' in metrics
    home = await (await client.get("/")).text()
    assert "Toy Forge is connected" in home
