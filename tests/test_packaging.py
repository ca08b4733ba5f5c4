"""The bot as others install it. The wheel is built from this checkout and installed the way the
Dockerfile does it — a fresh virtualenv, the hash-locked runtime requirements, then the wheel
without dependencies — and started from a directory outside the checkout: ``cla-bot migrate``,
``cla-bot serve``, its health check and signing page. Then the Dockerfile and the lock files
themselves, checked against pyproject.toml."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tomllib
import zipfile
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.sandbox.fakeforge.gitee import FakeGitee

ROOT = Path(__file__).resolve().parent.parent
LOCK_RUNTIME = ROOT / "requirements" / "runtime.txt"
LOCK_TEST = ROOT / "requirements" / "test.txt"
# What a build reads: copied alone, so that nothing else in the checkout can leak into the wheel.
BUILD_INPUTS = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    "app.yaml",
    "bot",
    "templates",
    "requirements",
)
PIP = (sys.executable, "-m", "pip", "--quiet", "--quiet", "--disable-pip-version-check")


def _run(*args: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, timeout=600)


def _wheelhouse() -> Path:
    """The locked runtime wheels for this platform, downloaded once per lock (kept beside the
    test environment), so that each run installs offline."""
    house = Path(sys.prefix) / "wheelhouse"
    done = house / f".{hashlib.sha256(LOCK_RUNTIME.read_bytes()).hexdigest()[:16]}"
    if not done.exists():
        _run(*PIP, "download", "--require-hashes", "-r", LOCK_RUNTIME, "-d", house)
        done.touch()
    return house


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path

    @property
    def cla_bot(self) -> Path:
        return self.venv / "bin" / "cla-bot"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    src, dist, venv = base / "src", base / "dist", base / "venv"
    src.mkdir()
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    # the Dockerfile's build stage: the locked setuptools, no build isolation
    _run(*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", dist, src)
    (wheel,) = dist.glob("cla_bot-*.whl")
    # its final stage: a fresh virtualenv, the hash-checked lock, then the wheel alone
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    target = ("--python", venv / "bin" / "python", "install", "--no-compile", "--no-index")
    _run(*PIP, *target, "--find-links", _wheelhouse(), "--require-hashes", "-r", LOCK_RUNTIME)
    _run(*PIP, *target, "--no-deps", wheel)
    return Installed(wheel=wheel, venv=venv)


def _files_under(path: Path) -> set[str]:
    return {
        p.relative_to(path).as_posix()
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_wheel_carries_templates_config_migrations_and_license(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        metadata = whl.read("cla_bot-0.1.0.dist-info/METADATA").decode()
        assert whl.read("bot/app.yaml") == (ROOT / "app.yaml").read_bytes()
        assert whl.read("cla_bot-0.1.0.dist-info/licenses/LICENSE") == (
            (ROOT / "LICENSE").read_bytes()
        )
    templates = {n.removeprefix("bot/templates/") for n in names if n.startswith("bot/templates/")}
    assert templates == _files_under(ROOT / "templates")
    migrations = ROOT / "bot" / "storage" / "migrations"
    packaged = {
        n.removeprefix("bot/storage/migrations/")
        for n in names
        if n.startswith("bot/storage/migrations/")
    }
    assert packaged == _files_under(migrations)
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert not any(n.startswith(("tests/", "bench/", "templates/")) for n in names)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def gitee() -> AsyncIterator[FakeGitee]:
    async with FakeGitee() as fake:
        yield fake


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    work = tmp_path / "deployment"
    work.mkdir()
    assert ROOT not in work.parents
    yield work


async def test_the_installed_wheel_migrates_and_serves_outside_the_checkout(
    installed: Installed, outside: Path, gitee: FakeGitee
) -> None:
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(outside),
        "LANG": "C.UTF-8",
        "CLA_PORT": str(port),
        "CLA_GITEE_TOKEN": gitee.token,
        "CLA_GITEE_WEBHOOK_SECRET": gitee.webhook_secret,
        "CLA_GITEE_API_URL": gitee.url,
        "CLA_GITEE_URL": gitee.origin,
    }

    async def run(*args: str | Path) -> tuple[int | None, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *args, cwd=outside, env=env, stdout=PIPE, stderr=PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        return proc.returncode, out.decode(), err.decode()

    _, where, _ = await run(
        installed.venv / "bin" / "python", "-c", "import bot; print(bot.__file__)"
    )
    assert installed.venv in Path(where.strip()).parents  # the installed copy, not the checkout's
    code, out, err = await run(installed.cla_bot, "migrate")
    assert code == 0, err
    assert out == "database is at the latest schema\n"

    serve = await asyncio.create_subprocess_exec(
        installed.cla_bot, "serve", cwd=outside, env=env, stdout=PIPE, stderr=PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert serve.returncode is None, "cla-bot serve stopped"
                await asyncio.sleep(0.1)
            else:
                pytest.fail("cla-bot serve did not answer /healthz")
            async with http.get(f"{base}/sign/individual") as resp:
                page = await resp.text()
                assert resp.status == 200
                assert "Individual Contributor License Agreement" in page
            async with http.get(f"{base}/static/style.css") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/setup/gitee") as resp:
                assert resp.status == 404  # Gitee is connected
            for _ in range(100):
                if gitee.count("GET", "/user") == 1:
                    break
                await asyncio.sleep(0.05)
    finally:
        serve.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(serve.communicate(), timeout=30)
    log = err.decode()
    assert serve.returncode == 0, log
    assert "Traceback" not in log
    assert "using the stock policy shipped with the bot" in log
    assert f"the bot acts on Gitee as @{gitee.bot.login}" in log  # checked once at start-up
    assert gitee.count("GET", "/user") == 1
    db = outside / "var" / "cla.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


async def test_the_installed_wheel_runs_the_demo_on_the_runtime_dependencies_alone(
    installed: Installed, outside: Path
) -> None:
    """``cla-bot demo`` from the wheel, with only the locked runtime requirements installed
    (graphql-core, with which the tests' fake checks GraphQL, is not among them): the sandbox
    serves its home page and the bot its health check."""
    port, sandbox_port = _free_port(), _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(outside),
        "LANG": "C.UTF-8",
        "CLA_PORT": str(port),
    }
    demo = await asyncio.create_subprocess_exec(
        installed.cla_bot,
        "demo",
        "--sandbox-port",
        str(sandbox_port),
        cwd=outside,
        env=env,
        stdout=PIPE,
        stderr=PIPE,
    )
    try:
        assert demo.stdout is not None
        first = (await asyncio.wait_for(demo.stdout.readline(), timeout=60)).decode()
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        assert first.startswith(f"Open the sandbox first: {sandbox}/"), first
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sandbox}/") as resp:
                page = await resp.text()
                assert resp.status == 200
            assert "Open a pull request" in page and "sandbox-org/widgets" in page
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
            # A pull request, its webhook built from the packaged examples: the bot checks it.
            form = {"repo": "sandbox-org/widgets", "scenario": "linked", "title": "Notes"}
            async with http.post(f"{sandbox}/-/pulls", data=form) as resp:
                assert resp.status == 200
            for _ in range(300):
                async with http.get(f"{sandbox}/sandbox-org/widgets/pull/1") as resp:
                    if "cla: failure" in await resp.text():
                        break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the demo's bot did not check the pull request")
    finally:
        demo.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(demo.communicate(), timeout=30)
    log = err.decode()
    assert demo.returncode == 0, log
    assert "Traceback" not in log and "graphql" not in log


# -- the Dockerfile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    args: str


def _dockerfile() -> list[Instruction]:
    text = (ROOT / "Dockerfile").read_text()
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    out: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stage += 1
        out.append(Instruction(stage, keyword.upper(), " ".join(args.split())))
    return out


def test_the_dockerfile_installs_the_wheel_with_the_locked_hashes() -> None:
    steps = _dockerfile()
    froms = [s for s in steps if s.keyword == "FROM"]
    assert [s.args for s in froms] == [
        "python:${PYTHON_VERSION}-slim AS build",
        "python:${PYTHON_VERSION}-slim",
    ]
    build = [s for s in steps if s.stage == 0]
    final = [s for s in steps if s.stage == 1]
    build_runs = " && ".join(s.args for s in build if s.keyword == "RUN")
    assert "--require-hashes -r requirements/runtime.txt" in build_runs
    assert "pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist ." in (
        build_runs
    )
    # the image gets the wheel and the lock, never the source tree
    copies = [s.args for s in final if s.keyword == "COPY"]
    assert copies == ["requirements/runtime.txt /tmp/runtime.txt", "--from=build /dist/ /tmp/dist/"]
    (install,) = [s.args for s in final if s.keyword == "RUN" and "pip install" in s.args]
    commands = [c.strip() for c in install.split("&&")]
    assert commands == [
        "python -m venv /opt/cla-bot",
        "/opt/cla-bot/bin/pip install --no-cache-dir --require-hashes -r /tmp/runtime.txt",
        "/opt/cla-bot/bin/pip install --no-cache-dir --no-deps /tmp/dist/*.whl",
        "rm -rf /tmp/runtime.txt /tmp/dist",
    ]
    users = [s.args for s in final if s.keyword == "USER"]
    assert users == ["cla-bot"]
    useradd = [s.args for s in final if s.keyword == "RUN" and "useradd" in s.args]
    assert len(useradd) == 1 and "--system" in useradd[0]
    # everything after USER runs unprivileged; the bot starts as the last instruction
    assert [s.keyword for s in final].index("USER") > max(
        i for i, s in enumerate(final) if s.keyword == "RUN"
    )
    assert final[-1] == Instruction(1, "CMD", '["cla-bot", "serve"]')
    assert re.search(r"^ARG PYTHON_VERSION=3\.1[1-9]$", (ROOT / "Dockerfile").read_text(), re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for secret in (".venv", "var", "keys.json", "*.pem", ".env", "*.db"):
        assert secret in ignored


# -- the lock files ---------------------------------------------------------------------------


def _lock(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes)."""
    entries: dict[str, tuple[str, int]] = {}
    current = ""
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if m:
            current = canonicalize_name(m.group(1))
            entries[current] = (m.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
    return entries


def _inputs(*names: str) -> list[Requirement]:
    found: list[Requirement] = []
    for name in names:
        for line in (ROOT / "requirements" / name).read_text().splitlines():
            text = line.split("#", 1)[0].strip()
            if text and not text.startswith("-r"):
                found.append(Requirement(text))
    return found


def test_the_locks_pin_every_dependency_of_pyproject_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]] + _inputs("runtime.in")
    test = runtime + [Requirement(r) for r in project["optional-dependencies"]["test"]]
    test += _inputs("test.in")
    stale: list[str] = []
    for path, wanted in ((LOCK_RUNTIME, runtime), (LOCK_TEST, test)):
        pinned = _lock(path)
        assert pinned and all(hashes > 0 for _, hashes in pinned.values()), path
        for req in wanted:
            version = pinned.get(canonicalize_name(req.name), ("", 0))[0]
            if not version or not req.specifier.contains(version, prereleases=True):
                stale.append(f"{path.name}: {req} (locked: {version or 'missing'})")
    assert stale == [], "the lock is out of date with pyproject.toml: run `make lock`"
    # make run and make test run the same versions of what both install
    runtime_pins = _lock(LOCK_RUNTIME)
    test_pins = _lock(LOCK_TEST)
    assert {n: v for n, (v, _) in runtime_pins.items()} == {
        n: test_pins[n][0] for n in runtime_pins
    }


@pytest.mark.parametrize(
    ("requirement", "minimum"),
    [("aiohttp", "3.12.14"), ("cryptography", "44.0.1"), ("Jinja2", "3.1.6")],
)
def test_pyproject_refuses_versions_with_known_cves(requirement: str, minimum: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (req,) = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == requirement]
    below = minimum.rsplit(".", 1)[0] + "." + str(int(minimum.rsplit(".", 1)[1]) - 1)
    assert req.specifier.contains(minimum) and not req.specifier.contains(below)
