"""Item 7, the worker side, the point tests/e2e/test_crash.py does not reach: a ``cla-bot
worker`` that has made every forge write of a check (status, label, comment) and is about to
commit its record is SIGKILLed — on GitHub and on Gitee. The test holds the database's write
lock from the moment the comment is on its way, so the worker provably dies before committing.
A worker started afterwards (its clock past the dead one's lease) leaves one comment, the right
status and label, and the job done."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.services.jobs import JobQueue, now_utc
from bot.storage.models import Job
from tests.e2e.conftest import Bot, GiteeBot
from tests.helpers import sign
from tests.resilience.conftest import Proc, fast_config, poll_until

GITHUB_COMMENT = ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
GITEE_COMMENT = ("POST", "/repos/{owner}/{repo}/pulls/{number}/comments")


@contextlib.asynccontextmanager
async def write_lock(db_url: str) -> AsyncIterator[None]:
    """Hold what the worker's final transaction needs, until the block exits."""
    url = make_url(db_url)
    if url.drivername.startswith("sqlite"):
        conn = sqlite3.connect(str(url.database), timeout=5, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # SQLite's one write lock
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import asyncpg

    pg = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        database=url.database,
    )
    tx = pg.transaction()
    await tx.start()
    await pg.execute("LOCK TABLE pr_checks, jobs IN EXCLUSIVE MODE")  # reads still pass
    try:
        yield
    finally:
        await tx.rollback()
        await pg.close()


