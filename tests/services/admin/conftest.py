"""What the admin service tests share: a database with the agreements published (SQLite, and
PostgreSQL when configured), the policy, and signing someone up the way an import does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.agreements import sync_agreements
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.signatures import NewSignature, record_signature

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
async def sessions(
    db_url: str, make_settings: Any
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = make_settings(db_url)
    engine = create_engine(db_url)
    factory = session_factory(engine)
    async with factory() as s, s.begin():
        await sync_agreements(s, settings.policy.agreements)
    yield factory
    await engine.dispose()


@pytest.fixture
def policy(make_settings: Any, sqlite_url: str) -> Any:
    return make_settings(sqlite_url).policy


async def sign(
    s: AsyncSession,
    cipher: FieldCipher,
    *,
    account_id: str | None = None,
    login: str | None = None,
    email: str | None = None,
    name: str | None = None,
    platform: str = "github",
    at: datetime = T0,
    phone: str | None = None,
) -> int:
    signer, _ = await record_signature(
        s,
        cipher,
        NewSignature(
            platform=platform if account_id else None,
            account_id=account_id,
            login=login,
            email=email,
            name=name,
            phone=phone,
            agreement_id="individual",
            version="1.0",
            signed_at=at,
            source="import",
        ),
    )
    return signer.id
