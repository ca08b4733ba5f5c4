"""4. Delivery to status: from the moment ``cla-bot serve`` acknowledges a ``pull_request``
delivery for a new PR to the moment the fake GitHub has its ``cla`` status — idle (one delivery
at a time) and under the ingest load (a probe every 250 ms while the load generator keeps 16
deliveries in flight). The worker is woken by the stored delivery, not by a timer.

Baseline: the floor of that path, the two forge calls a check cannot skip (the commit list and
the status), made directly from this process against the same fake."""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

from bench.common import (
    BotProcess,
    Forges,
    Table,
    backends,
    bench_config,
    bot_env,
    free_port,
    fresh_database,
    github_headers,
    ms,
    ratio,
    run_dir,
)
from bench.ingest import generate, seed_pool
from bot.sandbox.fakeforge.github import FakePR, FakeToken

PROBE_REPO = "acme/probes"
PROBE_INSTALLATION = 73
LOAD_CONCURRENCY = 16


@dataclass
class LatencyResult:
    database: str
    idle: list[float] = field(default_factory=list)
    loaded: list[float] = field(default_factory=list)
    lost: int = 0
    load_rate: float = 0.0


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else 0.0


class Prober:
    def __init__(self, forges: Forges, url: str) -> None:
        self.forges = forges
        self.url = url
        self.count = 0
        self.http = aiohttp.ClientSession()

    def new_pr(self) -> FakePR:
        self.count += 1
        gh = self.forges.github
        return gh.add_pr(PROBE_REPO, author=f"probe{self.count:05d}", commits=1)

    async def send(self, pr: FakePR) -> float:
        """Deliver ``opened`` for ``pr``; the monotonic time of the 202."""
        gh = self.forges.github
        body = json.dumps(gh.pull_request_event(pr, installation_id=PROBE_INSTALLATION)).encode()
        async with self.http.post(
            self.url + "/webhooks/github", data=body, headers=github_headers(body)
        ) as resp:
            await resp.read()
            acked = time.monotonic()
            if resp.status != 202:
                raise RuntimeError(f"probe answered {resp.status}")
        return acked

    async def one(self, timeout_s: float = 30) -> float:
        pr = self.new_pr()
        acked = await self.send(pr)
        return await self.forges.status_written(pr.head_sha, timeout_s) - acked

    async def close(self) -> None:
        await self.http.close()


async def forge_floor(forges: Forges, rounds: int) -> list[float]:
    """Commit list + status, straight to the fake with an installation token."""
    gh = forges.github
    token = "ghs_bench" + secrets.token_hex(8)
    gh.tokens[token] = FakeToken(token, PROBE_INSTALLATION, time.time() + 3600)
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}
    out = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for i in range(rounds + 1):
            pr = gh.add_pr(PROBE_REPO, author=f"floor{i:04d}", commits=1)
            base = f"{gh.url}/repos/{PROBE_REPO}"
            started = time.monotonic()
            async with http.get(f"{base}/pulls/{pr.number}/commits?per_page=100") as r:
                await r.read()
            async with http.post(
                f"{base}/statuses/{pr.head_sha}",
                json={"state": "failure", "context": "cla", "description": "floor"},
            ) as r:
                await r.read()
            if i:
                out.append(time.monotonic() - started)
    return out


async def measure(
    kind: str, forges: Forges, pool: object, directory: object, duration_s: float, probes: int
) -> LatencyResult:
    from pathlib import Path

    assert isinstance(directory, Path) and isinstance(pool, Path)
    result = LatencyResult("SQLite" if kind == "sqlite" else "PostgreSQL")
    sub = directory / kind
    sub.mkdir()
    async with fresh_database(kind, sub) as url:
        port = free_port()
        env = bot_env(url, sub, forges.env(sub), port=port, config=bench_config(sub))
        async with BotProcess(env, sub, "serve") as bot:
            prober = Prober(forges, bot.url)
            try:
                await prober.one()  # warms the installation token and the connections
                for _ in range(probes):
                    result.idle.append(await prober.one())
                load = asyncio.create_task(
                    generate(
                        port,
                        pool,
                        concurrency=LOAD_CONCURRENCY,
                        duration_s=duration_s,
                        prefix=uuid.uuid4().hex[:8],
                    )
                )
                sent: list[tuple[FakePR, float]] = []
                started = time.monotonic()
                await asyncio.sleep(min(1.0, duration_s / 4))  # pacing of the probes
                while time.monotonic() - started < duration_s - 1 and not load.done():
                    pr = prober.new_pr()
                    sent.append((pr, await prober.send(pr)))
                    await asyncio.sleep(0.25)
                summary = await load
                result.load_rate = summary.rate
                for pr, acked in sent:
                    try:
                        written = await forges.status_written(pr.head_sha, timeout_s=300)
                    except TimeoutError:
                        result.lost += 1
                    else:
                        result.loaded.append(written - acked)
            finally:
                await prober.close()
    return result


async def latency(duration_s: float, probes: int) -> tuple[list[float], list[LatencyResult]]:
    directory = run_dir("latency")
    pool = directory / "pool.txt"
    async with Forges(validate=False) as forges:
        seed_pool(forges, pool)
        forges.github.add_installation(PROBE_INSTALLATION, account="acme", repos=[PROBE_REPO])
        floor = await forge_floor(forges, probes)
        results = [
            await measure(kind, forges, pool, directory, duration_s, probes) for kind in backends()
        ]
    return floor, results


def table(floor: list[float], results: list[LatencyResult]) -> Table:
    base = statistics.median(floor)
    t = Table(
        "4. Delivery to status (acknowledgement → status on the fake GitHub)",
        ["database", "condition", "probes", "median", "× baseline", "p90", "max"],
    )
    t.add(
        "-",
        "baseline: commits + status, direct",
        len(floor),
        ms(base),
        "1.00x",
        ms(_q(floor, 0.9)),
        ms(max(floor)),
    )
    for r in results:
        for cond, values in (
            ("idle", r.idle),
            (f"under ingest load (c={LOAD_CONCURRENCY}, {r.load_rate:.0f}/s)", r.loaded),
        ):
            if not values:
                continue
            t.add(
                r.database,
                cond,
                len(values),
                ms(statistics.median(values)),
                ratio(statistics.median(values), base),
                ms(_q(values, 0.9)),
                ms(max(values)),
            )
        if r.lost:
            t.notes.append(f"{r.database}: {r.lost} probes never got a status")
    t.notes.append("target: median ≤ 100 ms when idle")
    return t
