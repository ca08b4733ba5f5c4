"""What every benchmark shares: the machine, tables, run directories, the fake forges, and a
``cla-bot serve`` (or ``cla-bot worker``) subprocess pointed at them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import FakeGitHub, generate_app_keypair
from bot.storage.crypto import generate_env_keys

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
OAUTH_CLIENT_ID = "Iv1.benchclient"
OAUTH_CLIENT_SECRET = "bench-oauth-client-secret"
GITEE_CLIENT_ID = "gitee-bench-client"
GITEE_CLIENT_SECRET = "gitee-bench-client-secret"
PG_URL = os.environ.get("CLA_TEST_POSTGRES_URL", "").strip()


# -- the machine and the tables -------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


async def postgres_version(url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
    )
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def machine_line() -> str:
    pg = "not set (CLA_TEST_POSTGRES_URL)"
    if PG_URL:
        try:
            pg = await postgres_version(PG_URL)
        except Exception as exc:  # shown, not fatal: the SQLite figures still stand
            pg = f"unreachable ({type(exc).__name__})"
    wrk = shutil.which("wrk")
    return (
        f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}, "
        f"load generator {'wrk' if wrk else 'bench.loadgen (python; install wrk)'}"
    )


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def render(self) -> str:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        out = [f"### {self.title}", "", line(self.columns)]
        out.append("| " + " | ".join("-" * w for w in widths) + " |")
        out += [line(r) for r in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out)


def ratio(value: float, base: float) -> str:
    if base <= 0:
        return "-"
    return f"{value / base:.2f}x"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- run directories, ports, keys -----------------------------------------------------------------


def run_dir(name: str) -> Path:
    path = VAR / "runs" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_keys() -> dict[str, str]:
    """The bot's keys for benchmarks: made once and kept in var/bench/keys.json, so that the
    cached signature databases stay readable between runs."""
    path = VAR / "keys.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    VAR.mkdir(parents=True, exist_ok=True)
    keys = generate_env_keys()
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


def bench_config(directory: Path, **worker: Any) -> Path:
    """app.yaml with the worker settings overridden."""
    conf = yaml.safe_load((ROOT / "app.yaml").read_text())
    conf["cla"]["worker"].update(worker)
    path = directory / "app.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


# -- databases ------------------------------------------------------------------------------------


def _upgrade_in_thread(url: str) -> None:
    from bot.storage.db import _upgrade

    _upgrade(url, "head")


async def migrate(url: str) -> None:
    await asyncio.to_thread(_upgrade_in_thread, url)


async def _pg_admin(sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(PG_URL)
    conn = await asyncpg.connect(
        user=u.username, password=u.password, host=u.host, port=u.port, database=u.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_url_for(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def fresh_database(kind: str, directory: Path) -> AsyncIterator[str]:
    """A migrated, empty database: a SQLite file in ``directory`` or a new PostgreSQL
    database (dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'cla.db'}"
        await migrate(url)
        yield url
        return
    name = f"cla_bench_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        url = pg_url_for(name)
        await migrate(url)
        yield url
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backends() -> list[str]:
    return ["sqlite"] + (["postgres"] if PG_URL else [])


# -- the fake forges, with a log of the bot's writes -------------------------------------------


STATUS_PATH = re.compile(r"^(?:/api/v3)?/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]{40})$")
GITEE_LABELS_PATH = re.compile(r"^/api/v5/repos/([^/]+)/([^/]+)/pulls/(\d+)/labels")


@dataclass(frozen=True, slots=True)
class Write:
    t: float  # time.monotonic() when the forge answered
    platform: str
    method: str
    path: str
    status: int


