"""What crosses the durable queue: a job to store (:class:`NewJob`) and a job claimed to run
(:class:`ClaimedJob`), on the queue's clock (:func:`now_utc`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.storage.models import JobKind

CHECK_SNAPSHOT = "pull"  # a check payload's PR snapshot (coalescing keeps the newest one only)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewJob:
    platform: str
    delivery_key: str
    event: str
    action: str | None
    kind: JobKind
    payload: dict[str, Any]
    pr_key: str | None = None
    installation_id: int | None = None


@dataclass
class ClaimedJob:
    id: int
    platform: str
    event: str
    action: str | None
    kind: str
    payload: dict[str, Any]
    pr_key: str | None
    installation_id: int | None
    attempts: int
    coalesced: list[int] = field(default_factory=list)
