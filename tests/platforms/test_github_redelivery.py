"""GitHub's delivery log through the App JWT: failed deliveries listed and redelivered, with one
JWT for the calls of a pass (a new one only when it nears its expiry)."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from bot.platforms.github.client import GitHubPlatform, GitHubSettings
from bot.platforms.github.redelivery import JWT_REUSE_S, GitHubRedelivery
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub
from tests.platforms.conftest import APP_ID, NOW, Clock


def _redelivery(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair, clock: Clock
) -> GitHubRedelivery:
    fake_github.clock = clock
    settings = GitHubSettings(
        app_id=APP_ID, private_key=app_keys.private_pem, api_url=fake_github.url
    )
    return GitHubRedelivery(GitHubPlatform(session=http_session, settings=settings, clock=clock))


async def test_a_pass_lists_and_redelivers_with_one_jwt(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    clock = Clock()
    log = _redelivery(fake_github, http_session, app_keys, clock)
    lost = [fake_github.add_delivery(status_code=502) for _ in range(2)]
    fake_github.add_delivery(status_code=200)

    found = await log.failed_since(datetime.fromtimestamp(NOW - 3600, UTC), limit=100)
    assert (found.seen, sorted(found.failed.values())) == (3, sorted(d.id for d in lost))
    for attempt_id in found.failed.values():
        clock.now += 30  # the pass goes on; its JWT stays good
        await log.redeliver(attempt_id)
    assert sorted(fake_github.redelivered) == sorted(d.id for d in lost)
    assert [c["iat"] for c in fake_github.jwt_claims] == [int(NOW) - 60] * 3

    clock.now = NOW + JWT_REUSE_S + 1  # nearer its expiry than a pass may take: a new one
    await log.redeliver(lost[0].id)
    assert [c["iat"] for c in fake_github.jwt_claims][-1] == int(clock.now) - 60
