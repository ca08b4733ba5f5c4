"""Item 11: PostgreSQL becomes unreachable under a running ``cla-bot serve`` (web and worker in
one process). The bot reaches the database through a TCP proxy on loopback that the test stops —
closing its listener and cutting every open connection — and starts again on the same port; the
real server is never touched. While it is down the webhook answers 503 and nothing is
acknowledged that was not stored; when it is back, processing resumes by itself, and the
deliveries GitHub retries are taken. The soak variant cycles outages for ``CLA_SOAK_SECONDS``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.sandbox.fakeforge.github import FakeGitHub, FakePR
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job
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

REPO = "acme/outage"
INSTALLATION = 7


class TcpProxy:
    """127.0.0.1:port → upstream, byte for byte, until stopped."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """The database is gone: no new connection, and every open one is cut."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


class Sender:
    def __init__(self, github: FakeGitHub, url: str) -> None:
        self.github = github
        self.url = url
        self.acked: set[str] = set()
        self.http = aiohttp.ClientSession()

    async def deliver(self, pr: FakePR, delivery: str) -> int:
        body = json.dumps(self.github.pull_request_event(pr, installation_id=INSTALLATION)).encode()
        headers = {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(body),
            "Content-Type": "application/json",
        }
        async with self.http.post(self.url + "/webhooks/github", data=body, headers=headers) as r:
            if 200 <= r.status < 300:
                self.acked.add(delivery)
            return r.status

    async def ready(self) -> int:
        async with self.http.get(self.url + "/readyz") as r:
            return r.status


async def stored(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            return set((await s.scalars(select(Job.delivery_key))).all())
    finally:
        await engine.dispose()


def all_checked(github: FakeGitHub, prs: list[FakePR]) -> bool:
    return all(github.status_for(pr.head_sha, "cla") is not None for pr in prs)


async def outage_cycles(
    pg_database: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    tmp_path: Path,
    *,
    cycles: int,
) -> None:
    await _truncate(pg_database)
    real = make_url(pg_database)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    via_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    github.add_installation(INSTALLATION, account="acme", repos=[REPO])
    env = bot_env(via_proxy, CLA_CONFIG=str(fast_config(tmp_path)), CLA_PORT=str(free_port()))
    bot = procs(env, tmp_path, "serve")
    await bot.start()
    sender = Sender(github, bot.url)
    prs: list[FakePR] = []
    try:
        for cycle in range(cycles):
            up = [github.add_pr(REPO, author=f"c{cycle}-up-{i}", commits=1) for i in range(8)]
            for pr in up:
                assert await sender.deliver(pr, f"up-{uuid.uuid4()}") == 202
            prs += up
            await poll_until(
                lambda prs=prs: all_checked(github, prs), timeout_s=60, what="the checks"
            )

            await proxy.stop()  # the database goes away mid-run
            down = [github.add_pr(REPO, author=f"c{cycle}-down-{i}", commits=1) for i in range(8)]
            retries = []
            for pr in down:
                delivery = f"down-{uuid.uuid4()}"
                status = await sender.deliver(pr, delivery)
                assert status == 503, f"answered {status} with the database unreachable"
                retries.append((pr, delivery))
            assert await sender.ready() == 503
            assert sender.acked <= await stored(pg_database), "acknowledged but not stored"

            await proxy.start()  # back, on the same address; the bot is not restarted

            async def ready_again() -> bool:
                return await sender.ready() == 200

            await poll_until(ready_again, timeout_s=30, what="/readyz to pass again")
            for pr, delivery in retries:  # GitHub redelivers what failed
                assert await sender.deliver(pr, delivery) in (200, 202)
            prs += down
            await poll_until(
                lambda prs=prs: all_checked(github, prs),
                timeout_s=90,
                what="processing to resume",
            )
    finally:
        await sender.http.close()
        await proxy.stop()
    assert bot.proc is not None and bot.proc.returncode is None, bot.tail()
    await bot.stop()
    keys = await stored(pg_database)
    assert sender.acked <= keys
    for pr in prs:
        status = github.status_for(pr.head_sha, "cla")
        assert status is not None and status.state == "failure"
        assert len(github.bot_comments(pr)) == 1


async def test_database_outage_answers_503_and_processing_resumes_by_itself(
    pg_database: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    await outage_cycles(pg_database, github, bot_env, procs, tmp_path, cycles=1)


@pytest.mark.soak
async def test_database_outage_soak(
    pg_database: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    await outage_cycles(
        pg_database, github, bot_env, procs, tmp_path, cycles=max(2, int(soak_seconds(300) / 15))
    )
