"""The resilience suite: real processes killed, forges failing, fuzzed
webhooks, several replicas on PostgreSQL, and the database going away.

Long runs are marked ``@pytest.mark.soak`` and skipped unless ``CLA_SOAK_SECONDS`` is set
(``make soak``); everything else runs in ``make test``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.web.app import create_app
from bot.web.keys import SESSIONS

# The e2e fixtures (fakes, the in-process bot, the environment builders) serve here too.
from tests.e2e.conftest import (  # noqa: F401
    bot,
    bot_env,
    e2e_app_keys,
    gitee,
    gitee_bot,
    gitee_env,
    github,
    mail_bot,
    outbox,
)
from tests.helpers import WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("CLA_TEST_POSTGRES_URL", "").strip()
NEEDS_PG = (
    "SKIPPED LOUDLY: this resilience test needs PostgreSQL — set CLA_TEST_POSTGRES_URL "
    "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
)


@pytest.fixture
def webhook_app(
    aiohttp_client: Any,
    make_settings: Any,
    gitee: FakeGitee,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> Callable[[str], Any]:
    """Both webhook endpoints on a database (no worker, no forge clients): ``await
    webhook_app(url)`` gives the test client."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "app.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    async def make(db_url: str) -> Any:
        conf = make_settings(
            db_url,
            CLA_GITHUB_APP_ID="12345",
            CLA_GITHUB_PRIVATE_KEY_PATH=str(pem),
            CLA_GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
            CLA_GITEE_TOKEN=gitee.token,
            CLA_GITEE_WEBHOOK_SECRET=gitee.webhook_secret,
            CLA_GITEE_API_URL=gitee.url,
        )
        return await aiohttp_client(create_app(conf, run_worker=False, clients={}))

    return make


@pytest.fixture
async def fuzz_client(webhook_app: Callable[[str], Any], sqlite_url: str) -> Any:
    return await webhook_app(sqlite_url)


async def table_counts(client: Any, models: tuple[type, ...]) -> tuple[int, ...]:
    """Rows per model: equal before and after means nothing was written."""
    from sqlalchemy import func, select

    counts = []
    async with client.app[SESSIONS]() as s:
        for model in models:
            counts.append(int(await s.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(counts)


def soak_seconds(default: float) -> float:
    """How long a soak test runs (``CLA_SOAK_SECONDS``)."""
    return float(os.environ.get("CLA_SOAK_SECONDS") or default)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CLA_SOAK_SECONDS"):
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak` (sets CLA_SOAK_SECONDS)")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_config(tmp_path: Path, **worker: Any) -> Path:
    """app.yaml with a short lease and poll (workers in other processes are not woken by the
    web process, they poll)."""
    conf = yaml.safe_load((ROOT / "app.yaml").read_text())
    conf["cla"]["worker"].update({"lease_s": 5, "poll_s": 0.1, **worker})
    path = tmp_path / f"app-{len(worker)}-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


class Proc:
    """``python -m bot ARGS`` in a subprocess with ``env``; output kept in a log file."""

    def __init__(self, env: Mapping[str, str], cwd: Path, *args: str) -> None:
        self.env = {
            **env,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
        }
        self.args = args
        self.cwd = cwd
        self.port = int(self.env.get("CLA_PORT", "0"))
        self.log = cwd / f"proc-{'-'.join(args)}-{time.monotonic_ns()}.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout_s: float = 60) -> Proc:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *self.args,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=out,
            )
        if self.args[0] == "serve":
            await self.wait_ready(timeout_s)
        return self

    async def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as http:
            while True:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    pytest.fail(f"{self.args} exited early:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                assert time.monotonic() < deadline, f"{self.args} never answered /healthz"
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def wait(self) -> None:
        if self.proc is not None:
            await asyncio.wait_for(self.proc.wait(), timeout=15)

    def tail(self, n: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-n:]
        return ""


@pytest.fixture
async def procs() -> AsyncIterator[Callable[..., Proc]]:
    """Make processes; every one still running is stopped at the end of the test."""
    made: list[Proc] = []

    def make(env: Mapping[str, str], cwd: Path, *args: str) -> Proc:
        p = Proc(env, cwd, *args)
        made.append(p)
        return p

    yield make
    for p in made:
        await p.stop()


async def poll_until(
    check: Callable[[], Any], *, timeout_s: float, what: str, every_s: float = 0.05
) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy, with a deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(every_s)
