"""app-cla-server (opensourceways/app-cla-server, the CLA service of Gitee communities): the
``mongoexport --jsonArray`` dumps of its two signing collections, read from one folder.

The field names are those its ``signing/infrastructure/repositoryimpl/*_do.go`` store (a
document is its DO's JSON form):

- ``individual_signing.json``: ``link_id``, ``cla_id``, ``lang``, ``date`` (``YYYY-MM-DD``),
  ``name``, ``email``, ``domain``, ``info`` (other form fields), ``deleted`` and ``deleted_at``
  — a signing is soft-deleted there (``deleted: true``) once a company signs for its domain;
- ``corp_signing.json``: ``link_id``, ``cla_id``, ``lang``, ``date``, ``rep`` (the signatory's
  ``name`` and ``email``), ``corp`` (``name``, the primary ``domain`` and every proven
  ``domains``), ``info``, ``pdf`` and ``has_pdf`` (the signed paper the community uploads to
  confirm the company), ``admin`` and ``managers`` (accounts of app-cla-server itself),
  ``employees`` (each employee's signing: ``id``, ``cla_id``, ``lang``, ``date``, ``name``,
  ``email``, ``enabled`` — a manager enables it — and ``logs``) and ``deleted`` (the employee
  signings removed).

There, a contributor passes when their email holds an individual signing that is not deleted,
or an employee signing that is enabled; every email was proven by a code sent to it before it
could sign. So here:

- an individual signing becomes an individual signature by that email (proven by code, at the
  signing date) — no forge account: the commit email matches it;
- a corporate signing becomes a company of the corporate agreement, approved when the community
  had confirmed it (``has_pdf``), else pending an administrator's decision; the emails of its
  enabled employees are its list's emails (they count at once, as there), and its domains are
  listed too — pending by default, since a domain there covered nobody by itself
  (:mod:`~bot.services.importers.companies` writes them);
- soft-deleted signings, disabled and removed employees, and signings of links not named with
  ``--link`` are kept out, counted. So are the signatory's and the managers' details, the PDF
  and the other form fields, which this bot does not keep.

Each row is checked before anything is written and reported by its position (``corp_signing.json
entry 2 employee 3``), never by its values.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.identity import EMAIL, is_noreply_domain, normalise_email
from bot.platforms.registry import FACTS
from bot.services import company_domains
from bot.services.importers.common import (
    ForeignImport,
    ImportedCompany,
    Problem,
    json_lines,
    latest,
    signing_time,
)
from bot.services.importers.links import LINK_ID, LinkMap, Target
from bot.storage.models import EmailProvenBy
from bot.storage.signatures import NewSignature

INDIVIDUAL_FILE = "individual_signing.json"
CORPORATE_FILE = "corp_signing.json"
FILES = (INDIVIDUAL_FILE, CORPORATE_FILE)
# app-cla-server's languages (``lang``, as its configuration names them) → this bot's.
LANGUAGES = {"english": "en", "chinese": "zh"}
LANGUAGE_NAMES = {code: name.title() for name, code in LANGUAGES.items()}
MAX_COMPANY_NAME = 200
SHOWN_LINKS = 10  # other links' ids listed, to find the one to name

OTHER_LINK = "signings of links not named with --link, not imported"
FORM_FIELDS = "signing form fields besides name and email (info), not kept"


def _records(name: str, text: str) -> tuple[list[tuple[str, Any]], str | None]:
    """(position, document) pairs of one dump: a JSON array (``--jsonArray``) or JSON lines."""
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        return [], None
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if stripped[0] == "[":
            return [], (
                f"{name} is not JSON (line {exc.lineno}, column {exc.colno}): expected a "
                "mongoexport --jsonArray dump"
            )
        records, fatal = json_lines(stripped)
        if fatal:
            return [], f"{name}: {fatal}"
        return [(f"{name} {where}", doc) for where, doc in records], None
    if isinstance(data, Mapping):
        return [(f"{name} entry 1", data)], None
    if not isinstance(data, list):
        return [], f"{name}: expected a JSON array of documents (mongoexport --jsonArray)"
    return [(f"{name} entry {i}", doc) for i, doc in enumerate(data, start=1)], None


def _text(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


class _Reader:
    """One pass over both dumps, gathering rows, companies, problems and counts."""

    def __init__(self, links: Mapping[str, LinkMap]) -> None:
        self.links = links
        self.result = ForeignImport()
        self.now = datetime.now(UTC)
        self.people: list[tuple[str, NewSignature]] = []
        self.companies: dict[tuple[str, str, str], ImportedCompany] = {}
        self.read: Counter[tuple[str, str]] = Counter()  # (link, kind) → signings read
        self.cla_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.other_links: Counter[str] = Counter()

    def _start(self, where: str, doc: Any, kind: str) -> tuple[Mapping[str, Any], LinkMap] | None:
        """The document and its link, when it is one to map: an object of a link named, not
        deleted there (those are counted)."""
        self.result.total += 1
        if not isinstance(doc, Mapping):
            self.result.problems.append(Problem(where, "not an object"))
            return None
        link_id = _text(doc.get("link_id")) or ""
        link = self.links.get(link_id)
        if link is None:
            self.result.notes[OTHER_LINK] += 1
            self.other_links[link_id] += 1
            return None
        self.read[(link_id, kind)] += 1
        if doc.get("deleted") is True:
            self.result.notes[f"{kind} signings deleted there (deleted), not imported"] += 1
            return None
        return doc, link

    def _common(
        self, doc: Mapping[str, Any], link_id: str, kind: str, target: Target | str
    ) -> tuple[list[str], datetime | None]:
        """The checks every signing shares: agreement, CLA id, language, date."""
        problems = [f"no agreement to map it to: {target}"] if isinstance(target, str) else []
        cla_id = _text(doc.get("cla_id"))
        if cla_id is None:
            problems.append("cla_id is missing")
        else:
            self.cla_ids[(link_id, kind)].add(cla_id)
        lang = _text(doc.get("lang"))
        code = LANGUAGES.get(lang.lower()) if lang else None
        if code is None:
            problems.append("lang is neither English nor Chinese")
        elif isinstance(target, Target) and code not in target.languages:
            problems.append(
                f"signed in {LANGUAGE_NAMES[code]}, and {target} has no {code} translation in "
                "app.yaml"
            )
        when = signing_time(doc.get("date"), "date", problems, self.now)
        if isinstance(doc.get("info"), Mapping) and doc["info"]:
            self.result.notes[FORM_FIELDS] += 1
        return problems, when

    def individual(self, where: str, raw: Any) -> None:
        started = self._start(where, raw, "individual")
        if started is None:
            return
        doc, link = started
        problems, when = self._common(doc, link.link_id, "individual", link.individual)
        email = _text(doc.get("email"))
        if email is None or not EMAIL.fullmatch(email):
            problems.append("email is missing or not an address")
        name = doc.get("name")
        if name is not None and not isinstance(name, str):
            problems.append("name is not text")
        if problems:
            self.result.problems.append(Problem(where, "; ".join(problems)))
            return
        assert email is not None and when is not None and isinstance(link.individual, Target)
        row = NewSignature(
            platform=None,
            account_id=None,
            login=None,
            email=email,
            name=_text(name),
            agreement_id=link.individual.agreement_id,
            version=link.individual.version,
            signed_at=when,
            source="import",
            email_proven_by=EmailProvenBy.CODE,  # app-cla-server sent it a code to sign
            email_proven_at=when,
        )
        self.people.append((f"email:{normalise_email(email)}", row))

    def corporate(self, where: str, raw: Any) -> None:
        started = self._start(where, raw, "corporate")
        if started is None:
            return
        doc, link = started
        problems, when = self._common(doc, link.link_id, "corporate", link.corporate)
        corp = doc.get("corp")
        corp = corp if isinstance(corp, Mapping) else {}
        name = _text(corp.get("name"))
        if name is None:
            problems.append("corp.name is missing")
        elif len(name) > MAX_COMPANY_NAME:
            problems.append(f"corp.name is longer than {MAX_COMPANY_NAME} characters")
        domains = self._domains(corp, problems)
        employees = doc.get("employees") or []
        if not isinstance(employees, list):
            problems.append("employees is not a list")
            employees = []
        if problems:
            self.result.problems.append(Problem(where, "; ".join(problems)))
            return
        assert name is not None and when is not None and isinstance(link.corporate, Target)
        emails = self._employees(where, employees)
        self._not_kept(doc)
        confirmed = doc.get("has_pdf") is True
        if not confirmed:
            self.result.notes[
                "corporate signings whose signed PDF was never uploaded there, imported "
                "pending an administrator's decision"
            ] += 1
        company = ImportedCompany(
            name=name,
            agreement_id=link.corporate.agreement_id,
            version=link.corporate.version,
            signed_at=when,
            confirmed=confirmed,
            domains=domains,
            emails=emails,
        )
        key = (name.casefold(), company.agreement_id, company.version)
        seen = self.companies.get(key)
        if seen is not None:
            self.result.notes[
                "corporate signings of a company already read (same name and agreement), merged"
            ] += 1
            company = ImportedCompany(
                name=seen.name,
                agreement_id=seen.agreement_id,
                version=seen.version,
                signed_at=min(seen.signed_at, when),
                confirmed=seen.confirmed or confirmed,
                domains=tuple(dict.fromkeys(seen.domains + domains)),
                emails=tuple(dict.fromkeys(seen.emails + emails)),
            )
        self.companies[key] = company

    def _domains(self, corp: Mapping[str, Any], problems: list[str]) -> tuple[str, ...]:
        listed = corp.get("domains") or []
        if not isinstance(listed, list):
            problems.append("corp.domains is not a list")
            return ()
        raw = [corp.get("domain"), *listed] if corp.get("domain") else listed
        if not all(isinstance(d, str) for d in raw):
            problems.append("corp.domains holds something that is not a domain")
            return ()
        kept = []
        for domain in dict.fromkeys(company_domains.normalise(d) for d in raw):
            if company_domains.problem(domain) is None:
                kept.append(domain)
            else:
                self.result.notes[
                    "company email domains this bot's rules refuse (free mail, a public "
                    "suffix, …), not listed"
                ] += 1
        return tuple(kept)

    def _employees(self, where: str, employees: list[Any]) -> tuple[str, ...]:
        emails: list[str] = []
        for j, emp in enumerate(employees, start=1):
            at = f"{where} employee {j}"
            if not isinstance(emp, Mapping):
                self.result.problems.append(Problem(at, "not an object"))
                continue
            if emp.get("enabled") is not True:
                self.result.notes[
                    "employee signings disabled there (enabled: false), not imported"
                ] += 1
                continue
            email = _text(emp.get("email"))
            if email is None or not EMAIL.fullmatch(email):
                self.result.problems.append(Problem(at, "email is missing or not an address"))
                continue
            if is_noreply_domain(email.rpartition("@")[2].lower(), FACTS):
                self.result.problems.append(
                    Problem(at, "a forge's noreply address stands for an account, not an email")
                )
                continue
            emails.append(normalise_email(email))
            self.result.notes[
                "employee signings kept as their email on the company's list (their name, "
                "date, CLA and logs not kept)"
            ] += 1
        return tuple(dict.fromkeys(emails))

    def _not_kept(self, doc: Mapping[str, Any]) -> None:
        notes = self.result.notes
        removed = doc.get("deleted")
        if isinstance(removed, list) and removed:
            notes["employee signings removed there (deleted), not imported"] += len(removed)
        if isinstance(doc.get("rep"), Mapping):
            notes["corporate signatories' names and emails (rep), not kept"] += 1
        if doc.get("has_pdf") is True or doc.get("pdf"):
            notes["signed PDFs of corporate signings (pdf), not kept"] += 1
        admin = doc.get("admin")
        if isinstance(admin, Mapping) and _text(admin.get("id")):
            notes["company administrators, accounts of app-cla-server (admin), not kept"] += 1
        managers = doc.get("managers")
        if isinstance(managers, list) and managers:
            notes["employee managers, accounts of app-cla-server (managers), not kept"] += len(
                managers
            )

    def finish(self) -> ForeignImport:
        result = self.result
        latest(self.people, result)
        result.companies.extend(self.companies.values())
        for link_id, link in self.links.items():
            parts = []
            for kind in ("individual", "corporate"):
                n = self.read[(link_id, kind)]
                if n:
                    ids = ", ".join(sorted(self.cla_ids[(link_id, kind)]))
                    target = link.target(kind)
                    into = str(target) if isinstance(target, Target) else "nowhere"
                    parts.append(f"{n} {kind} signing(s) of CLA id(s) {ids or '-'} → {into}")
            result.facts.append(f"link {link_id}: " + ("; ".join(parts) or "no signings"))
        if self.other_links:
            named = sorted(self.other_links.items(), key=lambda item: (-item[1], item[0]))
            shown = ", ".join(
                f"{link_id if LINK_ID.fullmatch(link_id) else '(not an id)'} ({n})"
                for link_id, n in named[:SHOWN_LINKS]
            )
            more = f", and {len(named) - SHOWN_LINKS} more" if len(named) > SHOWN_LINKS else ""
            result.facts.append(f"links not named with --link (signings): {shown}{more}")
        return result


def parse_app_cla_server(
    files: Mapping[str, str | None], links: Mapping[str, LinkMap]
) -> ForeignImport:
    """Read the dumps (file name → text, ``None`` when the folder has no such file) for the
    links named (:func:`~bot.services.importers.links.parse_links`)."""
    if all(files.get(name) is None for name in FILES):
        result = ForeignImport()
        result.fatal = (
            f"the folder holds neither {INDIVIDUAL_FILE} nor {CORPORATE_FILE} (mongoexport "
            "--jsonArray dumps of app-cla-server's individual_signing and corp_signing)"
        )
        return result
    reader = _Reader(links)
    for name, read in ((INDIVIDUAL_FILE, reader.individual), (CORPORATE_FILE, reader.corporate)):
        text = files.get(name)
        if text is None:
            reader.result.facts.append(f"no {name} in the folder: none of those signings read")
            continue
        records, fatal = _records(name, text)
        if fatal:
            reader.result.fatal = fatal
            return reader.result
        for where, doc in records:
            read(where, doc)
    return reader.finish()
