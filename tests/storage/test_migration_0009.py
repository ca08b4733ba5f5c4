"""Revision 0009_email_proofs on a database with data in it: every signer's address says how
it was proven — by the forge when its signer signed on the web, by an import otherwise — and
when (when it was stored); codes can be kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.storage.db import _upgrade, alembic_config, create_engine
from tests.conftest import _in_thread

REVISION = "0009_email_proofs"
T0 = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
T1 = T0 + timedelta(days=30)

ROWS_0008 = [
    "INSERT INTO agreements (id, title, kind, created_at) "
    "VALUES ('individual', 'Individual CLA', 'individual', :t0)",
    "INSERT INTO agreement_versions (id, agreement_id, version, position, text_sha256, "
    "compatible, fields, published_at) VALUES (1, 'individual', '1.0', 0, :sha, :yes, '{}', :t0)",
    "INSERT INTO signers (id, uid, created_at, updated_at) VALUES (1, 's1', :t0, :t0), "
    "(2, 's2', :t0, :t0), "
    "(3, 's3', :t0, :t0)",
    # 1 signed on the web; 2 was imported; 3 was imported and later signed on the web too
    "INSERT INTO signatures (id, signer_id, agreement_version_id, source, signed_at, "
    "created_at) VALUES (1, 1, 1, 'web', :t0, :t0), (2, 2, 1, 'import', :t0, :t0), "
    "(3, 3, 1, 'import', :t0, :t0), (4, 3, 1, 'web', :t1, :t1)",
    "INSERT INTO signer_emails (id, uid, signer_id, email_ct, email_bidx, verified, created_at) "
    "VALUES (1, 'e1', 1, 'ct1', 'b1', :yes, :t0), (2, 'e2', 2, 'ct2', 'b2', :yes, :t0), "
    "(3, 'e3', 3, 'ct3', 'b3', :yes, :t1)",
]


def _utc(value: datetime | str) -> datetime:
    """SQLite hands raw SQL its timestamps as text, PostgreSQL as datetimes."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def test_addresses_say_how_and_when_they_were_proven(empty_db_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_db_url))
    assert script.get_revision(REVISION).down_revision == "0008_check_runs"
    _in_thread(_upgrade, empty_db_url, "0008_check_runs")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            for sql in ROWS_0008:
                await conn.execute(text(sql), {"t0": T0, "t1": T1, "sha": "a" * 64, "yes": True})
    finally:
        await engine.dispose()

    _in_thread(_upgrade, empty_db_url, REVISION)

    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    text("SELECT id, email_ct, proven_by, proven_at FROM signer_emails ORDER BY id")
                )
            ).all()
            await conn.execute(
                text(
                    "INSERT INTO email_proofs (uid, purpose, account_hash, email_bidx, email_ct, "
                    "code_hash, attempts, created_at, expires_at) "
                    "VALUES ('p1', 'link', 'h', 'b9', 'ct9', 'c', 0, :t, :t)"
                ),
                {"t": T1},
            )
            proofs = (await conn.execute(text("SELECT uid, used_at FROM email_proofs"))).all()
    finally:
        await engine.dispose()
    when = [_utc(r[3]) for r in rows]
    assert [tuple(r[:3]) for r in rows] == [
        (1, "ct1", "forge"),
        (2, "ct2", "import"),
        (3, "ct3", "forge"),
    ]
    assert when == [T0, T0, T1]
    assert [tuple(p) for p in proofs] == [("p1", None)]
