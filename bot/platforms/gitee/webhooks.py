"""Gitee's webhook receiver: password or signature mode, a freshness window and a replay
cache — the signature covers a timestamp, not the body — then the fields routing reads decoded
once (never the body's copies of the secret) and routed (``routing.route``).

Gitee has no delivery id: the key is a hash of the timestamp and the body
(``sansio.delivery_key``), so the same key again is a replay (401), not a redelivery.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from bot.platforms.gitee import routing, sansio
from bot.platforms.payload import NotJson, PayloadError
from bot.platforms.webhooks import Answer, ReplayCache, Routed

REPLAYED = Answer(401, "replayed delivery", "replayed")


class GiteeWebhooks:
    """The receiver of one Gitee bot's deliveries. ``bot_login`` names the bot's account (its
    own comments are not commands); asked for at most ``login_timeout_s`` per delivery, and
    taken as unknown when Gitee does not answer in time."""

    duplicate = REPLAYED

    def __init__(
        self,
        *,
        secret: str,
        window_s: int,
        bot_login: Callable[[], Awaitable[str]] | None,
        login_timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._window_s = window_s
        self._bot_login = bot_login
        self._login_timeout_s = login_timeout_s
        self._clock = clock
        self.replays = ReplayCache(window_s=2 * window_s)

    async def _login(self) -> str | None:
        if self._bot_login is None:
            return None
        try:  # cached after the first answer; never hold a delivery up for long
            return await asyncio.wait_for(self._bot_login(), timeout=self._login_timeout_s)
        except Exception:
            return None

    async def receive(
        self, headers: Mapping[str, str], content_type: str, body: bytes
    ) -> Routed | Answer:
        now = self._clock()
        try:
            sansio.verify(
                headers, secret=self._secret, now_ms=int(now * 1000), window_s=self._window_s
            )
        except sansio.GiteeAuthError as exc:
            return Answer(401, exc.reason, "bad_signature")
        key = sansio.delivery_key(headers, body)
        if self.replays.seen(key, now):
            return REPLAYED
        if sansio.is_ping(headers):
            return Answer(200, "pong", None)
        if content_type != "application/json":
            return Answer(415, "send deliveries as application/json", None)
        try:
            payload = routing.decode(body)
        except NotJson as exc:
            return Answer(400, str(exc), "malformed")
        except PayloadError as exc:
            return Answer(400, f"malformed delivery: {exc}", "malformed")
        event = sansio.event_name(headers, {"hook_name": payload.hook_name})
        if not event:
            return Answer(400, "missing X-Gitee-Event header", None)
        try:
            decision = routing.route(event, payload, bot_login=await self._login())
        except PayloadError as exc:
            return Answer(400, f"malformed {event} event: {exc}", "malformed", event)
        return Routed(key, event, payload.action, decision)
