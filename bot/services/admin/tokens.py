"""Tokens for ``/api/v1``: ``cla_`` + 40 URL-safe characters, shown once; only the SHA-256 and a
short prefix are stored. Scopes ``read`` < ``export`` < ``admin``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.admin.common import Invalid, NotFound, iso
from bot.storage.models import ApiToken, utcnow

SCOPES = ("read", "export", "admin")
_SCOPE_RANK = {s: i for i, s in enumerate(SCOPES)}
TOKEN_PREFIX = "cla_"  # noqa: S105 - not a secret: the public prefix of every token
TOKEN_RE = re.compile(r"cla_[A-Za-z0-9_-]{40}")
PREFIX_LEN = 12  # "cla_" + 8 characters: shown in listings, enough to tell tokens apart
LAST_USED_EVERY = timedelta(minutes=1)


def scope_allows(have: str, need: str) -> bool:
    return _SCOPE_RANK.get(have, -1) >= _SCOPE_RANK[need]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        scope=row.scope,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token_value() -> str:
    """``cla_`` and 40 URL-safe characters (240 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


async def create_token(
    session: AsyncSession, *, name: str, scope: str, now: datetime | None = None
) -> tuple[str, TokenInfo]:
    """A new token: the plain value (show it once, it is not kept) and what is stored."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise Invalid("the token name must be 1 to 100 printable characters")
    if scope not in SCOPES:
        raise Invalid("the scope must be one of: " + ", ".join(SCOPES))
    value = new_token_value()
    row = ApiToken(
        token_hash=token_hash(value),
        prefix=value[:PREFIX_LEN],
        name=name,
        scope=scope,
        created_at=now or utcnow(),
    )
    session.add(row)
    await session.flush()
    return value, _info(row)


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = (await session.scalars(select(ApiToken).order_by(ApiToken.id))).all()
    return [_info(r) for r in rows]


async def revoke_token(
    session: AsyncSession, prefix: str, *, now: datetime | None = None
) -> TokenInfo:
    """Revoke the token with this prefix (or this whole value); revoking twice is harmless."""
    prefix = prefix.strip()
    if TOKEN_RE.fullmatch(prefix):
        rows = (
            await session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(prefix)))
        ).all()
    elif prefix.startswith(TOKEN_PREFIX) and prefix.isprintable() and len(prefix) <= 16:
        rows = (await session.scalars(select(ApiToken).where(ApiToken.prefix == prefix))).all()
    else:
        raise Invalid("give the token's prefix as shown by `cla-bot token list` (cla_…)")
    if not rows:
        raise NotFound("no token has this prefix")
    if len(rows) > 1:
        raise Invalid("several tokens share this prefix; give the whole token to revoke it")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
    await session.flush()
    return _info(row)


async def authenticate(
    session: AsyncSession, presented: str, *, now: datetime | None = None
) -> TokenInfo | None:
    """The live token with this value, its ``last_used_at`` moved (at most once a minute)."""
    if not TOKEN_RE.fullmatch(presented):
        return None
    row = (
        await session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(presented)))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
        await session.flush()
    return _info(row)
