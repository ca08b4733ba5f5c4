"""Item 7, the web side: ``cla-bot serve --no-worker`` SIGKILLed the moment a delivery's 202
arrives, with other deliveries in flight, three times over; the deliveries that were not answered
are sent again (as GitHub redelivers them). Every acknowledged delivery is stored, each PR ends
up with one check job, and once the jobs run every PR has the right status and one comment."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.sandbox.fakeforge.github import FakeGitHub
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job
from tests.e2e.conftest import Bot
from tests.helpers import sign
from tests.resilience.conftest import Proc, fast_config, free_port, soak_seconds

PRS = 48
SENDERS = 8


async def stored_keys(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            return list((await s.scalars(select(Job.delivery_key))).all())
    finally:
        await engine.dispose()


async def send_round(
    url: str,
    pending: list[tuple[str, bytes]],
    acked: set[str],
    *,
    kill_after: int | None,
    web: Proc,
) -> None:
    """Send ``pending`` with SENDERS in parallel; SIGKILL ``web`` as soon as this round has
    ``kill_after`` acknowledgements. What got a 2xx leaves ``pending``."""
    work = list(pending)
    round_acks = 0
    killed = asyncio.Event()

    async def sender(http: aiohttp.ClientSession) -> None:
        nonlocal round_acks
        while work and not killed.is_set():
            delivery, body = work.pop(0)
            headers = {
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": sign(body),
                "Content-Type": "application/json",
            }
            try:
                async with http.post(url + "/webhooks/github", data=body, headers=headers) as r:
                    status = r.status
            except (aiohttp.ClientError, OSError):
                continue  # the process died with this one in flight: not acknowledged
            if status in (200, 202):
                acked.add(delivery)
                round_acks += 1
                if kill_after is not None and round_acks >= kill_after and not killed.is_set():
                    web.kill()  # right after the 2xx, other requests still in flight
                    killed.set()
            else:
                raise AssertionError(f"delivery {delivery} answered {status}")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=SENDERS)) as http:
        await asyncio.gather(*(sender(http) for _ in range(SENDERS)))
    pending[:] = [(d, b) for d, b in pending if d not in acked]


async def kill_cycles(
    db_url: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    bot: Bot,
    tmp_path: Path,
    kills: list[int],
    prs_count: int = PRS,
) -> None:
    env = bot_env(db_url, CLA_CONFIG=str(fast_config(tmp_path)))
    github.add_installation(7, account="acme", repos=["acme/widgets"])
    prs = [
        github.add_pr("acme/widgets", number=n, author=f"dev{n}", commits=1)
        for n in range(1, prs_count + 1)  # PR numbers start at 1
    ]
    pending = [
        (
            f"kill-{uuid.uuid4()}",
            json.dumps(github.pull_request_event(pr, installation_id=7)).encode(),
        )
        for pr in prs
    ]
    all_ids = {d for d, _ in pending}
    acked: set[str] = set()
    for kill_after in [*kills, None]:
        port = free_port()
        web = procs({**env, "CLA_PORT": str(port)}, tmp_path, "serve", "--no-worker")
        await web.start()
        await send_round(web.url, pending, acked, kill_after=kill_after, web=web)
        if kill_after is not None:
            await web.wait()
            # Nothing acknowledged is lost, even with the process gone mid-flight.
            assert acked <= set(await stored_keys(db_url)), web.tail()
        else:
            await web.stop()
    assert acked == all_ids and pending == []
    keys = await stored_keys(db_url)
    assert sorted(keys) == sorted(all_ids), "one job per delivery, none twice"

    await bot.run_jobs()
    for pr in prs:
        status = github.status_for(pr.head_sha, "cla")
        assert status is not None and status.state == "failure"
        comments = github.bot_comments(pr)
        assert len(comments) == 1 and f"@{pr.user.login}" in comments[0].body


async def test_web_process_killed_right_after_a_2xx_loses_nothing(
    db_url: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    bot: Bot,
    tmp_path: Path,
) -> None:
    await kill_cycles(db_url, github, bot_env, procs, bot, tmp_path, kills=[3, 9, 17])


@pytest.mark.soak
async def test_web_process_kill_soak(
    db_url: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    bot: Bot,
    tmp_path: Path,
) -> None:
    rounds = max(4, int(soak_seconds(300) / 2))  # a process start and kill takes ~2 s
    kills = [1 + (7 * i) % 23 for i in range(rounds)]
    await kill_cycles(
        db_url, github, bot_env, procs, bot, tmp_path, kills=kills, prs_count=rounds * 12
    )
