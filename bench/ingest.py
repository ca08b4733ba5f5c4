"""1. Webhook ingest and 6. memory.

A load generator in its own process (wrk when installed, else ``bench.loadgen``) keeps 16, then
64, validly signed ``pull_request`` deliveries (~25 KB, one pool body per PR of the fake GitHub,
a unique delivery id each) in flight against, in turn: the bare aiohttp baseline
(``bench.baseline``), ``cla-bot serve`` on SQLite, and on PostgreSQL when
``CLA_TEST_POSTGRES_URL`` is set. The bot's worker runs in the same process and checks the PRs
against the fake GitHub while the load goes on; afterwards the benchmark waits for the queue to
drain and counts accepted (202) = stored (job rows) = processed (done or coalesced).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench.common import (
    ROOT,
    WEBHOOK_SECRET,
    BotProcess,
    Forges,
    backends,
    bench_config,
    bot_env,
    free_port,
    fresh_database,
    peak_rss_mb,
    run_dir,
    wait_http,
)
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job, JobStatus

TARGET_BYTES = 25_000
POOL_PRS = 256
LUA = Path(__file__).with_name("wrk.lua")


@dataclass
class LoadSummary:
    requests: int
    duration_s: float
    p50_s: float
    p99_s: float
    errors: int
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def accepted(self) -> int:
        return self.statuses.get(202, 0)

    @property
    def refused(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300) + self.errors


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


PR_TEXT = (
    "This change reworks the widget loader so that plugins are discovered lazily. "
    "It keeps the public API as it is and adds tests for the new code paths.\n\n"
)


def seed_pool(forges: Forges, path: Path, *, prs: int = POOL_PRS) -> int:
    """PRs on the fake GitHub (4 repositories, 2 installations, one author each, unsigned) and
    a pool file of signed ``synchronize`` deliveries for them; returns the mean body size."""
    gh = forges.github
    repos = [f"acme/ingest-{i}" for i in range(4)]
    gh.add_installation(71, account="acme", repos=repos[:2])
    gh.add_installation(72, account="acme", repos=repos[2:])
    sizes = []
    with path.open("wb") as out:
        for n in range(prs):
            repo = repos[n % len(repos)]
            pr = gh.add_pr(repo, number=100 + n, author=f"dev{n:04d}", commits=1 + n % 3)
            payload = gh.pull_request_event(
                pr, action="synchronize", installation_id=71 if n % 4 < 2 else 72
            )
            base = len(json.dumps(payload).encode())
            text = PR_TEXT * max(1, (TARGET_BYTES - base) // len(PR_TEXT))
            payload["pull_request"]["body"] = text
            body = json.dumps(payload).encode()
            sizes.append(len(body))
            out.write(signature(body).encode() + b"\t" + body + b"\n")
    return sum(sizes) // len(sizes)


async def generate(
    port: int, pool: Path, *, concurrency: int, duration_s: float, prefix: str
) -> LoadSummary:
    wrk = shutil.which("wrk")
    if wrk:
        cmd = [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(duration_s))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}/webhooks/github",
            "--",
            str(pool),
            prefix,
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "bench.loadgen",
            str(port),
            str(pool),
            prefix,
            str(concurrency),
            str(duration_s),
        ]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    for line in out.decode().splitlines():
        if line.startswith("BENCH-JSON "):
            data = json.loads(line[len("BENCH-JSON ") :])
            return LoadSummary(
                requests=int(data["requests"]),
                duration_s=float(data["duration_s"]),
                p50_s=float(data["p50_s"]),
                p99_s=float(data["p99_s"]),
                errors=int(data["errors"]),
                statuses={int(k): int(v) for k, v in data["statuses"].items()},
            )
    raise RuntimeError(f"the load generator failed: {err.decode()[-1000:]}")


@dataclass
class Outcome:
    target: str
    loads: dict[int, LoadSummary] = field(default_factory=dict)
    accepted: int = 0
    stored: int = 0
    processed: int = 0
    other: dict[str, int] = field(default_factory=dict)
    drain_s: float = 0.0
    peak_rss_mb: float = 0.0
    idle_rss_mb: float = 0.0


async def job_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            rows = (
                await s.execute(
                    select(Job.status, func.count())
                    .where(Job.event == "pull_request")
                    .group_by(Job.status)
                )
            ).all()
        return {str(status): int(n) for status, n in rows}
    finally:
        await engine.dispose()


async def wait_drained(url: str, timeout_s: float) -> dict[str, int]:
    """Until no job is queued or running (the bench waiting, not the bot: a poll is fine)."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = await job_counts(url)
        if counts.get(JobStatus.QUEUED, 0) + counts.get(JobStatus.RUNNING, 0) == 0:
            return counts
        if time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.25)


async def run_baseline(pool: Path, levels: list[int], duration_s: float) -> Outcome:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.baseline",
        str(port),
        WEBHOOK_SECRET,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.DEVNULL,
    )
    out = Outcome("baseline (aiohttp, HMAC + 202)")
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz", timeout_s=30, proc=proc)
        out.idle_rss_mb = peak_rss_mb(proc.pid)
        for c in levels:
            out.loads[c] = await generate(
                port, pool, concurrency=c, duration_s=duration_s, prefix=f"base{c}"
            )
        out.accepted = sum(r.accepted for r in out.loads.values())
        out.stored = out.processed = out.accepted
        out.peak_rss_mb = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    return out


async def run_bot(
    kind: str, forges: Forges, pool: Path, directory: Path, levels: list[int], duration_s: float
) -> Outcome:
    out = Outcome(f"cla-bot serve, {'SQLite' if kind == 'sqlite' else 'PostgreSQL'}")
    sub = directory / kind
    sub.mkdir()
    async with fresh_database(kind, sub) as url:
        port = free_port()
        env = bot_env(url, sub, forges.env(sub), port=port, config=bench_config(sub))
        async with BotProcess(env, sub, "serve") as bot:
            out.idle_rss_mb = bot.peak_rss_mb()
            prefix = uuid.uuid4().hex[:8]
            warm = await generate(port, pool, concurrency=4, duration_s=1, prefix=f"{prefix}-w")
            for c in levels:
                out.loads[c] = await generate(
                    port, pool, concurrency=c, duration_s=duration_s, prefix=f"{prefix}-{c}"
                )
            ended = time.monotonic()
            counts = await wait_drained(url, timeout_s=600)
            out.drain_s = time.monotonic() - ended
            out.peak_rss_mb = bot.peak_rss_mb()
        out.accepted = warm.accepted + sum(r.accepted for r in out.loads.values())
        out.stored = sum(counts.values())
        out.processed = counts.get(JobStatus.DONE, 0) + counts.get(JobStatus.COALESCED, 0)
        out.other = {
            k: v for k, v in counts.items() if k not in (JobStatus.DONE, JobStatus.COALESCED)
        }
    return out


async def ingest(duration_s: float, *, kinds: list[str] | None = None) -> tuple[list[Outcome], int]:
    """The outcomes (baseline first) and the mean body size."""
    levels = [16, 64]
    directory = run_dir("ingest")
    pool = directory / "pool.txt"
    async with Forges(validate=False) as forges:
        body_bytes = seed_pool(forges, pool)
        results = [await run_baseline(pool, levels, duration_s)]
        for kind in kinds or backends():
            results.append(await run_bot(kind, forges, pool, directory, levels, duration_s))
    return results, body_bytes