class _Unchecked:
    """The fake's OpenAPI routes without its request validation."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.routes = inner.routes

    def match(self, raw_path: str) -> Any:
        return self._inner.match(raw_path)

    def check_request(
        self, op: Any, path_params: Any, query: Any, body: bytes, content_type: str
    ) -> tuple[list[str], Any]:
        return [], (json.loads(body) if body.strip() else None)


def _no_check(*_args: Any) -> None:
    return None


class Forges:
    """The fakes of bot/sandbox/fakeforge on loopback. Every answered request is logged with the
    time it was answered; ``wait_for`` resolves when a predicate over the fakes holds, checked after
    each answer (no polling)."""

    def __init__(self, *, validate: bool = True) -> None:
        self.keys = generate_app_keypair()
        self.github = FakeGitHub(app_id="4242", public_key_pem=self.keys.public_pem)
        self.gitee = FakeGitee()
        if not validate:
            # Load benchmarks: the fake's OpenAPI checks of every request and answer cost more
            # CPU than the bot's own work and share its two cores; the other benchmarks and the
            # tests keep them on.
            setattr(self.github, "openapi", _Unchecked(self.github.openapi))  # noqa: B010
            setattr(self.github, "_check_response", _no_check)  # noqa: B010
        self.log: list[Write] = []
        self.status_at: dict[str, float] = {}  # head sha → when its first status was written
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        for name, fake_app in (("github", self.github.app), ("gitee", self.gitee.app)):
            fake_app.on_response_prepare.append(self._observer(name))

    def _observer(self, name: str) -> Callable[[web.Request, web.StreamResponse], Any]:
        async def observe(request: web.Request, response: web.StreamResponse) -> None:
            now = time.monotonic()
            self.log.append(Write(now, name, request.method, request.path, response.status))
            if request.method == "POST" and 200 <= response.status < 300:
                m = STATUS_PATH.match(request.path)
                if m:
                    self.status_at.setdefault(m.group(3), now)
            if self._waiters:
                asyncio.get_running_loop().call_soon(self._check, now)

        return observe

    def _check(self, now: float) -> None:
        keep = []
        for predicate, fut in self._waiters:
            if fut.done():
                continue
            if predicate():
                fut.set_result(now)
            else:
                keep.append((predicate, fut))
        self._waiters = keep

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> float:
        """The monotonic time at which ``predicate`` first held after a forge answer."""
        if predicate():
            return time.monotonic()
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, fut))
        return await asyncio.wait_for(fut, timeout=timeout_s)

    async def status_written(self, sha: str, timeout_s: float) -> float:
        """When the first status of ``sha`` was written (waits for it)."""
        await self.wait_for(lambda: sha in self.status_at, timeout_s)
        return self.status_at[sha]

    async def __aenter__(self) -> Forges:
        await self.github.start()
        await self.gitee.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.github.close()
        await self.gitee.close()

    def env(self, directory: Path) -> dict[str, str]:
        pem = directory / "app.pem"
        pem.write_text(self.keys.private_pem)
        return {
            "CLA_GITHUB_APP_ID": self.github.app_id,
            "CLA_GITHUB_PRIVATE_KEY_PATH": str(pem),
            "CLA_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CLA_GITHUB_API_URL": self.github.url,
            "CLA_GITHUB_URL": self.github.web_url,
            "CLA_GITHUB_CLIENT_ID": OAUTH_CLIENT_ID,
            "CLA_GITHUB_CLIENT_SECRET": OAUTH_CLIENT_SECRET,
            "CLA_GITEE_TOKEN": self.gitee.token,
            "CLA_GITEE_WEBHOOK_SECRET": self.gitee.webhook_secret,
            "CLA_GITEE_API_URL": self.gitee.url,
            "CLA_GITEE_URL": self.gitee.origin,
            "CLA_GITEE_CLIENT_ID": GITEE_CLIENT_ID,
            "CLA_GITEE_CLIENT_SECRET": GITEE_CLIENT_SECRET,
        }


# -- the bot as a subprocess -----------------------------------------------------------------------


def bot_env(
    db_url: str,
    directory: Path,
    forge_env: Mapping[str, str],
    *,
    port: int,
    config: Path | None = None,
    log_level: str = "WARNING",
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "CLA_DATABASE_URL": db_url,
        "CLA_CONFIG": str(config or ROOT / "app.yaml"),
        "CLA_VAR_DIR": str(directory / "var"),
        "CLA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CLA_HOST": "127.0.0.1",
        "CLA_PORT": str(port),
        "CLA_LOG_LEVEL": log_level,
        **bench_keys(),
        **forge_env,
    }
    return env


class BotProcess:
    """``cla-bot serve`` (or ``worker``) in a subprocess; stderr goes to a log file."""

    def __init__(self, env: Mapping[str, str], directory: Path, *args: str) -> None:
        self.env = dict(env)
        self.args = args or ("serve",)
        self.log_path = directory / f"bot-{'-'.join(self.args)}-{uuid.uuid4().hex[:4]}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.port = int(self.env.get("CLA_PORT", "0"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, *, timeout_s: float = 60) -> BotProcess:
        log = self.log_path.open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *self.args,
            cwd=str(self.log_path.parent),
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        if self.args[0] == "serve":
            await wait_http(self.url + "/healthz", timeout_s=timeout_s, proc=self.proc)
        return self

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid) if self.proc is not None else 0.0

    def rss_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmRSS") / 1024 if self.proc is not None else 0.0

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    async def __aenter__(self) -> BotProcess:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _status_kb(pid: int, key: str) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    return 0.0


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    return _status_kb(pid, "VmHWM") / 1024


async def wait_http(
    url: str, *, timeout_s: float, proc: asyncio.subprocess.Process | None = None
) -> None:
    """Until ``url`` answers 200 (start-up only: the benchmark clocks start after this)."""
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as http:
        while True:
            if proc is not None and proc.returncode is not None:
                raise RuntimeError(f"the process exited with {proc.returncode} during start-up")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout_s} s")
            await asyncio.sleep(0.05)


@contextlib.contextmanager
def timer() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    done: list[float] = []
    yield lambda: done[0] if done else time.perf_counter() - started
    done.append(time.perf_counter() - started)


# -- the bot in this process (traffic and scale: no load, exact request logs) ----------------------


class InProcessBot:
    """``create_app`` on a loopback test server, its worker run on demand (``drain``)."""

    def __init__(self, env: Mapping[str, str], directory: Path) -> None:
        from bot import settings as settings_mod

        self.settings = settings_mod.load(dict(env), cwd=directory)
        self.client: Any = None

    async def __aenter__(self) -> InProcessBot:
        from aiohttp.test_utils import TestClient, TestServer

        from bot.web.app import create_app

        app = create_app(self.settings, run_worker=False)
        self.client = TestClient(TestServer(app, host="127.0.0.1"))
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()

    @property
    def runtime(self) -> Any:
        from bot.web.app import RUNTIME

        return self.client.app[RUNTIME]

    async def deliver_github(self, payload: Mapping[str, Any], event: str = "pull_request") -> int:
        body = json.dumps(payload).encode()
        resp = await self.client.post(
            "/webhooks/github",
            data=body,
            headers=github_headers(body, event=event),
        )
        return int(resp.status)

    async def deliver_gitee(self, gitee: FakeGitee, payload: Mapping[str, Any]) -> int:
        headers, body = gitee.delivery(payload)
        resp = await self.client.post("/webhooks/gitee", data=body, headers=headers)
        return int(resp.status)

    async def drain(self) -> int:
        return int(await self.runtime.drain())

    @property
    def agreement_id(self) -> str:
        return str(self.settings.policy.required_agreement)

    @property
    def version(self) -> str:
        for a in self.settings.policy.agreements:
            if a.agreement_id == self.agreement_id:
                return str(a.versions[-1].version)
        raise LookupError(self.agreement_id)

    async def sign(self, platform: str, account_id: str, login: str, email: str | None) -> None:
        """Record a signature the way an import does (every personal field encrypted)."""
        from datetime import UTC, datetime

        from bot.storage.signatures import NewSignature, record_signature

        rt = self.runtime
        async with rt.sessions() as session, session.begin():
            await record_signature(
                session,
                rt.cipher,
                NewSignature(
                    platform=platform,
                    account_id=account_id,
                    login=login,
                    email=email,
                    name=login.title(),
                    agreement_id=self.agreement_id,
                    version=self.version,
                    signed_at=datetime.now(UTC),
                    source="import",
                ),
            )


def github_headers(body: bytes, *, event: str = "pull_request") -> dict[str, str]:
    import hashlib
    import hmac

    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }
