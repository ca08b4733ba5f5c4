"""Operators' commands: rotate-keys (re-encrypt, reindex), jobs (dead letters), reconcile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import settings as settings_mod
from bot.cli.imports import run_import
from bot.cli.main import main as cli_main
from bot.cli.ops import run
from bot.services.importer import HEADER
from bot.storage.crypto import FieldCipher, generate_env_keys, load_keyring
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job, JobStatus, utcnow
from bot.storage.signatures import find_signer
from tests.cli.test_imports import _dump


def args(command: str, **kw: Any) -> argparse.Namespace:
    base = {
        "command": command,
        "reindex": False,
        "new_key": None,
        "all": False,
        "retry": None,
        "retry_all": False,
        "json": False,
    }
    return argparse.Namespace(**{**base, **kw})


async def find(db_url: str, env: dict[str, str], tmp_path: Path, email: str) -> Any:
    keyring, _ = load_keyring(env, var_dir=tmp_path / "var")
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            return await find_signer(
                s, FieldCipher(keyring), platform=None, account_id=None, emails=[email]
            )
    finally:
        await engine.dispose()


async def test_rotate_keys_reencrypts_and_reindexes(
    db_url: str, make_env: Any, keys_env: dict[str, str], tmp_path: Path, capsys: Any
) -> None:
    env = make_env(db_url)
    conf = settings_mod.load(env, cwd=tmp_path)
    csv_file = tmp_path / "s.csv"
    csv_file.write_text(
        ",".join(HEADER) + "\ngithub,rot,11,Rot@Example.com,Rota Tion,individual,1.0,2024-01-01\n"
    )
    assert await run_import(conf, csv_file) == 0

    new = generate_env_keys(kid="k2")
    rotated = {
        **env,
        "CLA_ENCRYPTION_KEYS": new["CLA_ENCRYPTION_KEYS"] + "," + env["CLA_ENCRYPTION_KEYS"],
    }
    conf2 = settings_mod.load(rotated, cwd=tmp_path)
    assert await run(args("rotate-keys"), conf2) == 0
    out = capsys.readouterr().out
    assert "re-encrypted" in out and "no row uses an old key" in out
    only_new = {**rotated, "CLA_ENCRYPTION_KEYS": new["CLA_ENCRYPTION_KEYS"]}
    signer = await find(db_url, only_new, tmp_path, "rot@example.com")
    assert signer is not None  # readable without the old key

    reindexed = {**only_new, "CLA_BLIND_INDEX_KEY": new["CLA_BLIND_INDEX_KEY"]}
    assert await find(db_url, reindexed, tmp_path, "rot@example.com") is None  # stale index
    assert (
        await run(args("rotate-keys", reindex=True), settings_mod.load(reindexed, cwd=tmp_path))
        == 0
    )
    assert await find(db_url, reindexed, tmp_path, "rot@example.com") is not None
    assert "rota tion" not in _dump(db_url).lower()


async def test_jobs_lists_dead_letters_and_retries_them(
    db_url: str, make_settings: Any, capsys: Any
) -> None:
    conf = make_settings(db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            s.add(
                Job(
                    platform="github",
                    delivery_key="d1",
                    event="pull_request",
                    action="opened",
                    kind="check",
                    payload={"repo": {}},
                    status=JobStatus.DEAD,
                    attempts=8,
                    last_error="Traceback...\nRetryableForgeError: 502 from GitHub",
                    finished_at=utcnow(),
                )
            )
        assert await run(args("jobs"), conf) == 0
        listing = capsys.readouterr().out
        assert "RetryableForgeError: 502 from GitHub" in listing and "attempts=8" in listing
        assert await run(args("jobs", retry=[1]), conf) == 0
        assert "1 dead job(s) queued again" in capsys.readouterr().out
        async with session_factory(engine)() as s:
            job = (await s.scalars(select(Job))).one()
        assert job.status == "queued" and job.attempts == 0
    finally:
        await engine.dispose()


def test_new_key_and_help(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        cli_main(["rotate-keys", "--help"])
    assert "CLA_ENCRYPTION_KEYS" in capsys.readouterr().out
    assert cli_main(["rotate-keys", "--new-key", "k9"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("k9:")
