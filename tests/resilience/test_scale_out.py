"""Item 10: two ``cla-bot serve --no-worker`` and two ``cla-bot worker`` processes on one
PostgreSQL database. A few hundred deliveries are spread over both web processes — every PR
opened, half of them redelivered to the other replica, a third pushed to again — and afterwards
every delivery is stored once, every job ran once (one claim, one status per head), and every PR
shows the right status with exactly one comment when someone must sign.

The soak variant (``make soak``) keeps delivering for ``CLA_SOAK_SECONDS``."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.sandbox.fakeforge.github import FakeGitHub, FakePR
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job
from bot.storage.signatures import NewSignature, record_signature
from tests.conftest import PG_URL, _truncate
from tests.helpers import sign
from tests.resilience.conftest import (
    NEEDS_PG,
    Proc,
    fast_config,
    free_port,
    poll_until,
    soak_seconds,
)

pytestmark = pytest.mark.skipif(not PG_URL, reason=NEEDS_PG)

REPOS = [f"acme/scale-{i}" for i in range(4)]
INSTALLATION = 7


class Cluster:
    def __init__(self, github: FakeGitHub, url: str, webs: list[Proc]) -> None:
        self.github = github
        self.url = url
        self.webs = webs
        self.accepted: set[str] = set()  # delivery ids answered 202
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16))

    async def deliver(self, web: Proc, pr: FakePR, action: str, delivery: str) -> int:
        body = json.dumps(
            self.github.pull_request_event(pr, action=action, installation_id=INSTALLATION)
        ).encode()
        headers = {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(body),
            "Content-Type": "application/json",
        }
        async with self.http.post(web.url + "/webhooks/github", data=body, headers=headers) as r:
            if r.status == 202:
                self.accepted.add(delivery)
            return r.status

    async def close(self) -> None:
        await self.http.close()


async def sign_up(url: str, cipher: FieldCipher, github: FakeGitHub, logins: list[str]) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s, s.begin():
            for login in logins:
                await record_signature(
                    s,
                    cipher,
                    NewSignature(
                        platform="github",
                        account_id=str(github.user(login).id),
                        login=login,
                        email=None,
                        name=login,
                        agreement_id="individual",
                        version="1.0",
                        signed_at=datetime.now(UTC),
                        source="import",
                    ),
                )
    finally:
        await engine.dispose()


async def queue_settled(url: str) -> dict[str, int] | None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            rows = (await s.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    finally:
        await engine.dispose()
    counts = {str(k): int(v) for k, v in rows}
    return None if counts.get("queued", 0) + counts.get("running", 0) else counts


async def run_cluster(
    pg_database: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    cipher: FieldCipher,
    tmp_path: Path,
    *,
    prs_per_wave: int,
    seconds: float,
) -> None:
    await _truncate(pg_database)
    env = bot_env(pg_database, CLA_CONFIG=str(fast_config(tmp_path, concurrency=4)))
    github.add_installation(INSTALLATION, account="acme", repos=REPOS)
    webs = [
        procs({**env, "CLA_PORT": str(free_port())}, tmp_path, "serve", "--no-worker")
        for _ in range(2)
    ]
    await asyncio.gather(*(w.start() for w in webs))  # they publish the agreements
    workers = [procs(env, tmp_path, "worker") for _ in range(2)]
    await asyncio.gather(*(w.start() for w in workers))
    cluster = Cluster(github, pg_database, webs)
    prs: list[tuple[FakePR, bool]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    wave = 0
    try:
        while True:
            wave += 1
            batch: list[tuple[FakePR, bool]] = []
            for n in range(prs_per_wave):
                signed = n % 2 == 0
                login = f"w{wave}-{'signed' if signed else 'new'}-{n}"
                pr = github.add_pr(REPOS[n % len(REPOS)], author=login, commits=1 + n % 2)
                batch.append((pr, signed))
            await sign_up(pg_database, cipher, github, [pr.user.login for pr, s in batch if s])

            async def one(i: int, pr: FakePR) -> None:
                delivery = f"open-{uuid.uuid4()}"
                first, other = webs[i % 2], webs[(i + 1) % 2]
                assert await cluster.deliver(first, pr, "opened", delivery) == 202
                if i % 2 == 0:  # GitHub redelivers, and the other replica gets it
                    assert await cluster.deliver(other, pr, "opened", delivery) == 200
                if i % 3 == 0:
                    github.add_commit(
                        pr,
                        author=(pr.user.login, f"{pr.user.login}@example.com"),
                        author_login=pr.user.login,
                    )
                    assert (
                        await cluster.deliver(other, pr, "synchronize", f"push-{uuid.uuid4()}")
                        == 202
                    )

            await asyncio.gather(*(one(i, pr) for i, (pr, _) in enumerate(batch)))
            prs += batch
            if loop.time() >= deadline:
                break

        counts = await poll_until(
            lambda: queue_settled(pg_database),
            timeout_s=180,
            what="both workers to drain the queue",
            every_s=0.2,
        )
    finally:
        await cluster.close()
        for p in (*workers, *webs):
            assert p.proc is not None and p.proc.returncode is None, p.tail()

    engine = create_engine(pg_database)
    try:
        async with session_factory(engine)() as s:
            jobs = list((await s.scalars(select(Job))).all())
    finally:
        await engine.dispose()
    assert sorted(j.delivery_key for j in jobs) == sorted(cluster.accepted), (
        "each delivery stored once, none lost"
    )
    assert set(counts) <= {"done", "coalesced"}, counts
    assert all(j.attempts == 1 for j in jobs if j.status == "done"), "a job was claimed twice"
    assert {j.locked_by for j in jobs if j.status == "done"} <= {None, *_worker_ids(jobs)}
    for pr, signed in prs:
        statuses = github.statuses_for(pr.head_sha)
        assert len(statuses) == 1, f"{pr.repo.full_name}#{pr.number}: {len(statuses)} statuses"
        assert statuses[0].state == ("success" if signed else "failure")
        comments = github.bot_comments(pr)
        assert len(comments) == (0 if signed else 1)
    assert github.violations == []


def _worker_ids(jobs: list[Any]) -> set[str]:
    return {j.locked_by for j in jobs if j.locked_by}


async def test_two_web_processes_and_two_workers_process_every_job_once(
    pg_database: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    cipher: FieldCipher,
    tmp_path: Path,
) -> None:
    await run_cluster(
        pg_database, github, bot_env, procs, cipher, tmp_path, prs_per_wave=120, seconds=0
    )


@pytest.mark.soak
async def test_scale_out_soak(
    pg_database: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    cipher: FieldCipher,
    tmp_path: Path,
) -> None:
    await run_cluster(
        pg_database,
        github,
        bot_env,
        procs,
        cipher,
        tmp_path,
        prs_per_wave=60,
        seconds=soak_seconds(300),
    )
