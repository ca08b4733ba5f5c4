"""Item 8: faults injected on the fake forges, end to end through the webhook, the queue, the
worker and the forge clients — 502s, timeouts, 403 secondary limits with and without
``retry-after``, a primary limit, 429, and a 401 on a stale token — on GitHub and on Gitee.

One injected clock drives the queue (backoff, leases, paused installations), the forge clients
(rate-limit deadlines, JWTs, token expiry) and the fake GitHub, so waits of a minute take none.
What must hold (security.md 8–10): retryable failures back off exponentially up to the attempt
limit, then the job is dead with its last error; rate limits pause the installation until the
forge's deadline without spending attempts; a 401 drops the token and mints one more, once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot import settings as settings_mod
from bot.platforms.gitee.client import GiteePlatform, GiteeSettings
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.client import GitHubPlatform, GitHubSettings
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub
from bot.services.jobs import JobQueue
from bot.storage.installations import installation_paused_until, upsert_installation
from bot.storage.models import Job
from bot.web.app import RUNTIME, create_app
from tests.helpers import sign

COMMITS = "/repos/{owner}/{repo}/pulls/{pull_number}/commits"
STATUSES = "/repos/{owner}/{repo}/statuses/{sha}"
GITEE_PULL = "/repos/{owner}/{repo}/pulls/{number}"
GITEE_COMMITS = "/repos/{owner}/{repo}/pulls/{number}/commits"
GITHUB_COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
GITEE_COMMENTS = "/repos/{owner}/{repo}/pulls/{number}/comments"
MAX_ATTEMPTS = 3


class Clock:
    """Epoch seconds and the same instant as a datetime; starts a minute after the real time
    (deliveries are stored with the real time and must be due at once, however slowly a busy
    machine gets from the fixture to the first delivery)."""

    def __init__(self) -> None:
        self.t = time.time() + 60

    def epoch(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class FaultBot:
    client: Any
    runtime: Any
    github: FakeGitHub
    gitee: FakeGitee
    clock: Clock

    async def deliver_github(self, event: str, payload: dict[str, Any]) -> int:
        raw = json.dumps(payload).encode()
        resp = await self.client.post(
            "/webhooks/github",
            data=raw,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(raw),
                "Content-Type": "application/json",
            },
        )
        return int(resp.status)

    async def open_github(self, repo: str, number: int, installation: int, author: str) -> Any:
        pr = self.github.add_pr(repo, number=number, author=author, commits=1)
        event = self.github.pull_request_event(pr, installation_id=installation)
        assert await self.deliver_github("pull_request", event) == 202
        return pr

    async def open_gitee(self, repo: str, number: int, author: str) -> Any:
        pr = self.gitee.add_pr(repo, number=number, author=author, commits=1)
        headers, body = self.gitee.delivery(self.gitee.merge_request_event(pr))
        resp = await self.client.post("/webhooks/gitee", data=body, headers=headers)
        assert resp.status == 202
        return pr

    async def drain(self) -> int:
        return int(await self.runtime.drain())

    async def jobs(self) -> list[Job]:
        async with self.runtime.sessions() as s:
            return list((await s.scalars(select(Job).order_by(Job.id))).all())

    async def paused_until(self, installation_id: int) -> datetime | None:
        async with self.runtime.sessions() as s:
            return await installation_paused_until(
                s, platform="github", installation_id=installation_id
            )


@pytest.fixture
async def fault_bot(
    aiohttp_client: Any,
    db_url: str,
    github: FakeGitHub,
    gitee: FakeGitee,
    e2e_app_keys: AppKeyPair,
    make_env: Any,
    tmp_path: Path,
) -> AsyncIterator[FaultBot]:
    clock = Clock()
    github.clock = clock.epoch
    gitee.clock = clock.epoch
    http = aiohttp.ClientSession()
    gh_platform = GitHubPlatform(
        session=http,
        settings=GitHubSettings(
            app_id=github.app_id,
            private_key=e2e_app_keys.private_pem,
            api_url=github.url,
            timeout_s=0.5,
        ),
        clock=clock.epoch,
    )
    ge_platform = GiteePlatform(
        session=http,
        settings=GiteeSettings(
            token=gitee.token, api_url=gitee.url, timeout_s=0.5, retry_backoff_s=0.01
        ),
        clock=clock.epoch,
    )
    pem = tmp_path / "app.pem"
    pem.write_text(e2e_app_keys.private_pem)
    env = make_env(
        db_url,
        CLA_GITHUB_APP_ID=github.app_id,
        CLA_GITHUB_PRIVATE_KEY_PATH=str(pem),
        CLA_GITHUB_WEBHOOK_SECRET="test-webhook-secret-0123456789",
        CLA_GITHUB_API_URL=github.url,
        CLA_GITEE_TOKEN=gitee.token,
        CLA_GITEE_WEBHOOK_SECRET=gitee.webhook_secret,
        CLA_GITEE_API_URL=gitee.url,
    )
    conf = settings_mod.load(env, cwd=tmp_path)
    app = create_app(
        conf,
        run_worker=False,
        clients={
            GITHUB: lambda inst: gh_platform.client(int(inst or 0)),
            GITEE: lambda _inst: ge_platform.client(),
        },
    )
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    rt.queue = JobQueue(rt.sessions, lease_s=60, max_attempts=MAX_ATTEMPTS, clock=clock.now)
    try:
        yield FaultBot(client, rt, github, gitee, clock)
    finally:
        await http.close()


async def add_installation(bot: FaultBot, installation_id: int, repo: str) -> None:
    bot.github.add_installation(installation_id, account="acme", repos=[repo])
    async with bot.runtime.sessions() as s, s.begin():
        await upsert_installation(
            s, platform="github", installation_id=installation_id, account_login="acme"
        )


# -- 5xx and timeouts: exponential backoff, then the dead letter ---------------------------------


async def test_github_502_then_timeout_back_off_and_then_succeed(fault_bot: FaultBot) -> None:
    bot = fault_bot
    await add_installation(bot, 7, "acme/app")
    bot.github.inject("GET", COMMITS, status=502)
    bot.github.inject("GET", COMMITS, delay_s=2.0)  # past the client's 0.5 s timeout
    pr = await bot.open_github("acme/app", 1, 7, "hana")

    assert await bot.drain() == 1  # attempt 1: 502
    (job,) = await bot.jobs()
    assert (job.status, job.attempts) == ("queued", 1) and "502" in (job.last_error or "")
    first_wait = (job.run_after - bot.clock.now()).total_seconds()
    assert 1.0 <= first_wait <= 2.0  # base 2 s, full jitter in [base/2, base]
    assert await bot.drain() == 0  # backing off: nothing is due
    bot.clock.advance(first_wait + 0.01)

    assert await bot.drain() == 1  # attempt 2: the forge does not answer in time
    (job,) = await bot.jobs()
    assert (job.status, job.attempts) == ("queued", 2)
    second_wait = (job.run_after - bot.clock.now()).total_seconds()
    assert 2.0 <= second_wait <= 4.0  # doubled
    bot.clock.advance(second_wait + 0.01)

    assert await bot.drain() == 1  # attempt 3: served
    (job,) = await bot.jobs()
    assert job.status == "done"
    status = bot.github.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"


@pytest.mark.parametrize("platform", ["github", "gitee"])
async def test_a_forge_that_keeps_failing_gives_a_dead_job_with_its_last_error(
    fault_bot: FaultBot, platform: str
) -> None:
    """...and the PR does not wait in silence: status ``error``, the bot's one comment saying
    the check could not run and that ``/cla check`` retries it — which then works, editing
    that comment in place."""
    bot = fault_bot
    fake: Any
    if platform == "github":
        await add_installation(bot, 7, "acme/app")
        fault = bot.github.inject("GET", COMMITS, status=502, times=100)
        pr = await bot.open_github("acme/app", 1, 7, "hana")
        fake, comments_route = bot.github, GITHUB_COMMENTS
    else:
        fault = bot.gitee.inject("GET", GITEE_COMMITS, status=502, times=100)
        pr = await bot.open_gitee("open-cla/demo", 1, "zhang-wei")
        fake, comments_route = bot.gitee, GITEE_COMMENTS
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await bot.drain() == 1, f"attempt {attempt} did not run"
        (job,) = await bot.jobs()
        bot.clock.advance(700)  # past any backoff (capped at 600 s)
    (job,) = await bot.jobs()
    assert job.status == "dead" and job.attempts == MAX_ATTEMPTS
    assert "502" in (job.last_error or "")
    assert await bot.drain() == 0  # a dead job stays dead

    (comment,) = fake.bot_comments(pr)
    assert comment.body.startswith("<!-- cla-bot -->\n### CLA check: could not run")
    assert "Anyone can run it again with a comment `/cla check` (or `recheck`)." in comment.body
    writes = [(w.method, w.route) for w in fake.writes()]
    if platform == "github":
        status = bot.github.status_for(pr.head_sha, "cla")
        assert status is not None and status.state == "error"
        assert status.description == "The CLA check could not run; comment /cla check to retry"
        assert writes == [
            ("POST", "/repos/{owner}/{repo}/check-runs"),
            ("POST", STATUSES),
            ("POST", comments_route),
        ]
        run = bot.github.check_run_for(pr.head_sha, "cla")
        assert run is not None and run.conclusion == "failure"
        assert run.title == status.description
    else:
        assert writes == [("POST", comments_route)]  # Gitee has no commit statuses
    assert await bot.drain() == 0
    assert len(fake.writes()) == len(writes), "reported once"

    fault.times = 0  # the forge is back; someone comments /cla check
    if platform == "github":
        note = bot.github.add_comment(pr, "/cla check", user="hana")
        event = bot.github.issue_comment_event(note, installation_id=7)
        assert await bot.deliver_github("issue_comment", event) == 202
    else:
        note = bot.gitee.add_comment(pr, "/cla check", user="zhang-wei")
        headers, body = bot.gitee.delivery(bot.gitee.note_event(note))
        resp = await bot.client.post("/webhooks/gitee", data=body, headers=headers)
        assert resp.status == 202
    assert await bot.drain() == 1
    (edited,) = fake.bot_comments(pr)
    assert edited.id == comment.id and "could not run" not in edited.body
    if platform == "github":
        status = bot.github.status_for(pr.head_sha, "cla")
        assert status is not None and status.state == "failure"
    assert fake.labels_of(pr) == ["cla/no"]
    jobs = await bot.jobs()
    assert [j.status for j in jobs] == ["dead", "done"]  # still listed for operators


async def test_a_repository_the_forge_answers_404_for_is_dead_at_once(fault_bot: FaultBot) -> None:
    bot = fault_bot
    await add_installation(bot, 7, "acme/app")
    bot.github.inject("GET", COMMITS, status=404, body={"message": "Not Found"}, times=100)
    pr = await bot.open_github("acme/app", 1, 7, "hana")
    assert await bot.drain() == 1
    (job,) = await bot.jobs()
    assert (job.status, job.attempts) == ("dead", 1)
    assert (job.last_error or "").startswith("the forge answered 404 (not found): ForgeNotFound")
    bot.clock.advance(700)
    assert await bot.drain() == 0  # no backoff, no second attempt
    status = bot.github.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "error"


# -- rate limits: the installation waits for the forge's deadline, no attempt is spent ------------


SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}


@pytest.mark.parametrize(
    ("status", "headers", "body", "wait_s"),
    [
        (403, {"retry-after": "30"}, SECONDARY, 30),
        (403, {}, SECONDARY, 60),  # no header: at least a minute
        (429, {}, None, 60),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "+120"}, None, 120),
    ],
    ids=["403-retry-after", "403-secondary-no-header", "429", "403-primary-reset"],
)
async def test_github_rate_limits_pause_the_installation_without_spending_attempts(
    fault_bot: FaultBot, status: int, headers: dict[str, str], body: Any, wait_s: int
) -> None:
    bot = fault_bot
    if headers.get("x-ratelimit-reset") == "+120":
        headers = {**headers, "x-ratelimit-reset": str(int(bot.clock.epoch()) + 120)}
    await add_installation(bot, 7, "acme/app")
    await add_installation(bot, 8, "other/app")
    bot.github.inject("GET", COMMITS, status=status, headers=headers, body=body)
    limited = await bot.open_github("acme/app", 1, 7, "hana")
    same_installation = await bot.open_github("acme/app", 2, 7, "ivo")
    other_installation = await bot.open_github("other/app", 1, 8, "jun")

    assert await bot.drain() == 2  # the limited job, then the other installation's
    until = await bot.paused_until(7)
    assert until is not None
    waited = (until - bot.clock.now()).total_seconds()
    assert wait_s - 2 <= waited <= wait_s + 2
    assert bot.github.status_for(other_installation.head_sha, "cla") is not None
    jobs = {j.pr_key: j for j in await bot.jobs()}
    assert jobs["github:acme/app#1"].status == "queued"
    assert jobs["github:acme/app#1"].attempts == 0  # a rate limit is not a failure
    assert jobs["github:acme/app#2"].status == "queued"  # waits with its installation

    bot.clock.advance(wait_s - 5)
    assert await bot.drain() == 0  # still paused
    bot.clock.advance(10)
    assert await bot.drain() == 2
    for pr in (limited, same_installation):
        st = bot.github.status_for(pr.head_sha, "cla")
        assert st is not None and st.state == "failure"
    assert all(j.status == "done" for j in await bot.jobs())


async def test_gitee_429_waits_for_retry_after_without_spending_attempts(
    fault_bot: FaultBot,
) -> None:
    bot = fault_bot
    bot.gitee.inject("GET", GITEE_PULL, status=429, headers={"Retry-After": "45"})
    pr = await bot.open_gitee("open-cla/demo", 1, "zhang-wei")
    assert await bot.drain() == 1
    (job,) = await bot.jobs()
    assert job.status == "queued" and job.attempts == 0
    waited = (job.run_after - bot.clock.now()).total_seconds()
    assert 43 <= waited <= 47
    bot.clock.advance(40)
    assert await bot.drain() == 0
    bot.clock.advance(10)
    assert await bot.drain() == 1
    assert bot.gitee.labels_of(pr) == ["cla/no"]


# -- 401: a stale token is dropped and replaced once; a refused one is an auth error ---------------


async def test_github_stale_token_is_replaced_once(fault_bot: FaultBot) -> None:
    bot = fault_bot
    await add_installation(bot, 7, "acme/app")
    first = await bot.open_github("acme/app", 1, 7, "hana")
    assert await bot.drain() == 1
    assert bot.github.token_requests[7] == 1
    bot.github.revoke_tokens(7)  # GitHub now answers 401 to the cached token
    second = await bot.open_github("acme/app", 2, 7, "ivo")
    assert await bot.drain() == 1
    assert bot.github.token_requests[7] == 2  # dropped, minted again, once
    for pr in (first, second):
        st = bot.github.status_for(pr.head_sha, "cla")
        assert st is not None and st.state == "failure"
    assert all(j.status == "done" and j.attempts == 1 for j in await bot.jobs())


async def test_github_401_after_a_fresh_token_is_an_auth_error_retried_later(
    fault_bot: FaultBot,
) -> None:
    bot = fault_bot
    await add_installation(bot, 7, "acme/app")
    bot.github.inject("GET", COMMITS, status=401, body={"message": "Bad credentials"}, times=2)
    await bot.open_github("acme/app", 1, 7, "hana")
    assert await bot.drain() == 1
    (job,) = await bot.jobs()
    assert job.status == "queued" and job.attempts == 1
    assert "ForgeAuthError" in (job.last_error or "")
    assert bot.github.token_requests[7] == 2  # the retry used a new token
    bot.clock.advance(5)
    assert await bot.drain() == 1
    assert (await bot.jobs())[0].status == "done"


async def test_gitee_refused_token_backs_off_then_dead_letter(fault_bot: FaultBot) -> None:
    bot = fault_bot
    bot.gitee.inject("GET", GITEE_PULL, status=401, body={"message": "401 Unauthorized"}, times=100)
    await bot.open_gitee("open-cla/demo", 1, "zhang-wei")
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert await bot.drain() == 1
        (job,) = await bot.jobs()
        if job.status == "queued":
            waits.append((job.run_after - bot.clock.now()).total_seconds())
        bot.clock.advance(700)
    (job,) = await bot.jobs()
    assert job.status == "dead" and "ForgeAuthError" in (job.last_error or "")
    assert len(waits) == MAX_ATTEMPTS - 1 and waits[1] > waits[0] * 1.0 - 1e-9