@pytest.mark.parametrize("platform", ["github", "gitee"])
async def test_worker_killed_after_every_forge_write_before_committing(
    platform: str,
    gitee_bot: GiteeBot,
    db_url: str,
    github: Any,
    bot_env: Callable[..., dict[str, str]],
    gitee_env: dict[str, str],
    procs: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    bot, gitee = gitee_bot, gitee_bot.gitee
    if platform == "github":
        github.add_installation(7, account="acme", repos=["acme/widgets"])
        pr: Any = github.add_pr("acme/widgets", number=1, author="hana", commits=2)
        fake: Any = github
        method, route = GITHUB_COMMENT
        raw = json.dumps(github.pull_request_event(pr, installation_id=7)).encode()
        resp = await bot.client.post(
            "/webhooks/github",
            data=raw,
            headers={
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": "before-commit",
                "X-Hub-Signature-256": sign(raw),
                "Content-Type": "application/json",
            },
        )
        assert resp.status == 202
    else:
        pr = gitee.add_pr("open-cla/demo", number=1, author="zhang-wei", commits=2)
        fake = gitee
        method, route = GITEE_COMMENT
        assert await bot.deliver(gitee.merge_request_event(pr)) == 202
    fake.inject(method, route, delay_s=1.0)  # the comment is on the wire while we lock

    env = bot_env(
        db_url,
        CLA_PUBLIC_URL="http://cla.test",
        CLA_CONFIG=str(fast_config(tmp_path)),
        **gitee_env,
    )
    worker = procs(env, tmp_path, "worker")
    await worker.start()
    await poll_until(
        lambda: fake.count(method, route) > 0 or worker.proc.returncode is not None,
        timeout_s=60,
        what="the worker to post the comment",
    )
    assert worker.proc is not None and worker.proc.returncode is None, worker.tail()
    async with write_lock(db_url):
        # The fake answers the comment after its delay; the worker then cannot commit.
        await poll_until(
            lambda: any(r.status for r in fake.requests if (r.method, r.route) == (method, route)),
            timeout_s=30,
            what="the comment to be answered",
        )
        worker.kill()
        await worker.wait()
    assert len(fake.bot_comments(pr)) == 1  # written on the forge, never recorded

    async with bot.runtime.sessions() as s:
        job = (await s.scalars(select(Job).where(Job.kind == "check"))).one()
    assert job.status == "running", "the dead worker must not have committed anything"

    # A new worker, its clock past the dead worker's lease (no waiting for real time).
    rt = bot.runtime
    later = JobQueue(
        rt.sessions,
        lease_s=5,
        max_attempts=8,
        clock=lambda: now_utc() + timedelta(seconds=30),
    )
    rt.queue = later
    assert await rt.drain() == 1
    comments = fake.bot_comments(pr)
    assert len(comments) == 1
    assert fake.labels_of(pr) == ["cla/no"]
    if platform == "github":
        status = github.status_for(pr.head_sha, "cla")
        assert status is not None and status.state == "failure"
    async with rt.sessions() as s:
        job = (await s.scalars(select(Job).where(Job.kind == "check"))).one()
    assert job.status == "done" and job.attempts == 2


GITHUB_COMMITS = ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
COALESCING_PRS = 4  # = cla.worker.concurrency: every PR's claim is in hand when the kill comes


async def test_worker_killed_right_after_claims_that_coalesced_newer_deliveries(
    bot: Bot,
    db_url: str,
    github: Any,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    """Each PR gets ``opened`` (head A) then ``synchronize`` (head B), both acknowledged. A
    worker claims each PR's first job — coalescing the second into it — and is SIGKILLed while
    its first forge call is on the wire. The jobs claimed again after the lease must still know
    head B: every PR ends with a status on its current head."""
    github.add_installation(7, account="acme", repos=["acme/widgets"])
    prs: list[Any] = []
    for n in range(1, COALESCING_PRS + 1):
        pr = github.add_pr("acme/widgets", number=n, author="hana", commits=1)
        assert (
            await bot.deliver("pull_request", github.pull_request_event(pr, installation_id=7))
            == 202
        )
        github.add_commit(
            pr, message="more", author=("Hana", "hana@example.com"), author_login="hana"
        )
        event = github.pull_request_event(pr, action="synchronize", installation_id=7)
        assert await bot.deliver("pull_request", event) == 202
        prs.append(pr)
    github.inject(*GITHUB_COMMITS, delay_s=10.0, times=COALESCING_PRS)

    env = bot_env(db_url, CLA_CONFIG=str(fast_config(tmp_path, concurrency=COALESCING_PRS)))
    worker = procs(env, tmp_path, "worker")
    await worker.start()
    await poll_until(
        lambda: (
            github.count(*GITHUB_COMMITS) == COALESCING_PRS or worker.proc.returncode is not None
        ),
        timeout_s=60,
        what="every PR's claimed check to make its first forge call",
    )
    assert worker.proc is not None and worker.proc.returncode is None, worker.tail()
    worker.kill()
    await worker.wait()

    async with bot.runtime.sessions() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
    assert (
        sorted(j.status for j in jobs)
        == ["coalesced"] * COALESCING_PRS + ["running"] * COALESCING_PRS
    )

    rt = bot.runtime
    rt.queue = JobQueue(
        rt.sessions, lease_s=5, max_attempts=8, clock=lambda: now_utc() + timedelta(seconds=30)
    )
    assert await rt.drain() == COALESCING_PRS
    reported = [
        pr.number
        for pr in prs
        if (status := github.status_for(pr.head_sha, "cla")) is not None
        and status.state == "failure"
    ]
    assert reported == [pr.number for pr in prs]
    async with rt.sessions() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
    assert (
        sorted((j.status, j.attempts) for j in jobs if j.status != "coalesced")
        == [("done", 2)] * COALESCING_PRS
    )


async def test_a_stale_snapshot_makes_the_check_re_read_the_pr(bot: Bot, github: Any) -> None:
    """The snapshot a job carries is older than the PR (a push whose delivery is lost, or a
    job recovered from a crash): the check reads the PR again instead of retrying in vain."""
    github.add_installation(7, account="acme", repos=["acme/widgets"])
    pr = github.add_pr("acme/widgets", number=1, author="hana", commits=1)
    event = github.pull_request_event(pr, installation_id=7)
    github.add_commit(
        pr, message="pushed", author=("Hana", "hana@example.com"), author_login="hana"
    )
    assert await bot.deliver("pull_request", event) == 202
    assert await bot.run_jobs() == 1
    status = github.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert github.count("GET", "/repos/{owner}/{repo}/pulls/{pull_number}") == 1
    async with bot.runtime.sessions() as s:
        job = (await s.scalars(select(Job))).one()
    assert (job.status, job.attempts) == ("done", 1)
