"""API tokens: stored hashed, listed without the token, used at most once a minute, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.admin.common import Invalid, NotFound
from bot.services.admin.tokens import (
    TOKEN_RE,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
    token_hash,
)
from bot.storage.models import ApiToken


async def test_tokens_are_stored_hashed_listed_without_the_token_and_revocable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        value, info = await create_token(s, name="ci report", scope="read")
        with pytest.raises(Invalid):
            await create_token(s, name="x", scope="root")
        with pytest.raises(Invalid):
            await create_token(s, name="", scope="read")
    assert TOKEN_RE.fullmatch(value) and len(value) == 44
    assert info.prefix == value[:12]
    async with sessions() as s, s.begin():
        row = (await s.scalars(select(ApiToken))).one()
        assert row.token_hash == token_hash(value) and value not in repr(vars(row))
        listed = await list_tokens(s)
        assert value not in repr([t.as_dict() for t in listed])
        assert listed[0].last_used_at is None
        assert (await authenticate(s, value)) is not None
        assert (await authenticate(s, value[:-1] + ("A" if value[-1] != "A" else "B"))) is None
        assert (await authenticate(s, "garbage")) is None
    async with sessions() as s, s.begin():
        first = (await list_tokens(s))[0].last_used_at
        assert first is not None
        again = await authenticate(s, value, now=first + timedelta(seconds=30))
        assert again is not None and again.last_used_at == first  # at most once a minute
        later = await authenticate(s, value, now=first + timedelta(minutes=2))
        assert later is not None and later.last_used_at == first + timedelta(minutes=2)
    async with sessions() as s, s.begin():
        with pytest.raises(NotFound):
            await revoke_token(s, "cla_zzzzzzzz")
        revoked = await revoke_token(s, info.prefix)
        assert revoked.revoked_at is not None
    async with sessions() as s, s.begin():
        assert (await authenticate(s, value)) is None
