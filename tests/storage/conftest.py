"""What the storage tests share: sessions on a migrated database (SQLite, and PostgreSQL when
configured) and agreements built in the test, so that each asserts the exact rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import AgreementSettings, VersionSettings
from bot.storage.db import create_engine, session_factory


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


def version(number: str, text: str | None = None, *, compatible: bool = True) -> VersionSettings:
    return VersionSettings(
        version=number,
        text_path=f"agreements/{number}.md",
        text=text if text is not None else f"The text of {number}.",
        compatible=compatible,
        fields={"name": "required"},
    )


def agreement(agreement_id: str, *versions: VersionSettings, title: str = "") -> AgreementSettings:
    return AgreementSettings(
        agreement_id=agreement_id,
        title=title or f"The {agreement_id} agreement",
        kind="individual",
        versions=versions,
    )
