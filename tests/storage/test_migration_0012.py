"""Revision 0012_pr_check_community on a database with PR records in it: every record was
checked against the one policy there was, so it moves into the community ``default`` (a
signature there re-checks it as before); downgrading drops the column and keeps the records."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.storage.db import _upgrade, alembic_config, create_engine
from tests.conftest import _in_thread

REVISION = "0012_pr_check_community"
T0 = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)

ROWS_0011 = [
    "INSERT INTO pr_checks (id, platform, repo_full_name, number, head_sha, state, outcome, "
    "checked_at, created_at, updated_at) VALUES "
    "(1, 'github', 'acme/widgets', 1, 'a1', 'open', 'blocked', :t, :t, :t), "
    "(2, 'gitee', 'mindspore/ms', 7, 'b2', 'closed', 'covered', :t, :t, :t)",
    "INSERT INTO pr_blockers (id, pr_check_id, identity_key, blocking, created_at) "
    "VALUES (1, 1, 'github:11', :yes, :t)",
]


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def test_existing_pr_records_move_into_the_default_community(empty_db_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_db_url))
    assert script.get_revision(REVISION).down_revision == "0011_communities"
    _in_thread(_upgrade, empty_db_url, "0011_communities")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            for sql in ROWS_0011:
                await conn.execute(text(sql), {"t": T0, "yes": True})
    finally:
        await engine.dispose()

    _in_thread(_upgrade, empty_db_url, REVISION)

    assert await _rows(
        empty_db_url, "SELECT id, community_id, state, outcome FROM pr_checks ORDER BY id"
    ) == [(1, "default", "open", "blocked"), (2, "default", "closed", "covered")]
    assert await _rows(empty_db_url, "SELECT pr_check_id, identity_key FROM pr_blockers") == [
        (1, "github:11")
    ]


async def test_downgrade_keeps_the_records(empty_db_url: str) -> None:
    _in_thread(_upgrade, empty_db_url, REVISION)
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(ROWS_0011[0]), {"t": T0})
            await conn.execute(text("UPDATE pr_checks SET community_id = NULL WHERE id = 2"))
    finally:
        await engine.dispose()
    _in_thread(command.downgrade, alembic_config(empty_db_url), "0011_communities")
    assert await _rows(empty_db_url, "SELECT id, state FROM pr_checks ORDER BY id") == [
        (1, "open"),
        (2, "closed"),
    ]
