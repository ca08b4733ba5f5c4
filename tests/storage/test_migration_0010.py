"""Revision 0010_company_domain_proofs on a database with data in it: the domains companies
listed before stay as they were, unproven (administrators see them so, and may still approve
them); codes already sent carry nothing waiting; invitations and employees can be kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.storage.db import _upgrade, alembic_config, create_engine
from tests.conftest import _in_thread

REVISION = "0010_company_domain_proofs"
T0 = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)

ROWS_0009 = [
    "INSERT INTO agreements (id, title, kind, created_at) "
    "VALUES ('corporate', 'Corporate CLA', 'corporate', :t)",
    "INSERT INTO agreement_versions (id, agreement_id, version, position, text_sha256, "
    "compatible, fields, published_at) VALUES (1, 'corporate', '1.0', 0, :sha, :yes, '{}', :t)",
    "INSERT INTO companies (id, uid, name, agreement_version_id, signed_platform, "
    "signed_account_id, signed_at, created_at, status) "
    "VALUES (1, 'c1', 'Example Corp', 1, 'github', '9', :t, :t, 'approved')",
    "INSERT INTO company_entries (id, uid, company_id, kind, value, value_ct, created_by, "
    "created_at, status) VALUES "
    "(1, 'e1', 1, 'domain', 'example.com', NULL, 'github:9', :t, 'approved'), "
    "(2, 'e2', 1, 'domain', 'example.org', NULL, 'github:9', :t, 'pending'), "
    "(3, 'e3', 1, 'email', 'bidx-of-an-email', 'ciphertext', 'github:9', :t, 'approved')",
    "INSERT INTO email_proofs (uid, purpose, account_hash, email_bidx, email_ct, code_hash, "
    "attempts, created_at, expires_at) VALUES ('p1', 'link', 'h', 'b9', 'ct9', 'c', 0, :t, :t)",
]


async def test_listed_domains_stay_unproven_and_codes_carry_nothing(empty_db_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_db_url))
    assert script.get_revision(REVISION).down_revision == "0009_email_proofs"
    _in_thread(_upgrade, empty_db_url, "0009_email_proofs")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            for sql in ROWS_0009:
                await conn.execute(text(sql), {"t": T0, "sha": "a" * 64, "yes": True})
    finally:
        await engine.dispose()

    _in_thread(_upgrade, empty_db_url, REVISION)

    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            entries = (
                await conn.execute(
                    text(
                        "SELECT id, kind, value, status, proven_by, proven_at "
                        "FROM company_entries ORDER BY id"
                    )
                )
            ).all()
            proofs = (await conn.execute(text("SELECT uid, payload_ct FROM email_proofs"))).all()
            await conn.execute(
                text(
                    "INSERT INTO company_invitations (uid, company_id, token_hash, email_bidx, "
                    "email_ct, invited_by, created_at, expires_at) "
                    "VALUES ('i1', 1, 'th', 'eb', 'ect', 'github:9', :t, :later)"
                ),
                {"t": T0, "later": T0 + timedelta(days=7)},
            )
            await conn.execute(
                text(
                    "INSERT INTO company_employees (uid, company_id, email_bidx, email_ct, "
                    "account_hash, proven_at) VALUES ('m1', 1, 'eb', 'ect', 'ah', :t)"
                ),
                {"t": T0},
            )
            staff = (
                await conn.execute(text("SELECT uid, enabled_at FROM company_employees"))
            ).all()
            invitations = (
                await conn.execute(
                    text("SELECT uid, used_at, cancelled_at FROM company_invitations")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in entries] == [
        (1, "domain", "example.com", "approved", None, None),
        (2, "domain", "example.org", "pending", None, None),
        (3, "email", "bidx-of-an-email", "approved", None, None),
    ]
    assert [tuple(p) for p in proofs] == [("p1", None)]
    assert [tuple(i) for i in invitations] == [("i1", None, None)]
    assert [tuple(m) for m in staff] == [("m1", None)]
