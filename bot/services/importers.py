"""``cla-bot import-from FORMAT FILE``: signatures exported by other CLA bots.

Formats:

- ``cla-assistant`` (SAP's CLA assistant): the signatures of a linked repository or
  organisation, either as JSON — the API's ``getAll`` answer or a ``mongoexport`` of its ``clas``
  collection: objects with ``user``, ``userId``, ``created_at``, ``gist_url``, ``gist_version``,
  ``owner``/``repo``, ``org_cla``, ``revoked_at``, ``end_at`` and ``custom_fields`` (a JSON
  string) — or as the CSV its admin page downloads (``;``-separated: *User Name*, *Repository
  Owner*, *Repository Name*, *CLA Title*, *Gist URL*, *Gist Version*, *Signed At*, *Signed for
  Organisation*, then one column per custom field). That CSV has no user id: its rows can only
  be matched by an email given in a custom field.
- ``cla-assistant-lite`` (contributor-assistant/github-action): the ``cla.json`` it commits,
  ``{"signedContributors": [{"name", "id", "comment_id", "created_at", "repoId",
  "pullRequestNo"}]}`` where ``name`` is the GitHub login.

Every row becomes a GitHub signature of the agreement version given on the command line. As with
the CSV import, every row is checked first: one row that cannot be mapped means nothing is
imported (unless ``--skip-unmappable``), and each is reported by its position, never with its
values. What the formats hold and this bot does not keep is reported as counts. The command
itself is :mod:`bot.cli.imports`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.identity import EMAIL, LOGIN
from bot.settings import Policy
from bot.storage.agreements import version_row
from bot.storage.crypto import FieldCipher
from bot.storage.models import Signature
from bot.storage.signatures import NewSignature, find_signer

FORMATS = ("cla-assistant", "cla-assistant-lite")
PLATFORM = "github"

# Custom field keys (compared lower-cased, without spaces, dashes and underscores).
NAME_KEYS = frozenset({"name", "fullname", "yourname", "legalname", "realname", "signername"})
EMAIL_KEYS = frozenset({"email", "mail", "emailaddress", "youremail", "signeremail"})

# cla-assistant's CSV download: header text → field.
CSV_FIELDS = {
    "user name": "user",
    "user": "user",
    "user_name": "user",
    "login": "user",
    "user id": "userId",
    "userid": "userId",
    "user_id": "userId",
    "repository owner": "owner",
    "owner": "owner",
    "repo_owner": "owner",
    "repository name": "repo",
    "repo": "repo",
    "repo_name": "repo",
    "cla title": "gist_name",
    "gist_name": "gist_name",
    "gist url": "gist_url",
    "gist_url": "gist_url",
    "gist version": "gist_version",
    "gist_version": "gist_version",
    "signed at": "created_at",
    "signed_at": "created_at",
    "created_at": "created_at",
    "signed for organisation": "org_cla",
    "signed for organization": "org_cla",
    "org_cla": "org_cla",
    "custom_fields": "custom_fields",
    "revoked_at": "revoked_at",
    "end_at": "end_at",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that cannot be mapped, by position (``line 4``, ``entry 3``): never its values."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class ForeignImport:
    rows: list[NewSignature] = field(default_factory=list)
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


# --- shared helpers -------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` allowed), RFC 2822 (``Tue, 02 Jan 2024 03:04:05 GMT``), epoch
    milliseconds, or mongoexport's ``{"$date": ...}``."""
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


def _account_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, Mapping) and "$numberLong" in value:
        value = value["$numberLong"]
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 20:
        return str(int(value.strip()))
    return None


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.strip().lower())


def _custom_fields(raw: Any, dropped: Counter[str]) -> tuple[str | None, str | None, bool]:
    """(name, email, parse error) from cla-assistant's custom fields; other keys are counted."""
    if raw is None or raw == "":
        return None, None, False
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None, None, True
    if not isinstance(raw, Mapping):
        return None, None, True
    name = email = None
    for k, v in raw.items():
        key = _key(str(k))
        if key in NAME_KEYS and isinstance(v, str) and v.strip():
            name = name or v.strip()
        elif key in EMAIL_KEYS and isinstance(v, str) and v.strip():
            email = email or v.strip()
        elif v not in (None, "", False):
            dropped[str(k)[:40]] += 1
    return name, email, False


