"""``cla-bot import FILE``: bring existing signature records in from CSV.

Header: ``platform,login,account_id,email,name,agreement,version,signed_at``. Every row is
validated before anything is written; one bad row means nothing is imported, and every bad row
is reported by its line number (never with its personal values). The command itself, which
reads the file and reports, is :mod:`bot.cli.imports`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.identity import EMAIL, LOGIN
from bot.platforms import registry
from bot.services import audit
from bot.services.rechecks import enqueue_rechecks
from bot.settings import Policy
from bot.storage.crypto import FieldCipher
from bot.storage.signatures import NewSignature, record_signature

HEADER = ("platform", "login", "account_id", "email", "name", "agreement", "version", "signed_at")
PLATFORMS: tuple[str, ...] = registry.NAMES


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    rows: list[NewSignature]
    errors: list[RowError]


def _parse_time(value: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_csv(text: str, policy: Policy) -> ParseResult:
    reader = csv.reader(io.StringIO(text))
    errors: list[RowError] = []
    rows: list[NewSignature] = []
    try:
        header = next(reader)
    except StopIteration:
        return ParseResult([], [RowError(1, "the file is empty; expected a header line")])
    header = [h.strip().lower() for h in header]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if tuple(header) != HEADER:
        return ParseResult([], [RowError(1, "the header must be exactly: " + ",".join(HEADER))])
    versions = {(a.agreement_id, v.version) for a in policy.agreements for v in a.versions}
    seen: dict[tuple[str, str, str, str], int] = {}
    now = datetime.now(UTC)
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(HEADER):
            errors.append(RowError(line, f"expected {len(HEADER)} columns, found {len(record)}"))
            continue
        platform, login, account_id, email, name, agreement, version, signed_at = (
            c.strip() for c in record
        )
        problems: list[str] = []
        platform = platform.lower()
        if platform and platform not in PLATFORMS:
            problems.append(f"platform must be {', '.join(PLATFORMS)} or empty")
        if account_id and not account_id.isdigit():
            problems.append("account_id must be the numeric account id")
        if account_id and not platform:
            problems.append("account_id needs a platform")
        if login and not LOGIN.fullmatch(login):
            problems.append("login is not a valid account name")
        if login and not account_id:
            problems.append(
                "a login alone cannot be matched safely (logins change); add account_id"
            )
        if email and not EMAIL.fullmatch(email):
            problems.append("email is not an email address")
        if not account_id and not email:
            problems.append("each row needs an account_id or an email")
        if (agreement, version) not in versions:
            problems.append(f"agreement {agreement!r} has no version {version!r} in app.yaml")
        when = _parse_time(signed_at)
        if when is None:
            problems.append("signed_at must be an ISO 8601 time, e.g. 2024-05-01T12:00:00Z")
        elif when > now:
            problems.append("signed_at is in the future")
        key = (platform, account_id, email.lower(), f"{agreement}/{version}")
        if not problems and key in seen:
            problems.append(f"duplicate of line {seen[key]}")
        if problems:
            errors.append(RowError(line, "; ".join(problems)))
            continue
        seen[key] = line
        assert when is not None
        rows.append(
            NewSignature(
                platform=platform or None,
                account_id=account_id or None,
                login=login or None,
                email=email or None,
                name=name or None,
                agreement_id=agreement,
                version=version,
                signed_at=when,
                source="import",
            )
        )
    return ParseResult(rows, errors)


def request_id() -> str:
    """The audit trail's name for one import run."""
    return f"import-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"


async def import_rows(
    session: AsyncSession,
    cipher: FieldCipher,
    rows: list[NewSignature],
    *,
    request: str | None = None,
    source: str | None = None,
) -> tuple[int, int]:
    """Record every row; returns (signatures imported, PR re-checks queued: each signer's PRs
    in the community of the agreement they signed). ``source`` names the other service an
    export came from, in the audit trail."""
    order: list[int] = []  # each row's signer
    for row in rows:
        signer, _ = await record_signature(session, cipher, row)
        order.append(signer.id)
    signer_ids = set(order)
    details: dict[str, str | int] = {"signatures": len(rows), "signers": len(signer_ids)}
    if source:
        details["source"] = source
    await audit.record(
        session,
        action="import",
        actor="operator",
        via="cli",
        request_id=request or request_id(),
        details=details,
    )
    queued = 0
    for community in sorted({row.community for row in rows}):
        signed = {
            signer_id
            for signer_id, row in zip(order, rows, strict=True)
            if row.community == community
        }
        queued += await enqueue_rechecks(session, signed, community=community)
    return len(rows), queued
