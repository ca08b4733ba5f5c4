"""The durable queue: claim with a lease, coalesce, retry with backoff, dead letter, recover."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.platforms.base import ForgeNotFound, MissingPermission, RateLimited, RetryableForgeError
from bot.services.jobs import (
    ClaimedJob,
    GiveUp,
    JobQueue,
    NewJob,
    RetryLater,
    Worker,
    backoff_s,
    enqueue,
)
from bot.services.requests import CheckRequest
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Installation, Job, JobKind, JobStatus
from tests.services.conftest import API_SNAPSHOT, REPO_JSON


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)  # after the jobs put below

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def job(
    n: int, pr: str | None = "github:a/b#1", kind: JobKind = JobKind.CHECK, inst: int | None = 1
) -> NewJob:
    return NewJob(
        platform="github",
        delivery_key=f"d{n}",
        event="pull_request",
        action="synchronize",
        kind=kind,
        payload={"n": n, "pull": {"head": {"sha": f"{n:040d}"}}},
        pr_key=pr,
        installation_id=inst,
    )


async def put(sessions: Any, *jobs: NewJob) -> None:
    async with sessions() as s, s.begin():
        for j in jobs:
            assert await enqueue(s, j)


async def statuses(sessions: Any) -> dict[str, str]:
    async with sessions() as s:
        return {j.delivery_key: j.status for j in (await s.scalars(select(Job))).all()}


async def test_enqueue_dedupes_by_delivery(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        assert await enqueue(s, job(1))
        assert not await enqueue(s, job(1))
        assert await enqueue(s, job(2, pr="github:a/b#2"))
    assert len(await statuses(sessions)) == 2


async def test_burst_for_one_pr_coalesces_into_one_run_with_the_newest_payload(
    sessions: Any,
) -> None:
    await put(sessions, *(job(i) for i in range(1, 6)), job(9, pr="github:a/b#2"))
    q = JobQueue(sessions, lease_s=60, max_attempts=3)
    first = await q.claim()
    assert first is not None and first.payload["n"] == 5  # newest snapshot wins
    assert sorted(first.coalesced) == [2, 3, 4, 5]
    await q.complete(first)
    second = await q.claim()
    assert second is not None and second.pr_key == "github:a/b#2"
    await q.complete(second)
    assert await q.claim() is None
    st = await statuses(sessions)
    assert st == {
        "d1": "done",
        "d2": "coalesced",
        "d3": "coalesced",
        "d4": "coalesced",
        "d5": "coalesced",
        "d9": "done",
    }


async def test_a_pr_never_runs_twice_at_once(sessions: Any) -> None:
    await put(sessions, job(1))
    q = JobQueue(sessions, lease_s=60, max_attempts=3)
    running = await q.claim()
    assert running is not None
    await put(sessions, job(2))  # arrives while job 1 runs: must wait, not run alongside
    assert await q.claim() is None
    await q.complete(running)
    nxt = await q.claim()
    assert nxt is not None and nxt.payload["n"] == 2


async def test_expired_lease_is_claimed_again(sessions: Any) -> None:
    clock = Clock()
    await put(sessions, job(1))
    crashed = JobQueue(sessions, lease_s=30, max_attempts=3, worker_id="crashed", clock=clock)
    assert await crashed.claim() is not None  # ...and the process dies here
    survivor = JobQueue(sessions, lease_s=30, max_attempts=3, worker_id="survivor", clock=clock)
    assert await survivor.claim() is None  # the lease still holds
    clock.advance(31)
    again = await survivor.claim()
    assert again is not None and again.attempts == 2
    await crashed.complete(again)  # the dead worker's late write must not land
    assert (await statuses(sessions))["d1"] == "running"
    await survivor.complete(again)
    assert (await statuses(sessions))["d1"] == "done"


async def test_forge_errors_back_off_then_go_dead_with_the_last_error(sessions: Any) -> None:
    clock = Clock()
    await put(sessions, job(1))
    q = JobQueue(sessions, lease_s=30, max_attempts=3, clock=clock)
    calls = 0

    async def failing(j: ClaimedJob) -> None:
        nonlocal calls
        calls += 1
        raise RetryableForgeError(f"502 from forge, try {calls}", status=502)

    w = Worker(q, failing, concurrency=1, poll_s=0.01)
    assert await w.run_one()
    assert not await w.run_one()  # backing off: not ready yet
    for _ in range(2):
        clock.advance(BACKOFF_MAX := 700)
        assert await w.run_one()
    assert calls == 3
    async with sessions() as s:
        row = (await s.scalars(select(Job))).one()
    assert row.status == JobStatus.DEAD
    assert "try 3" in (row.last_error or "")
    assert BACKOFF_MAX > 600


def test_backoff_grows_exponentially_with_jitter() -> None:
    rng = random.Random(7)
    values = [backoff_s(n, rng=rng) for n in range(1, 12)]
    assert 1 <= values[0] <= 2
    assert 8 <= values[3] <= 16
    assert all(v <= 600 for v in values)
    assert len({round(backoff_s(3, rng=rng), 6) for _ in range(20)}) > 1  # jittered


async def test_rate_limit_pauses_the_installation_without_spending_attempts(sessions: Any) -> None:
    clock = Clock()
    async with sessions() as s, s.begin():
        s.add(Installation(platform="github", installation_id=1, account_login="acme"))
    await put(sessions, job(1), job(2, pr="github:a/b#2"), job(3, pr="github:c/d#1", inst=2))
    q = JobQueue(sessions, lease_s=30, max_attempts=1, clock=clock)
    until = clock.now + timedelta(seconds=120)

    async def limited(j: ClaimedJob) -> None:
        if j.installation_id == 1:
            raise RateLimited("secondary rate limit", until=until, status=403)

    w = Worker(q, limited, concurrency=1, poll_s=0.01)
    assert await w.run_one()  # job 1 hits the limit
    # installation 1 is paused: its other job waits; installation 2 still runs
    nxt = await q.claim()
    assert nxt is not None and nxt.installation_id == 2
    await q.complete(nxt)
    assert await q.claim() is None
    st = await statuses(sessions)
    assert st["d1"] == "queued" and st["d2"] == "queued"  # not dead, though max_attempts=1
    clock.advance(121)
    assert (await q.claim()) is not None


async def test_two_workers_never_process_the_same_job_twice(db_url: str, sessions: Any) -> None:
    """Two independent queues (as two processes would have) race over 60 jobs."""
    await put(sessions, *(job(i, pr=f"github:a/b#{i % 20}") for i in range(60)))
    engines = [create_engine(db_url) for _ in range(2)]
    seen: list[int] = []

    async def handler(j: ClaimedJob) -> None:
        seen.append(j.id)
        await asyncio.sleep(0.001)

    workers = [
        Worker(
            JobQueue(session_factory(e), lease_s=60, max_attempts=3, worker_id=f"w{i}"),
            handler,
            concurrency=1,
            poll_s=0.01,
        )
        for i, e in enumerate(engines)
    ]
    try:
        await asyncio.gather(*(w.drain() for w in workers))
        # a worker may stop early while the other holds the last PR: drain again
        await asyncio.gather(*(w.drain() for w in workers))
    finally:
        for e in engines:
            await e.dispose()
    assert len(seen) == len(set(seen)), "a job ran twice"
    st = await statuses(sessions)
    assert all(v in ("done", "coalesced") for v in st.values())
    assert len(seen) + sum(v == "coalesced" for v in st.values()) == 60


@pytest.mark.parametrize(
    ("error", "last_error"),
    [
        (
            ForgeNotFound("GET /repos/a/b/pulls/1/commits: 404 Not Found", status=404),
            "the forge answered 404 (not found): ForgeNotFound: "
            "GET /repos/a/b/pulls/1/commits: 404 Not Found",
        ),
        (
            MissingPermission("compare: HTTP 403", accepted=((("contents", "read"),),)),
            "the installation lacks a permission: compare: HTTP 403",
        ),
    ],
)
async def test_a_job_no_retry_can_help_is_dead_lettered_at_once(
    sessions: Any, error: Exception, last_error: str
) -> None:
    """404 on the job's repository, or a permission the installation lacks (until an owner
    grants it): no retry can succeed, so no backoff and no second try."""
    clock = Clock()
    await put(sessions, job(1))
    q = JobQueue(sessions, lease_s=30, max_attempts=8, clock=clock)
    calls = 0
    reported: list[tuple[int, str]] = []

    async def gone(j: ClaimedJob) -> None:
        nonlocal calls
        calls += 1
        raise error

    async def on_dead(j: ClaimedJob, error: str) -> None:
        reported.append((j.id, error))

    w = Worker(q, gone, concurrency=1, poll_s=0.01, on_dead=on_dead)
    assert await w.run_one()
    clock.advance(700)
    assert not await w.run_one()
    assert calls == 1
    async with sessions() as s:
        row = (await s.scalars(select(Job))).one()
    assert (row.status, row.attempts, row.lease_until) == (JobStatus.DEAD, 1, None)
    assert row.last_error == last_error
    assert reported == [(row.id, row.last_error)]


async def test_a_job_that_exhausts_its_retries_is_reported_once_and_stays_dead(
    sessions: Any,
) -> None:
    clock = Clock()
    await put(sessions, job(1))
    q = JobQueue(sessions, lease_s=30, max_attempts=2, clock=clock)
    reported: list[str] = []

    async def failing(j: ClaimedJob) -> None:
        raise RetryableForgeError("502 from forge", status=502)

    async def on_dead(j: ClaimedJob, error: str) -> None:
        reported.append(error)
        raise RuntimeError("the forge is down for the report too")  # best effort: logged

    w = Worker(q, failing, concurrency=1, poll_s=0.01, on_dead=on_dead)
    assert await w.run_one()
    assert reported == []  # queued again, not dead yet
    clock.advance(700)
    assert await w.run_one()
    assert reported == ["RetryableForgeError: 502 from forge"]
    assert (await statuses(sessions))["d1"] == JobStatus.DEAD


async def test_coalescing_persists_the_newest_snapshot_with_the_claim(sessions: Any) -> None:
    """A worker that dies right after a claim that coalesced newer deliveries: the job claimed
    again after its lease carries the newest snapshot, not the one it was stored with."""
    clock = Clock()
    await put(sessions, job(1), job(2), job(3))
    crashed = JobQueue(sessions, lease_s=30, max_attempts=3, worker_id="crashed", clock=clock)
    first = await crashed.claim()
    assert first is not None and first.payload["n"] == 3 and first.coalesced == [2, 3]
    # ...the process dies here
    clock.advance(31)
    survivor = JobQueue(sessions, lease_s=30, max_attempts=3, worker_id="survivor", clock=clock)
    again = await survivor.claim()
    assert again is not None and again.id == first.id and again.attempts == 2
    assert again.payload == {"n": 3, "pull": {"head": {"sha": f"{3:040d}"}}}


async def test_retry_later_queues_the_job_again_with_backoff_until_it_is_dead(
    sessions: Any,
) -> None:
    """A handler's ``RetryLater(reason)``: queued again after the backoff of its attempt, the
    reason kept as its last error; dead (and reported once) when attempts run out."""
    clock = Clock()
    await put(sessions, job(1))
    q = JobQueue(sessions, lease_s=30, max_attempts=2, clock=clock)
    reported: list[tuple[int, str]] = []

    async def unreachable(j: ClaimedJob) -> None:
        raise RetryLater("the mail server cannot be reached")

    async def on_dead(j: ClaimedJob, error: str) -> None:
        reported.append((j.id, error))

    w = Worker(q, unreachable, concurrency=1, poll_s=0.01, on_dead=on_dead)
    assert await w.run_one()
    async with sessions() as s:
        row = (await s.scalars(select(Job))).one()
    assert (row.status, row.attempts, row.lease_until) == (JobStatus.QUEUED, 1, None)
    assert row.last_error == "the mail server cannot be reached"
    waited = (row.run_after.replace(tzinfo=UTC) - clock.now).total_seconds()
    assert 1.0 <= waited <= 2.0  # backoff_s(1): full jitter in [base/2, base]
    assert not await w.run_one()  # not before its time
    assert reported == []
    clock.advance(3)
    assert await w.run_one()
    async with sessions() as s:
        row = (await s.scalars(select(Job))).one()
    assert (row.status, row.attempts) == (JobStatus.DEAD, 2)
    assert row.last_error == "the mail server cannot be reached"
    assert reported == [(row.id, "the mail server cannot be reached")]


async def test_give_up_dead_letters_the_job_at_once_and_reports_it(sessions: Any) -> None:
    """A handler's ``GiveUp(reason)``: dead on its first attempt whatever attempts are left,
    its payload kept for operators, reported once with the reason, never run again."""
    clock = Clock()
    await put(sessions, job(1))
    q = JobQueue(sessions, lease_s=30, max_attempts=8, clock=clock)
    calls = 0
    reported: list[tuple[int, str]] = []

    async def refused(j: ClaimedJob) -> None:
        nonlocal calls
        calls += 1
        raise GiveUp("the mail server refused the address (550)")

    async def on_dead(j: ClaimedJob, error: str) -> None:
        reported.append((j.id, error))

    w = Worker(q, refused, concurrency=1, poll_s=0.01, on_dead=on_dead)
    assert await w.run_one()
    clock.advance(700)
    assert not await w.run_one()
    assert calls == 1
    async with sessions() as s:
        row = (await s.scalars(select(Job))).one()
    assert (row.status, row.attempts, row.lease_until) == (JobStatus.DEAD, 1, None)
    assert row.last_error == "the mail server refused the address (550)"
    assert row.payload == job(1).payload
    assert reported == [(row.id, "the mail server refused the address (550)")]


async def test_give_up_after_the_lease_was_lost_leaves_the_new_owner_s_job_alone(
    sessions: Any,
) -> None:
    """A worker that gives up on a job another worker has claimed since (its lease ran out)
    neither kills nor reports that job."""
    clock = Clock()
    await put(sessions, job(1))
    slow = JobQueue(sessions, lease_s=30, max_attempts=3, worker_id="slow", clock=clock)
    other = JobQueue(sessions, lease_s=30, max_attempts=3, worker_id="other", clock=clock)
    reported: list[str] = []

    async def late(j: ClaimedJob) -> None:
        clock.advance(31)
        assert await other.claim() is not None  # taken over meanwhile
        raise GiveUp("too late")

    async def on_dead(j: ClaimedJob, error: str) -> None:
        reported.append(error)

    assert await Worker(slow, late, concurrency=1, poll_s=0.01, on_dead=on_dead).run_one()
    async with sessions() as s:
        row = (await s.scalars(select(Job))).one()
    assert (row.status, row.locked_by, row.last_error) == (JobStatus.RUNNING, "other", None)
    assert reported == []


async def test_a_check_queued_before_an_upgrade_coalesces_with_a_typed_one(
    sessions: Any,
) -> None:
    """An old check job (the forge's API snapshot) and a newer one stored as a typed request:
    the claim carries the newer request, which reads as its own PR snapshot."""
    old = {"repo": REPO_JSON, "number": 4, "pull": API_SNAPSHOT, "trigger": "pull_request"}
    older = CheckRequest.from_json("github", old, installation_id=1)
    assert older.pull is not None and older.pull.head_sha == "a" * 40
    newer = dataclasses.replace(
        older, pull=dataclasses.replace(older.pull, head_sha="c" * 40, labels=())
    )
    await put(
        sessions,
        dataclasses.replace(job(1, pr="github:acme/widgets#4"), payload=old),
        dataclasses.replace(job(2, pr="github:acme/widgets#4"), payload=newer.to_json()),
    )
    claimed = await JobQueue(sessions, lease_s=30, max_attempts=3).claim()
    assert claimed is not None and claimed.coalesced == [2]
    assert CheckRequest.from_json("github", claimed.payload) == newer
