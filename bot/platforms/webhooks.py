"""What a forge's webhook receiver answers, for the one ``POST /webhooks/{forge}`` handler.

Each forge's receiver (``bot.platforms.<forge>.webhooks``) takes a delivery's headers and raw
body, checks that the forge sent it (signature, freshness, replays: each forge its own way),
decodes the fields routing reads and routes them. It answers either :class:`Routed` — a
verified delivery and what it asks of the bot, which the web handler stores — or
:class:`Answer`, the final answer to a delivery that is refused or not used (nothing is
written). The web handler holds what every forge shares: the size and encoding limits, storing
the routed work, and the metrics.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.platforms.routing import Route


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to a delivery that writes nothing: ``status`` and ``message`` for the
    sender, ``outcome`` for the deliveries metric (``None``: not counted), ``extra`` fields."""

    status: int
    message: str
    outcome: str | None
    event: str = "-"
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Routed:
    """A verified delivery: its key (unique per delivery: a replay has the same key), its event
    and action, and what routing made of it."""

    key: str
    event: str
    action: str | None
    route: Route


class WebhookReceiver(Protocol):
    """One forge's webhook checks, decoding and routing (no storage, no HTTP framework)."""

    # The answer to a delivery whose key was stored already: a forge that signs the body
    # redelivers (200, a duplicate); where the signature does not cover the body, the same key
    # again is a replay (401).
    duplicate: Answer

    async def receive(
        self, headers: Mapping[str, str], content_type: str, body: bytes
    ) -> Routed | Answer: ...


def hmac_sha256_matches(secret: str, body: bytes, header: str | None, *, prefix: str) -> bool:
    """``header`` is ``prefix`` + the hex HMAC-SHA256 of ``body`` under ``secret`` (compared in
    constant time)."""
    if not header or not header.startswith(prefix):
        return False
    expected = prefix + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace"))


class ReplayCache:
    """Delivery keys seen in the freshness window, per process (the database's unique key
    catches replays across replicas for every delivery that made a job)."""

    def __init__(self, *, window_s: float, max_entries: int = 100_000) -> None:
        self.window_s = window_s
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}

    def seen(self, key: str, now: float) -> bool:
        """True when ``key`` was seen in the window; records it otherwise."""
        if len(self._seen) >= self.max_entries:
            cutoff = now - self.window_s
            self._seen = {k: t for k, t in self._seen.items() if t > cutoff}
            while len(self._seen) >= self.max_entries:
                self._seen.pop(next(iter(self._seen)))
        at = self._seen.get(key)
        if at is not None and at > now - self.window_s:
            return True
        self._seen[key] = now
        return False
