"""Migration 0006 on a database holding corporate records written at 0005: every company
becomes pending, its domains wait with it, its emails count once it is approved, and a login
entry (whose account nobody confirmed) is kept unconfirmed, in a form that matches nobody."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.storage.db import _upgrade, create_engine
from tests.conftest import BACKENDS, PG_URL, _in_thread, _pg_admin

T0 = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)

ROWS_0005 = [
    "INSERT INTO agreements (id, title, kind, created_at) "
    "VALUES ('corporate', 'Corporate CLA', 'corporate', :t)",
    "INSERT INTO agreement_versions (id, agreement_id, version, position, text_sha256, "
    "compatible, fields, published_at) VALUES (1, 'corporate', '1.0', 0, :sha, :yes, '{}', :t)",
    "INSERT INTO companies (id, uid, name, agreement_version_id, signed_platform, "
    "signed_account_id, signed_at, created_at) "
    "VALUES (1, 'c1', 'Example Corp', 1, 'github', '9', :t, :t)",
    "INSERT INTO company_managers (company_id, platform, login, account_id, created_at) "
    "VALUES (1, 'github', 'maria', '9', :t)",
    "INSERT INTO company_entries (id, uid, company_id, kind, value, value_ct, created_by, "
    "created_at) VALUES "
    "(1, 'e1', 1, 'domain', 'example.com', NULL, 'github:9', :t), "
    "(2, 'e2', 1, 'email', 'bidx-of-an-email', 'ciphertext', 'github:9', :t), "
    "(3, 'e3', 1, 'login', 'github:alice', NULL, 'github:9', :t), "
    "(4, 'e4', 1, 'login', 'gitee:12345', NULL, 'github:9', :t)",
]


@pytest.fixture(params=BACKENDS)
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"cla_mig_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for sql in ROWS_0005:
                params = {"t": T0, "sha": "0" * 64, "yes": True}
                await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    finally:
        await engine.dispose()


async def test_existing_corporate_records_become_pending(empty_db: str) -> None:
    _in_thread(_upgrade, empty_db, "0005")
    await _seed(empty_db)
    _in_thread(_upgrade, empty_db, "0006")

    assert await _query(
        empty_db, "SELECT id, name, status, decided_at, decided_by, decision_reason FROM companies"
    ) == [(1, "Example Corp", "pending", None, None, None)]
    assert await _query(
        empty_db,
        "SELECT id, kind, value, value_ct, status, login FROM company_entries ORDER BY id",
    ) == [
        (1, "domain", "example.com", None, "pending", None),
        (2, "email", "bidx-of-an-email", "ciphertext", "approved", None),
        (3, "login", "login:github:alice", None, "unconfirmed", "alice"),
        (4, "login", "login:gitee:12345", None, "unconfirmed", "12345"),
    ]

    _in_thread(_upgrade, empty_db, "head")  # later revisions too
    assert await _query(empty_db, "SELECT count(*) FROM company_managers") == [(1,)]


async def test_the_downgrade_gives_the_logins_back(empty_db: str) -> None:
    from alembic import command

    from bot.storage.db import alembic_config

    _in_thread(_upgrade, empty_db, "0005")
    await _seed(empty_db)
    _in_thread(_upgrade, empty_db, "0006")
    _in_thread(command.downgrade, alembic_config(empty_db), "0005")
    assert await _query(empty_db, "SELECT id, kind, value FROM company_entries ORDER BY id") == [
        (1, "domain", "example.com"),
        (2, "email", "bidx-of-an-email"),
        (3, "login", "github:alice"),
        (4, "login", "gitee:12345"),
    ]
