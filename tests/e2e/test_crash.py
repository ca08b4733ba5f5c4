"""A worker process SIGKILLed mid-job, at several points, and a worker started after it: the PR
ends with exactly one bot comment, the right status and one label."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import settings
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.web.app import RUNTIME, create_app
from tests.e2e.conftest import Bot

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 5

KILL_POINTS = {
    # (route whose request triggers the kill, method): the fake holds that request, the worker
    # dies while it is in flight, and the fake then completes it (as GitHub would).
    "after-claim": ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"),
    "after-status": ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    "after-comment": ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
}


@pytest.fixture
def short_lease_config(tmp_path: Path) -> Path:
    conf = yaml.safe_load((ROOT / "app.yaml").read_text())
    conf["cla"]["worker"]["lease_s"] = LEASE_S
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
async def test_worker_killed_mid_job_leaves_one_comment_and_the_right_status(
    kill_point: str,
    aiohttp_client: Any,
    db_url: str,
    github: FakeGitHub,
    bot_env: Callable[..., dict[str, str]],
    short_lease_config: Path,
    tmp_path: Path,
) -> None:
    env = bot_env(db_url, CLA_CONFIG=str(short_lease_config))
    conf = settings.load(env, cwd=tmp_path)
    app = create_app(conf, run_worker=False)
    bot = Bot(client=await aiohttp_client(app), runtime=app[RUNTIME], github=github)

    github.add_installation(7, account="acme", repos=["acme/widgets"])
    pr = github.add_pr("acme/widgets", number=1, author="hana", commits=2)
    method, route = KILL_POINTS[kill_point]
    github.inject(method, route, delay_s=1.5)  # served normally, but late
    assert (
        await bot.deliver("pull_request", github.pull_request_event(pr, installation_id=7)) == 202
    )

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "worker",
        cwd=tmp_path,
        env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while github.count(method, route) == 0:
            if proc.returncode is not None:
                err = await proc.stderr.read() if proc.stderr else b""
                pytest.fail(f"the worker exited early: {err.decode()[-2000:]}")
            assert time.monotonic() < deadline, "the worker never reached the kill point"
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    await asyncio.sleep(2)  # the held request completes on the forge side

    # A new worker picks the job up once the dead worker's lease has expired.
    assert await bot.run_jobs() == 0, "claimed while the dead worker's lease still held"
    await asyncio.sleep(LEASE_S + 0.5)
    assert await bot.run_jobs() == 1

    status = github.status_for(pr.head_sha, "cla")
    assert status is not None and status.state == "failure"
    assert github.labels_of(pr) == ["cla/no"]
    comments = github.bot_comments(pr)
    assert len(comments) == 1 and "@hana" in comments[0].body