def _latest(rows: Iterable[tuple[str, NewSignature]], result: ForeignImport) -> None:
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
    )


# --- cla-assistant --------------------------------------------------------------------------


def _json_records(text: str) -> tuple[list[tuple[str, Any]], str | None]:
    """(position, record) pairs from a JSON array, an object holding one, or JSON lines."""
    stripped = text.strip()
    try:
        data = json.loads(stripped)
    except ValueError:
        records = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {n}", json.loads(line)))
            except ValueError:
                return [], f"line {n} is not JSON (expected a JSON array or JSON lines)"
        return records, None
    if isinstance(data, Mapping):
        for key in ("signatures", "clas", "data", "items"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            if "user" in data or "userId" in data:
                return [("entry 1", data)], None
            return [], "expected a JSON array of signatures"
    if not isinstance(data, list):
        return [], "expected a JSON array of signatures"
    return [(f"entry {i}", r) for i, r in enumerate(data, start=1)], None


def _csv_records(text: str) -> tuple[list[tuple[str, Any]], str | None]:
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        return [], "the file is empty"
    fields = [CSV_FIELDS.get(h.lower()) for h in header]
    if "user" not in fields and "userId" not in fields:
        return [], (
            "no user column: expected cla-assistant's export header "
            '("User Name";"Repository Owner";…;"Signed At";…) or a JSON export'
        )
    records: list[tuple[str, Any]] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            records.append((f"line {line}", f"expected {len(header)} columns, found {len(cells)}"))
            continue
        record: dict[str, Any] = {}
        custom: dict[str, str] = {}
        for name, known, value in zip(header, fields, cells, strict=True):
            if known is None:
                custom[name] = value
            else:
                record[known] = value
        if custom:
            record.setdefault("custom_fields", json.dumps(custom))
        records.append((f"line {line}", record))
    return records, None


def parse_cla_assistant(text: str, policy: Policy, options: Options) -> ForeignImport:
    result = ForeignImport()
    if not _check_target(policy, options, result):
        return result
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        result.fatal = "the file is empty"
        return result
    if stripped[0] in "[{":
        records, fatal = _json_records(stripped)
    else:
        records, fatal = _csv_records(text.lstrip("\ufeff"))
    if fatal:
        result.fatal = fatal
        return result
    now = datetime.now(UTC)
    gist_urls: set[str] = set()
    gist_versions: set[str] = set()
    mapped: list[tuple[str, NewSignature]] = []
    for where, rec in records:
        result.total += 1
        if isinstance(rec, str):  # a CSV row of the wrong width
            result.problems.append(Problem(where, rec))
            continue
        if not isinstance(rec, Mapping):
            result.problems.append(Problem(where, "not an object"))
            continue
        gist_url = str(rec.get("gist_url") or "").strip()
        gist_version = str(rec.get("gist_version") or "").strip()
        if options.gist_version is not None and gist_version != options.gist_version:
            result.notes["rows of other gist versions, skipped (--gist-version)"] += 1
            continue
        if gist_url:
            gist_urls.add(gist_url)
        if gist_version:
            gist_versions.add(gist_version)
        if rec.get("revoked_at") not in (None, ""):
            result.notes["revoked signatures, not imported"] += 1
            continue
        end = rec.get("end_at")
        if end not in (None, ""):
            ends = _parse_time(end)
            if ends is not None and ends <= now:
                result.notes["terminated signatures (end_at passed), not imported"] += 1
                continue
            result.notes["end dates (end_at), not kept"] += 1
        problems: list[str] = []
        account_id = _account_id(rec.get("userId"))
        if rec.get("userId") not in (None, "") and account_id is None:
            problems.append("userId is not a numeric GitHub account id")
        login = str(rec.get("user") or "").strip() or None
        if login is not None and not LOGIN.fullmatch(login):
            problems.append("user is not a valid GitHub login")
        dropped: Counter[str] = Counter()
        name, email, bad_custom = _custom_fields(rec.get("custom_fields"), dropped)
        if bad_custom:
            problems.append("custom_fields is not a JSON object")
        if email is not None and not EMAIL.fullmatch(email):
            result.notes["emails in custom fields that are not addresses, dropped"] += 1
            email = None
        if email is not None and not options.use_emails:
            result.notes["emails in custom fields, not used (--ignore-emails)"] += 1
            email = None
        when = _parse_time(rec.get("created_at"))
        if when is None:
            problems.append("created_at (Signed At) is missing or not a time")
        elif when > now:
            problems.append("created_at is in the future")
        if account_id is None and email is None and not problems:
            problems.append(
                "no numeric user id and no email: a login alone cannot be matched safely "
                "(logins change hands)"
            )
        if problems:
            result.problems.append(Problem(where, "; ".join(problems)))
            continue
        assert when is not None
        result.dropped_fields.update(dropped)
        if account_id is None and login is not None:
            result.notes["logins of rows matched by email only, not kept"] += 1
        if rec.get("owner") or rec.get("repo"):
            result.notes["repository or organisation signed for, not kept"] += 1
        row = NewSignature(
            platform=PLATFORM if account_id else None,
            account_id=account_id,
            login=login if account_id else None,
            email=email,
            name=name,
            agreement_id=options.agreement,
            version=options.version,
            signed_at=when,
            source="import",
        )
        mapped.append((f"id:{account_id}" if account_id else f"email:{email!s}".lower(), row))
    if gist_urls or gist_versions:
        result.facts.append(
            f"CLA gists, kept only as counts (every row mapped to {options.agreement} "
            f"{options.version}): {len(gist_urls)} URL(s), {len(gist_versions)} version(s)"
        )
    _latest(mapped, result)
    return result


# --- CLA Assistant Lite ---------------------------------------------------------------------


def parse_cla_assistant_lite(text: str, policy: Policy, options: Options) -> ForeignImport:
    result = ForeignImport()
    if not _check_target(policy, options, result):
        return result
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError:
        result.fatal = "not JSON: expected the action's cla.json"
        return result
    entries = data.get("signedContributors") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        result.fatal = 'expected {"signedContributors": [...]} (the action\'s cla.json)'
        return result
    now = datetime.now(UTC)
    mapped: list[tuple[str, NewSignature]] = []
    evidence = 0
    for i, entry in enumerate(entries, start=1):
        where = f"entry {i}"
        result.total += 1
        if not isinstance(entry, Mapping):
            result.problems.append(Problem(where, "not an object"))
            continue
        problems: list[str] = []
        account_id = _account_id(entry.get("id"))
        if account_id is None:
            problems.append("no numeric GitHub account id (id)")
        login = entry.get("name")
        if login is not None and (not isinstance(login, str) or not LOGIN.fullmatch(login)):
            problems.append("name is not a valid GitHub login")
        when = _parse_time(entry.get("created_at"))
        if when is None:
            problems.append("created_at is missing or not a time")
        elif when > now:
            problems.append("created_at is in the future")
        email = entry.get("email")
        if email is not None and (not isinstance(email, str) or not EMAIL.fullmatch(email)):
            result.notes["emails that are not addresses, dropped"] += 1
            email = None
        if email is not None and not options.use_emails:
            result.notes["emails, not used (--ignore-emails)"] += 1
            email = None
        if problems:
            result.problems.append(Problem(where, "; ".join(problems)))
            continue
        assert when is not None and account_id is not None
        if any(entry.get(k) not in (None, "") for k in ("comment_id", "repoId", "pullRequestNo")):
            evidence += 1
        mapped.append(
            (
                f"id:{account_id}",
                NewSignature(
                    platform=PLATFORM,
                    account_id=account_id,
                    login=login if isinstance(login, str) else None,
                    email=email if isinstance(email, str) else None,
                    name=None,  # the action's "name" is the login, not a person's name
                    agreement_id=options.agreement,
                    version=options.version,
                    signed_at=when,
                    source="import",
                ),
            )
        )
    if evidence:
        result.notes[
            "signing comments (comment_id, repoId, pullRequestNo), not kept as evidence"
        ] += evidence
    _latest(mapped, result)
    return result


def _check_target(policy: Policy, options: Options, result: ForeignImport) -> bool:
    versions = {(a.agreement_id, v.version) for a in policy.agreements for v in a.versions}
    if (options.agreement, options.version) not in versions:
        result.fatal = (
            f"agreement {options.agreement!r} has no version {options.version!r} in app.yaml"
        )
        return False
    return True


def parse(fmt: str, text: str, policy: Policy, options: Options) -> ForeignImport:
    if fmt == "cla-assistant":
        return parse_cla_assistant(text, policy, options)
    if fmt == "cla-assistant-lite":
        return parse_cla_assistant_lite(text, policy, options)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


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
