"""cla-assistant (SAP's CLA assistant) and CLA Assistant Lite (contributor-assistant/
github-action): exports whose rows are accounts of one forge (GitHub's, by nature), handed in
as :class:`~bot.core.model.ForgeFacts` by whoever knows which forge the format is of (the
command line's format table).

- ``cla-assistant``: the signatures of a linked repository or organisation, either as JSON —
  the API's ``getAll`` answer or a ``mongoexport`` of its ``clas`` collection: objects with
  ``user``, ``userId``, ``created_at``, ``gist_url``, ``gist_version``, ``owner``/``repo``,
  ``org_cla``, ``revoked_at``, ``end_at`` and ``custom_fields`` (a JSON string) — or as the CSV
  its admin page downloads (``;``-separated: *User Name*, *Repository Owner*, *Repository
  Name*, *CLA Title*, *Gist URL*, *Gist Version*, *Signed At*, *Signed for Organisation*, then
  one column per custom field). That CSV has no user id: its rows can only be matched by an
  email given in a custom field.
- ``cla-assistant-lite``: the ``cla.json`` it commits, ``{"signedContributors": [{"name", "id",
  "comment_id", "created_at", "repoId", "pullRequestNo"}]}`` where ``name`` is the login.

Every row becomes a signature of the agreement version given on the command line, by the
forge's account id (or by an email from cla-assistant's custom fields).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.identity import EMAIL, LOGIN
from bot.core.model import ForgeFacts
from bot.services.importers.common import (
    ForeignImport,
    Options,
    Problem,
    check_target,
    json_lines,
    latest,
    parse_time,
    signing_time,
)
from bot.settings import Policy
from bot.storage.signatures import NewSignature

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


# --- helpers --------------------------------------------------------------------------------


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


# --- cla-assistant --------------------------------------------------------------------------


def _json_records(text: str) -> tuple[list[tuple[str, Any]], str | None]:
    """(position, record) pairs from a JSON array, an object holding one, or JSON lines."""
    stripped = text.strip()
    try:
        data = json.loads(stripped)
    except ValueError:
        return json_lines(text)
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


def parse_cla_assistant(
    text: str, policy: Policy, options: Options, forge: ForgeFacts
) -> ForeignImport:
    result = ForeignImport()
    if not check_target(policy, options, result):
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
            ends = parse_time(end)
            if ends is not None and ends <= now:
                result.notes["terminated signatures (end_at passed), not imported"] += 1
                continue
            result.notes["end dates (end_at), not kept"] += 1
        problems: list[str] = []
        account_id = _account_id(rec.get("userId"))
        if rec.get("userId") not in (None, "") and account_id is None:
            problems.append(f"userId is not a numeric {forge.display_name} account id")
        login = str(rec.get("user") or "").strip() or None
        if login is not None and not LOGIN.fullmatch(login):
            problems.append(f"user is not a valid {forge.display_name} login")
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
        when = signing_time(rec.get("created_at"), "created_at (Signed At)", problems, now)
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
            platform=forge.name if account_id else None,
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
    latest(mapped, result)
    return result


# --- CLA Assistant Lite ---------------------------------------------------------------------


def parse_cla_assistant_lite(
    text: str, policy: Policy, options: Options, forge: ForgeFacts
) -> ForeignImport:
    result = ForeignImport()
    if not check_target(policy, options, result):
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
            problems.append(f"no numeric {forge.display_name} account id (id)")
        login = entry.get("name")
        if login is not None and (not isinstance(login, str) or not LOGIN.fullmatch(login)):
            problems.append(f"name is not a valid {forge.display_name} login")
        when = signing_time(entry.get("created_at"), "created_at", problems, now)
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
                    platform=forge.name,
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
    latest(mapped, result)
    return result
