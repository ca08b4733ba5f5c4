"""Signatures of an agreement (and version), paginated by signature id, and exported as JSON or
spreadsheet-safe CSV. Contact fields only when asked for (the caller checks the right to them),
and every such read is written to the audit trail here, one event per person read, in the
caller's transaction: a caller cannot read contact fields without the record of it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.services import audit
from bot.services.admin.common import (
    AGREEMENT_RE,
    MAX_DB_INT,
    MAX_PAGE,
    VERSION_RE,
    Invalid,
    NotFound,
    iso,
)
from bot.storage.agreements import AGREEMENT_OF_VERSION, agreement_row, version_row
from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.models import (
    AgreementRow,
    AgreementVersionRow,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
)

CONTACT_COLUMNS = ("name", "address", "phone", "fax")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: int | None
    signer_ids: frozenset[int] = field(default_factory=frozenset)  # whose contact was read


async def _check_filter(
    session: AsyncSession, agreement_id: str | None, version: str | None
) -> None:
    if version is not None and agreement_id is None:
        raise Invalid("a version needs its agreement")
    if agreement_id is not None:
        if (
            not AGREEMENT_RE.fullmatch(agreement_id)
            or await agreement_row(session, agreement_id) is None
        ):
            raise NotFound("unknown agreement")
        if version is not None and (
            not VERSION_RE.fullmatch(version)
            or await version_row(session, agreement_id, version) is None
        ):
            raise NotFound("unknown agreement version")


@dataclass(frozen=True, slots=True)
class ContactReader:
    """Who reads contact fields, through what and why: what the audit trail records for every
    person whose contact fields are read. Contact fields are read only on behalf of one."""

    actor: str
    via: str
    request_id: str
    details: Mapping[str, Any] = field(default_factory=dict)


async def list_signatures(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    agreement_id: str | None = None,
    version: str | None = None,
    limit: int = 100,
    cursor: int = 0,
    contact: ContactReader | None = None,
) -> Page:
    """Valid signatures (not revoked, not erased) in id order, after ``cursor``. Contact fields
    only when read on behalf of ``contact`` — and never of a person who restricted processing;
    each person read is written to the audit trail (:func:`audit_contact_read`)."""
    page = await _page(
        session,
        cipher,
        agreement_id=agreement_id,
        version=version,
        limit=limit,
        cursor=cursor,
        include_contact=contact is not None,
    )
    if contact is not None:
        await _audit(session, page.signer_ids, contact)
    return page


async def _page(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    agreement_id: str | None,
    version: str | None,
    limit: int,
    cursor: int,
    include_contact: bool,
) -> Page:
    """One page of :func:`list_signatures`, its contact reads not yet recorded."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    if not 0 <= cursor <= MAX_DB_INT:
        raise Invalid("not a valid cursor")
    await _check_filter(session, agreement_id, version)
    q = (
        select(Signature, AgreementVersionRow, AgreementRow, Signer)
        .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
        .join(AgreementRow, AGREEMENT_OF_VERSION)
        .join(Signer, Signature.signer_id == Signer.id)
        .where(
            Signature.id > cursor,
            AgreementVersionRow.community_id == DEFAULT_COMMUNITY,
            Signature.revoked_at.is_(None),
            Signature.erased_at.is_(None),
        )
        .order_by(Signature.id)
        .limit(limit + 1)
    )
    if agreement_id is not None:
        q = q.where(AgreementVersionRow.agreement_id == agreement_id)
    if version is not None:
        q = q.where(AgreementVersionRow.version == version)
    rows = (await session.execute(q)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    signer_ids = {signer.id for _, _, _, signer in rows}
    accounts: dict[int, list[SignerAccount]] = defaultdict(list)
    if signer_ids:
        for acc in (
            await session.scalars(
                select(SignerAccount)
                .where(SignerAccount.signer_id.in_(signer_ids))
                .order_by(SignerAccount.id)
            )
        ).all():
            accounts[acc.signer_id].append(acc)
    emails: dict[int, list[str]] = defaultdict(list)
    read: set[int] = set()
    if include_contact:
        readable = {signer.id for *_, signer in rows if signer.restricted_at is None}
        if readable:
            for em in (
                await session.scalars(
                    select(SignerEmail)
                    .where(SignerEmail.signer_id.in_(readable))
                    .order_by(SignerEmail.id)
                )
            ).all():
                plain = _decrypt(cipher, em.email_ct, "signer_emails", "email", em.uid)
                if plain is not None:
                    emails[em.signer_id].append(plain)
        read = readable
    items = []
    for sig, ver, agr, signer in rows:
        item: dict[str, Any] = {
            "id": sig.id,
            "agreement": ver.agreement_id,
            "version": ver.version,
            "kind": agr.kind,
            "signed_at": iso(sig.signed_at),
            "source": sig.source,
            "signer": signer.id,
            "signed_by": (
                f"{sig.signed_platform}:{sig.signed_account_id}"
                if sig.signed_platform and sig.signed_account_id
                else None
            ),
            "accounts": [
                {"platform": a.platform, "account_id": a.account_id, "login": a.login}
                for a in accounts.get(signer.id, [])
            ],
            "restricted": signer.restricted_at is not None,
        }
        if include_contact:
            if signer.id in read:
                contact: dict[str, Any] | None = {
                    column: _decrypt(
                        cipher, getattr(signer, f"{column}_ct"), "signers", column, signer.uid
                    )
                    for column in CONTACT_COLUMNS
                }
                assert contact is not None
                contact["emails"] = emails.get(signer.id, [])
            else:
                contact = None
            item["contact"] = contact
        items.append(item)
    next_cursor = rows[-1][0].id if more and rows else None
    return Page(items, next_cursor, frozenset(read))


def _decrypt(
    cipher: FieldCipher, token: str | None, table: str, column: str, row: str
) -> str | None:
    if token is None:
        return None
    try:
        return cipher.decrypt(token, table=table, column=column, row=row)
    except DecryptError:
        return None


async def audit_contact_read(
    session: AsyncSession,
    signer_ids: Iterable[int],
    *,
    actor: str,
    via: str,
    request_id: str,
    details: Mapping[str, Any],
) -> None:
    """One ``read-contact`` event per person whose contact fields were read."""
    for signer_id in sorted(set(signer_ids)):
        await audit.record(
            session,
            action="read-contact",
            actor=actor,
            via=via,
            request_id=request_id,
            signer_id=signer_id,
            details=dict(details),
        )


async def _audit(session: AsyncSession, signer_ids: Iterable[int], reader: ContactReader) -> None:
    await audit_contact_read(
        session,
        signer_ids,
        actor=reader.actor,
        via=reader.via,
        request_id=reader.request_id,
        details=reader.details,
    )


async def all_signatures(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    agreement_id: str | None,
    version: str | None,
    contact: ContactReader | None,
) -> Page:
    """Every page at once (exports); a person whose contact fields were read is written to the
    audit trail once, however many of their signatures the export holds."""
    items: list[dict[str, Any]] = []
    read: set[int] = set()
    cursor = 0
    while True:
        page = await _page(
            session,
            cipher,
            agreement_id=agreement_id,
            version=version,
            limit=MAX_PAGE,
            cursor=cursor,
            include_contact=contact is not None,
        )
        items.extend(page.items)
        read.update(page.signer_ids)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    if contact is not None:
        await _audit(session, read, contact)
    return Page(items, None, frozenset(read))


# --- CSV ------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "signature_id",
    "agreement",
    "version",
    "kind",
    "signed_at",
    "source",
    "signed_by",
    "accounts",
    "logins",
    "restricted",
)
CSV_CONTACT_COLUMNS = ("name", "email", "other_emails", "address", "phone", "fax")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(items: Sequence[Mapping[str, Any]], *, include_contact: bool) -> str:
    """UTF-8 text with a BOM and CRLF line ends, every cell formula-safe."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    header = CSV_COLUMNS + (CSV_CONTACT_COLUMNS if include_contact else ())
    writer.writerow(header)
    for item in items:
        accounts = item.get("accounts") or []
        row: list[str] = [
            str(item["id"]),
            item["agreement"],
            item["version"],
            item["kind"],
            item["signed_at"] or "",
            item["source"],
            item.get("signed_by") or "",
            ";".join(f"{a['platform']}:{a['account_id']}" for a in accounts),
            ";".join(a["login"] or "" for a in accounts),
            "yes" if item.get("restricted") else "no",
        ]
        if include_contact:
            contact = item.get("contact") or {}
            mails = list(contact.get("emails") or [])
            row += [
                contact.get("name") or "",
                mails[0] if mails else "",
                ";".join(mails[1:]),
                contact.get("address") or "",
                contact.get("phone") or "",
                contact.get("fax") or "",
            ]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buf.getvalue()
