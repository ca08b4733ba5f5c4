"""Browser sessions and OAuth login states, stored server-side so that any replica can serve
any request.

The session cookie carries 256 random bits; the database keeps only their SHA-256, and the
session's data (the signed-in account, its verified emails, the CSRF token) is encrypted and
bound to that hash. Each row also carries a keyed hash of its account, so that an erasure
(:func:`bot.services.rights.erase`) ends every session of that person, in any browser, without
decrypting every row. A new session id is issued at every login. OAuth ``state`` values are
single use, expire after 10 minutes and are bound to a pre-login cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from aiohttp import web
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.models import OAuthState, WebSession, utcnow

SESSION_COOKIE = "cla_session"
PRELOGIN_COOKIE = "cla_prelogin"
SESSION_TTL = timedelta(hours=2)
STATE_TTL = timedelta(minutes=10)
_LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9/_\-.~%]*(\?[A-Za-z0-9_\-.~%=&+]*)?$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def safe_next(value: str | None, default: str) -> str:
    """Only local paths: never another host, scheme or a protocol-relative ``//host``."""
    if value and _LOCAL_PATH.fullmatch(value):
        return value
    return default


@dataclass
class SessionData:
    platform: str
    account_id: str
    login: str
    emails: list[str]
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    signature_ids: list[int] = field(default_factory=list)

    def check_csrf(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


@dataclass
class Session:
    token: str
    data: SessionData


class SessionStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        *,
        secure_cookies: bool,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self.secure = secure_cookies

    # -- cookies ---------------------------------------------------------------------------------

    def set_cookie(
        self, response: web.StreamResponse, name: str, value: str, max_age_s: int
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age_s,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self.secure,
        )

    def clear_cookie(self, response: web.StreamResponse, name: str) -> None:
        response.del_cookie(name, path="/")

    def prelogin(self, request: web.Request, response: web.StreamResponse) -> str:
        """The pre-login cookie's value, created when absent."""
        value = request.cookies.get(PRELOGIN_COOKIE)
        if not value or len(value) > 100:
            value = secrets.token_urlsafe(32)
        self.set_cookie(response, PRELOGIN_COOKIE, value, int(STATE_TTL.total_seconds()))
        return value

    # -- sessions --------------------------------------------------------------------------------

    def _encrypt(self, token_hash: str, data: SessionData) -> str:
        return self._cipher.encrypt(
            json.dumps(asdict(data)), table="web_sessions", column="data", row=token_hash
        )

    async def load(self, request: web.Request) -> Session | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 100:
            return None
        token_hash = digest(token)
        async with self._sessions() as s:
            row = (
                await s.execute(
                    WebSession.__table__.select().where(WebSession.token_hash == token_hash)
                )
            ).first()
        if row is None or row.expires_at <= utcnow():
            return None
        try:
            raw = self._cipher.decrypt(
                row.data_ct, table="web_sessions", column="data", row=token_hash
            )
            data = SessionData(**json.loads(raw))
        except (DecryptError, TypeError, ValueError):
            return None
        return Session(token, data)

    async def login(
        self, request: web.Request, response: web.StreamResponse, data: SessionData
    ) -> Session:
        """Start a fresh session (a new id at every login) and drop the previous one."""
        token = await self.create(data, replacing=request.cookies.get(SESSION_COOKIE))
        self.set_cookie(response, SESSION_COOKIE, token, int(SESSION_TTL.total_seconds()))
        return Session(token, data)

    async def create(self, data: SessionData, *, replacing: str | None = None) -> str:
        """Store a new session for ``data`` (dropping the ``replacing`` one and expired ones);
        returns the cookie's token."""
        token = secrets.token_urlsafe(32)
        token_hash = digest(token)
        async with self._sessions() as s, s.begin():
            if replacing:
                await s.execute(
                    delete(WebSession).where(WebSession.token_hash == digest(replacing))
                )
            await s.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
            s.add(
                WebSession(
                    token_hash=token_hash,
                    data_ct=self._encrypt(token_hash, data),
                    account_hash=self._cipher.account_hash(data.platform, data.account_id),
                    expires_at=utcnow() + SESSION_TTL,
                )
            )
        return token

    async def save(self, session: Session) -> None:
        token_hash = digest(session.token)
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(WebSession)
                .where(WebSession.token_hash == token_hash)
                .values(data_ct=self._encrypt(token_hash, session.data))
            )

    async def logout(self, request: web.Request, response: web.StreamResponse) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            async with self._sessions() as s, s.begin():
                await s.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))
        self.clear_cookie(response, SESSION_COOKIE)

    # -- OAuth states ----------------------------------------------------------------------------

    async def remember_state(
        self,
        *,
        state: str,
        prelogin: str,
        platform: str,
        verifier: str | None,
        next_path: str,
        ttl: timedelta = STATE_TTL,
    ) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(delete(OAuthState).where(OAuthState.expires_at <= utcnow()))
            s.add(
                OAuthState(
                    state_hash=digest(state),
                    prelogin_hash=digest(prelogin),
                    platform=platform,
                    code_verifier=verifier,
                    next_path=next_path,
                    expires_at=utcnow() + ttl,
                )
            )

    async def consume_state(
        self, *, state: str, prelogin: str | None, platform: str
    ) -> OAuthState | None:
        """The login attempt for ``state`` if it is known, unused, unexpired, for this platform
        and bound to this browser's pre-login cookie; it is marked used either way."""
        if not state or len(state) > 200:
            return None
        now = utcnow()
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(OAuthState)
                .where(OAuthState.state_hash == digest(state), OAuthState.used_at.is_(None))
                .values(used_at=now)
                .returning(OAuthState.id)
            )
            claimed = result.scalar_one_or_none()
            if claimed is None:
                return None
            row = await s.get(OAuthState, claimed)
        if (
            row is None
            or row.expires_at <= now
            or row.platform != platform
            or not prelogin
            or not hmac.compare_digest(row.prelogin_hash, digest(prelogin))
        ):
            return None
        return row
