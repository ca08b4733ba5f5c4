"""Revision 0007 on a database with data in it: the sessions stored before it (which cannot be
matched to their account) are dropped, everything else is kept, and the new session column
and the erasure requests are in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.storage.db import _upgrade, alembic_config, create_engine
from tests.conftest import _in_thread

REVISION = "0007"


async def test_sessions_are_dropped_and_everything_else_kept(empty_db_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_db_url))
    previous = script.get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    _in_thread(_upgrade, empty_db_url, previous)
    now = datetime.now(UTC)
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO web_sessions (token_hash, data_ct, created_at, expires_at) "
                    "VALUES (:h, 'v1.k1.opaque', :now, :later)"
                ),
                {"h": "a" * 64, "now": now, "later": now + timedelta(hours=2)},
            )
            await conn.execute(
                text(
                    "INSERT INTO signers (uid, name_ct, created_at, updated_at) "
                    "VALUES ('u1', 'v1.k1.name', :now, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO oauth_states (state_hash, prelogin_hash, platform, next_path, "
                    "created_at, expires_at) VALUES (:s, :p, 'github', '/me', :now, :later)"
                ),
                {"s": "b" * 64, "p": "c" * 64, "now": now, "later": now + timedelta(minutes=10)},
            )
    finally:
        await engine.dispose()

    _in_thread(_upgrade, empty_db_url, REVISION)

    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM web_sessions"))).scalar() == 0
            assert (await conn.execute(text("SELECT uid FROM signers"))).scalars().all() == ["u1"]
            assert (await conn.execute(text("SELECT count(*) FROM oauth_states"))).scalar() == 1
            assert (await conn.execute(text("SELECT count(*) FROM erasure_requests"))).scalar() == 0
            columns = await conn.run_sync(
                lambda c: {col["name"]: col for col in inspect(c).get_columns("web_sessions")}
            )
            indexes = await conn.run_sync(
                lambda c: {ix["name"] for ix in inspect(c).get_indexes("web_sessions")}
            )
            # a session written now must name its account's hash
            await conn.execute(
                text(
                    "INSERT INTO web_sessions (token_hash, data_ct, account_hash, created_at, "
                    "expires_at) VALUES (:h, 'v1.k1.opaque', :a, :now, :later)"
                ),
                {"h": "d" * 64, "a": "e" * 64, "now": now, "later": now + timedelta(hours=2)},
            )
    finally:
        await engine.dispose()
    assert columns["account_hash"]["nullable"] is False
    assert columns["account_hash"].get("default") is None
    assert "ix_web_sessions_account_hash" in indexes
