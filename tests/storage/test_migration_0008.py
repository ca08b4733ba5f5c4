"""Revision 0008_check_runs on a database with data in it: PR records are kept as they were,
with no check run yet, and a check run can be recorded on them."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.storage.db import _upgrade, alembic_config, create_engine
from tests.conftest import _in_thread

REVISION = "0008_check_runs"
COLUMNS = ("check_run_id", "check_run_sha", "check_run_conclusion", "check_run_sha256")


async def test_pr_records_are_kept_without_a_check_run(empty_db_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_db_url))
    assert script.get_revision(REVISION).down_revision == "0007"
    _in_thread(_upgrade, empty_db_url, "0007")
    now = datetime.now(UTC)
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO pr_checks (platform, repo_full_name, number, head_sha, state, "
                    "outcome, status_state, status_sha, comment_id, created_at, updated_at) "
                    "VALUES ('github', 'octo/hello', 7, :sha, 'open', 'blocked', 'failure', "
                    ":sha, 99, :now, :now)"
                ),
                {"sha": "a" * 40, "now": now},
            )
    finally:
        await engine.dispose()

    _in_thread(_upgrade, empty_db_url, REVISION)

    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT number, outcome, status_state, comment_id, "
                        + ", ".join(COLUMNS)
                        + " FROM pr_checks"
                    )
                )
            ).one()
            assert tuple(row) == (7, "blocked", "failure", 99, None, None, None, None)
            await conn.execute(
                text(
                    "UPDATE pr_checks SET check_run_id = :id, check_run_sha = :sha, "
                    "check_run_conclusion = 'action_required', check_run_sha256 = :digest"
                ),
                {"id": 2**40, "sha": "a" * 40, "digest": "d" * 64},
            )
            stored = (
                await conn.execute(text("SELECT " + ", ".join(COLUMNS) + " FROM pr_checks"))
            ).one()
            columns = await conn.run_sync(
                lambda c: {col["name"]: col for col in inspect(c).get_columns("pr_checks")}
            )
    finally:
        await engine.dispose()
    assert tuple(stored) == (2**40, "a" * 40, "action_required", "d" * 64)
    assert all(columns[name]["nullable"] for name in COLUMNS)
