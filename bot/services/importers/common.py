"""What every importer of another CLA bot's export shares: the result (rows to import, rows that
cannot be mapped by position, what was not kept as counts), reading times and JSON records, one
signature per person, and leaving out what is recorded already."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Policy
from bot.storage.agreements import version_row
from bot.storage.crypto import FieldCipher
from bot.storage.models import Signature
from bot.storage.signatures import NewSignature, find_signer


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that cannot be mapped, by position (``line 4``, ``entry 3``): never its values."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True, slots=True)
class ImportedCompany:
    """A company's corporate signature read from an export, ready to record: its name (shown in
    the PR comments of everyone it covers, never encrypted), the agreement version it maps to,
    whether the other service had confirmed it, its checked email domains and the emails of the
    people it covered there."""

    name: str
    agreement_id: str
    version: str
    signed_at: datetime
    confirmed: bool  # approved by the community there: recorded as approved here
    domains: tuple[str, ...]
    emails: tuple[str, ...]  # normalised


@dataclass
class ForeignImport:
    rows: list[NewSignature] = field(default_factory=list)
    companies: list[ImportedCompany] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fatal: str | None = None  # the file as a whole is unreadable
    total: int = 0  # rows (entries) read
    notes: Counter[str] = field(default_factory=Counter)  # what was not kept, counted
    dropped_fields: Counter[str] = field(default_factory=Counter)  # custom field keys dropped
    facts: list[str] = field(default_factory=list)  # other lines worth saying

    def unmapped(self) -> list[str]:
        """What the file held and the bot does not keep, one line each (no personal values)."""
        lines = [f"{text}: {n}" for text, n in sorted(self.notes.items())] + self.facts
        if self.dropped_fields:
            keys = ", ".join(f"{k} ({n})" for k, n in sorted(self.dropped_fields.items()))
            lines.append(f"custom fields other than name and email, dropped: {keys}")
        return lines


@dataclass(frozen=True, slots=True)
class Options:
    agreement: str
    version: str
    gist_version: str | None = None  # cla-assistant: only rows of this gist version
    use_emails: bool = True  # take emails from custom fields as identities


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` allowed; a date alone is midnight UTC), RFC 2822 (``Tue, 02 Jan 2024
    03:04:05 GMT``), epoch milliseconds, or mongoexport's ``{"$date": ...}``."""
    if isinstance(value, Mapping) and "$date" in value:
        value = value["$date"]
        if isinstance(value, Mapping) and "$numberLong" in value:
            value = value["$numberLong"]
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            t = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def signing_time(
    value: Any, field_name: str, problems: list[str], now: datetime
) -> datetime | None:
    """The time in ``value``, or ``None`` with the reason added to ``problems``."""
    when = parse_time(value)
    if when is None:
        problems.append(f"{field_name} is missing or not a time")
    elif when > now:
        problems.append(f"{field_name} is in the future")
    return when


def json_lines(text: str) -> tuple[list[tuple[str, Any]], str | None]:
    """(position, record) pairs from JSON lines (``mongoexport`` without ``--jsonArray``)."""
    records = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((f"line {n}", json.loads(line)))
        except ValueError:
            return [], f"line {n} is not JSON (expected a JSON array or JSON lines)"
    return records, None


def latest(rows: Iterable[tuple[str, NewSignature]], result: ForeignImport) -> None:
    """One signature per person (account id, else email): the latest signing time."""
    best: dict[str, NewSignature] = {}
    order: list[str] = []
    for key, row in rows:
        old = best.get(key)
        if old is None:
            order.append(key)
            best[key] = row
            continue
        result.notes["rows of a person already seen, merged (the latest signing time kept)"] += 1
        if row.signed_at > old.signed_at:
            best[key] = _merge(row, old)
        else:
            best[key] = _merge(old, row)
    result.rows.extend(best[k] for k in order)


def _merge(keep: NewSignature, other: NewSignature) -> NewSignature:
    return NewSignature(
        platform=keep.platform,
        account_id=keep.account_id,
        login=keep.login or other.login,
        email=keep.email or other.email,
        name=keep.name or other.name,
        agreement_id=keep.agreement_id,
        version=keep.version,
        signed_at=keep.signed_at,
        source=keep.source,
        email_proven_by=keep.email_proven_by,
        email_proven_at=keep.email_proven_at,
    )


def check_target(policy: Policy, options: Options, result: ForeignImport) -> bool:
    versions = {(a.agreement_id, v.version) for a in policy.agreements for v in a.versions}
    if (options.agreement, options.version) not in versions:
        result.fatal = (
            f"agreement {options.agreement!r} has no version {options.version!r} in app.yaml"
        )
        return False
    return True


# --- writing --------------------------------------------------------------------------------


async def already_recorded(
    session: AsyncSession, cipher: FieldCipher, rows: list[NewSignature]
) -> tuple[list[NewSignature], int]:
    """Rows whose person already holds a valid signature of that version are left out, so
    that importing the same file twice changes nothing."""
    fresh: list[NewSignature] = []
    seen = 0
    for row in rows:
        signer = await find_signer(
            session,
            cipher,
            platform=row.platform,
            account_id=row.account_id,
            emails=[row.email] if row.email else [],
        )
        version = await version_row(session, row.agreement_id, row.version)
        if signer is not None and version is not None:
            existing = (
                await session.scalars(
                    select(Signature.id).where(
                        Signature.signer_id == signer.id,
                        Signature.agreement_version_id == version.id,
                        Signature.revoked_at.is_(None),
                        Signature.erased_at.is_(None),
                    )
                )
            ).first()
            if existing is not None:
                seen += 1
                continue
        fresh.append(row)
    return fresh, seen
