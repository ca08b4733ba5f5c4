"""The receipt a signer gets by mail after signing: the agreement, its version, the SHA-256 of
the signed text, when, the identities the signature covers, the fields given (named; of their
values only the signer's own name), links to ``/me`` and the privacy notice, and the signed text
attached as a file. Queued in the signature's own transaction, so it goes out if and only if
the signature is recorded."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.mail.outbox import ATTACHMENTS, queue_mail
from bot.services.signing import receipt
from bot.storage.agreements import agreement_row
from bot.storage.crypto import FieldCipher
from bot.storage.models import AgreementVersionRow, Company, Signature


async def queue_receipt(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    signature_id: int,
    login: str,
    platform_name: str,
    to: str,
    lang: str,
    fields: Mapping[str, str],
    text: str,
    public_url: str,
    privacy_url: str | None,
) -> None:
    """Queue the receipt of ``signature_id`` to ``to`` (an address proven to be the signer's)."""
    facts = await receipt(session, cipher, signature_id, login=login)
    if facts is None:
        raise LookupError(f"signature {signature_id} is not recorded")
    agreement = facts["agreement"]
    identities: Sequence[str] = [
        f"{platform_name} @{login}",
        *facts["verified_emails"],
    ]
    filename = f"{agreement['id']}-{agreement['version']}.md"
    await queue_mail(
        session,
        cipher,
        to=to,
        kind="receipt",
        lang=lang,
        values={
            "agreement": agreement["title"],
            "version": agreement["version"],
            "sha256": agreement["text_sha256"],
            "signed_at": facts["signed_at"],
            "signature_id": signature_id,
            "identities": list(identities),
            "fields": sorted(k for k, v in fields.items() if v),
            "name": fields.get("name", ""),
            "me_url": f"{public_url.rstrip('/')}/me",
            "privacy_url": privacy_url or "",
            "public_url": public_url,
            "filename": filename,
            ATTACHMENTS: [{"filename": filename, "content_type": "text/markdown", "text": text}],
        },
    )


async def verify(
    session: AsyncSession,
    *,
    signature_id: int,
    agreement_id: str,
    version: str,
    sha256: str,
    signed_at: str,
) -> bool:
    """Whether a receipt's identifiers match a recorded signature: the signature number, the
    agreement and version, the SHA-256 of the text and the signing time (to the second, as the
    receipt prints it). The answer is yes or no and names nobody, so a holder of a receipt can
    check it without learning anything about anyone; an erased signer's signature still
    matches (its tombstone keeps these facts)."""
    row = (
        await session.execute(
            select(Signature.signed_at, AgreementVersionRow)
            .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
            .where(Signature.id == signature_id)
        )
    ).first()
    if row is None:
        return False
    when, ver = row
    given = signed_at.strip().removesuffix("UTC").strip().replace(" ", "T")
    given = given.removesuffix("Z").removesuffix("+00:00")
    recorded = when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return (
        ver.agreement_id == agreement_id.strip()
        and ver.version == version.strip()
        and hmac.compare_digest(ver.text_sha256, sha256.strip().lower())
        and given[:19] == recorded
    )


async def queue_corporate_receipt(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    company: Company,
    login: str,
    platform_name: str,
    to: str,
    lang: str,
    fields: Mapping[str, str],
    managers: Sequence[str],
    domains: Sequence[str],
    text: str,
    public_url: str,
    privacy_url: str | None,
) -> None:
    """Queue the receipt of a corporate signature to its signatory: the company, agreement,
    version, the text's SHA-256, the time, the managers and domains named (pending an
    administrator's approval), the fields given by name, and the signed text attached."""
    row = await session.get(AgreementVersionRow, company.agreement_version_id)
    if row is None:
        raise LookupError(f"company {company.uid} names no agreement version")
    agreement = await agreement_row(session, row.agreement_id, community=row.community_id)
    filename = f"{row.agreement_id}-{row.version}.md"
    base = public_url.rstrip("/")
    await queue_mail(
        session,
        cipher,
        to=to,
        kind="receipt_corporate",
        lang=lang,
        values={
            "company": company.name,
            "agreement": agreement.title if agreement is not None else row.agreement_id,
            "version": row.version,
            "sha256": row.text_sha256,
            "signed_at": company.signed_at.isoformat() if company.signed_at else "",
            "signatory": f"{platform_name} @{login}",
            "managers": sorted({login.lower(), *managers}),
            "domains": list(dict.fromkeys(domains)),
            "fields": sorted(k for k, v in fields.items() if v),
            "name": fields.get("name", ""),
            "company_url": f"{base}/company/{company.uid}",
            "me_url": f"{base}/me",
            "privacy_url": privacy_url or "",
            "filename": filename,
            ATTACHMENTS: [{"filename": filename, "content_type": "text/markdown", "text": text}],
        },
    )
