"""3. Scale of the records: the bot's own time to decide a PR of 250 commits by 250 distinct
authors, with 1,000 and with 1,000,000 signatures stored.

The signature databases are generated as production stores them — a signer with an encrypted
name, a linked GitHub account, a verified email (AES-256-GCM ciphertext bound to its row plus the
keyed blind index) and a signature — with bulk inserts, and cached under ``var/bench/`` (the keys
in ``var/bench/keys.json`` stay with them). Each run works on a copy.

The forge is the recording fake of :mod:`bot.sandbox.fakeforge`, in memory, answering at once,
so the figures are the bot's own work: *decide* is reading the contributors and their
signatures and evaluating coverage; *check* is the whole job (decide, render, plan, record the
250 contributors), with the forge writes free.
Half the authors are linked accounts (found by account id), half plain emails (found through the
blind index, candidates decrypted and compared)."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import VAR, Table, bench_keys, bot_env, migrate, ms, ratio, run_dir
from bot.core.model import Account, Commit, GitPerson, PullRequest, RepoRef
from bot.platforms.github.facts import GITHUB
from bot.sandbox.fakeforge import FakeForgeClient
from bot.storage.crypto import FieldCipher, load_keyring
from bot.storage.identity_keys import EMAIL_PURPOSE

AUTHORS = 250
ACCOUNT_BASE = 10_000_000
CHUNK = 20_000
WHEN = "2024-01-01 00:00:00.000000"  # SQLAlchemy's SQLite DATETIME storage format


def email_of(i: int) -> str:
    return f"user{i}@example.org"


def db_path(n: int) -> Path:
    return VAR / f"signatures-{n}.db"


async def signatures_db(n: int, *, log: Any = print) -> Path:
    """The cached database with ``n`` signatures, generated on first use."""
    path = db_path(n)
    url = f"sqlite+aiosqlite:///{path}"
    if path.exists() and _count(path) == n:
        await migrate(url)  # a newer schema since it was cached
        return path
    tmp = path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    tmp_url = f"sqlite+aiosqlite:///{tmp}"
    await migrate(tmp_url)
    version_id = await _publish_agreements(tmp_url, tmp.parent)
    started = time.monotonic()
    await asyncio.to_thread(_generate, tmp, n, version_id)
    log(f"  generated {n:,} encrypted signatures in {time.monotonic() - started:.0f} s → {path}")
    tmp.replace(path)
    return path


def _count(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return int(conn.execute("SELECT count(*) FROM signatures").fetchone()[0])
    except sqlite3.Error:
        return -1


async def _publish_agreements(url: str, directory: Path) -> int:
    """The agreements of app.yaml, as ``cla-bot serve`` publishes them at start-up."""
    from bot import settings as settings_mod
    from bot.storage.agreements import sync_agreements, version_row
    from bot.storage.db import create_engine, session_factory

    conf = settings_mod.load(bot_env(url, directory, {}, port=0), cwd=directory)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await sync_agreements(session, conf.policy.agreements)
            row = await version_row(
                session,
                conf.policy.required_agreement,
                _latest_version(conf),
            )
            assert row is not None
            return int(row.id)
    finally:
        await engine.dispose()


def _latest_version(conf: Any) -> str:
    for a in conf.policy.agreements:
        if a.agreement_id == conf.policy.required_agreement:
            return str(a.versions[-1].version)
    raise LookupError(conf.policy.required_agreement)


def _cipher() -> FieldCipher:
    keyring, _ = load_keyring(bench_keys(), var_dir=VAR)
    return FieldCipher(keyring)


def _generate(path: Path, n: int, version_id: int) -> None:
    """Bulk inserts straight into SQLite; every personal field encrypted for its own row."""
    import uuid

    cipher = _cipher()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    try:
        for start in range(1, n + 1, CHUNK):
            ids = range(start, min(n, start + CHUNK - 1) + 1)
            signers, accounts, emails, sigs = [], [], [], []
            for i in ids:
                uid = uuid.uuid4().hex
                name_ct = cipher.encrypt(f"Signer {i}", table="signers", column="name", row=uid)
                signers.append((i, uid, name_ct, WHEN, WHEN))
                accounts.append((i, i, "github", str(ACCOUNT_BASE + i), f"user{i}", WHEN))
                email = email_of(i)
                euid = uuid.uuid4().hex
                emails.append(
                    (
                        i,
                        euid,
                        i,
                        cipher.encrypt(email, table="signer_emails", column="email", row=euid),
                        cipher.blind_index(email, purpose=EMAIL_PURPOSE),
                        1,
                        WHEN,
                    )
                )
                sigs.append(
                    (i, i, version_id, "import", WHEN, WHEN, "github", str(ACCOUNT_BASE + i))
                )
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO signers (id, uid, name_ct, created_at, updated_at) VALUES (?,?,?,?,?)",
                signers,
            )
            conn.executemany(
                "INSERT INTO signer_accounts (id, signer_id, platform, account_id, login, "
                "created_at) VALUES (?,?,?,?,?,?)",
                accounts,
            )
            conn.executemany(
                "INSERT INTO signer_emails (id, uid, signer_id, email_ct, email_bidx, verified, "
                "created_at) VALUES (?,?,?,?,?,?,?)",
                emails,
            )
            conn.executemany(
                "INSERT INTO signatures (id, signer_id, agreement_version_id, source, signed_at, "
                "created_at, signed_platform, signed_account_id) VALUES (?,?,?,?,?,?,?,?)",
                sigs,
            )
            conn.execute("COMMIT")
    finally:
        conn.close()


# -- the PR, on a forge in memory that answers at once ------------------------------------------


def make_pr(n: int, number: int, seed: int = 8) -> tuple[PullRequest, list[Commit]]:
    rng = random.Random(seed)
    picks = rng.sample(range(1, n + 1), AUTHORS)
    repo = RepoRef(GITHUB, "acme", "scale", 4242)
    commits = []
    for k, i in enumerate(picks):
        person = GitPerson(f"Signer {i}", email_of(i))
        account = Account(GITHUB, str(ACCOUNT_BASE + i), f"user{i}") if k % 2 == 0 else None
        commits.append(
            Commit(
                sha=f"{k:040x}",
                author=person,
                committer=person,
                message=f"Change {k}",
                author_account=account,
                committer_account=account,
            )
        )
    pr = PullRequest(
        repo=repo,
        number=number,
        head_sha=commits[-1].sha,
        base_ref="main",
        state="open",
        author=Account(GITHUB, str(ACCOUNT_BASE + picks[0]), f"user{picks[0]}"),
        commit_count=AUTHORS,
        installation_id=1,
    )
    return pr, commits


@dataclass
class ScaleResult:
    signatures: int
    decide_s: list[float]
    check_s: list[float]
    outcome: str
    db_mb: float
    analyzed: bool = False

    @property
    def decide(self) -> float:
        return statistics.median(self.decide_s)

    @property
    def check(self) -> float:
        return statistics.median(self.check_s)


async def measure(n: int, rounds: int, *, analyze: bool = False) -> ScaleResult:
    from bot import settings as settings_mod
    from bot.runtime import build_runtime

    cached = await signatures_db(n)
    directory = run_dir(f"scale-{n}")
    path = directory / "cla.db"
    shutil.copyfile(cached, path)
    if analyze:  # what the planner does with statistics (production databases have none)
        with sqlite3.connect(path) as conn:
            conn.execute("ANALYZE")
    url = f"sqlite+aiosqlite:///{path}"
    conf = settings_mod.load(bot_env(url, directory, {}, port=0), cwd=directory)
    forge = FakeForgeClient(GITHUB)
    runtime = await build_runtime(conf, clients={GITHUB: forge.factory()})
    decide_s: list[float] = []
    check_s: list[float] = []
    outcome = ""
    try:
        for r in range(rounds + 1):  # the first round warms caches and is not counted
            pr, commits = make_pr(n, number=1000 + r, seed=r)
            forge.add_pr(pr, commits)
            started = time.perf_counter()
            found = await runtime.checks.evaluate(forge, pr)
            decided = time.perf_counter() - started
            started = time.perf_counter()
            result = await runtime.checks.check(
                platform=GITHUB, repo=pr.repo, number=pr.number, installation_id=1
            )
            checked = time.perf_counter() - started
            outcome = result.outcome.value
            if r:
                decide_s.append(decided)
                check_s.append(checked)
            if len(found.people) != AUTHORS:
                raise RuntimeError(f"{len(found.people)} contributors, expected {AUTHORS}")
    finally:
        await runtime.close()
        for leftover in directory.glob("cla.db*"):  # a copy of up to a gigabyte
            leftover.unlink()
    return ScaleResult(n, decide_s, check_s, outcome, cached.stat().st_size / 2**20, analyze)


async def scale(sizes: Sequence[int], rounds: int) -> list[ScaleResult]:
    results = [await measure(n, rounds) for n in sizes]
    if len(sizes) > 1:
        results.append(await measure(sizes[-1], rounds, analyze=True))
    return results


def table(results: list[ScaleResult]) -> Table:
    base = results[0]
    t = Table(
        "3. Scale of the records: deciding a PR of 250 commits by 250 authors (forge excluded)",
        [
            "signatures",
            "database",
            "decide (median)",
            "× baseline",
            "whole check (median)",
            "× baseline",
            "p90 check",
            "outcome",
        ],
    )
    for r in results:
        p90 = sorted(r.check_s)[int(0.9 * (len(r.check_s) - 1))]
        t.add(
            f"{r.signatures:,}" + (" (after ANALYZE)" if r.analyzed else ""),
            f"{r.db_mb:.0f} MB",
            ms(r.decide),
            ratio(r.decide, base.decide),
            ms(r.check),
            ratio(r.check, base.check),
            ms(p90),
            r.outcome,
        )
    t.notes += [
        f"baseline: the same PR with {base.signatures:,} signatures stored; "
        "target ≤ 50 ms at 1,000,000 and ≤ 2× the baseline",
        "decide = contributors, signature lookups (account ids; emails through the blind index, "
        "decrypted and compared) and coverage; whole check = decide + plan + record the 250 "
        "contributors in one transaction",
    ]
    return t
