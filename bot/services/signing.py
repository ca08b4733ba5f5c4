"""Signing on the web: record a signature for a signed-in account, then re-check every PR that
person blocked. Also what the signing page needs to know (signed already? re-sign needed?) and
the receipt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.coverage import counting_versions
from bot.core.model import Agreement, SignatureFact
from bot.services import audit
from bot.services.rechecks import enqueue_rechecks
from bot.storage.agreements import AGREEMENT_OF_VERSION
from bot.storage.crypto import FieldCipher
from bot.storage.models import (
    AgreementRow,
    AgreementVersionRow,
    EmailProvenBy,
    Signature,
    Signer,
)
from bot.storage.signatures import (
    NewSignature,
    add_signer_email,
    find_signer,
    record_signature,
    signer_emails,
)

CONTACT_FIELDS = ("name", "address", "phone", "fax")


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a signed-in person stands with an agreement."""

    signer_id: int | None
    signature: SignatureFact | None  # a signature that counts today
    resign: bool  # signed only versions that a re-sign version superseded
    restricted: bool


async def standing(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    platform: str,
    account_id: str,
    emails: Sequence[str],
    agreement: Agreement,
    community: str = DEFAULT_COMMUNITY,
) -> Standing:
    """Where this person stands with ``community``'s ``agreement``."""
    signer = await find_signer(
        session, cipher, platform=platform, account_id=account_id, emails=emails
    )
    if signer is None:
        return Standing(None, None, False, False)
    rows = (
        await session.execute(
            select(Signature, AgreementVersionRow)
            .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
            .where(
                Signature.signer_id == signer.id,
                AgreementVersionRow.community_id == community,
                AgreementVersionRow.agreement_id == agreement.agreement_id,
                Signature.revoked_at.is_(None),
                Signature.erased_at.is_(None),
            )
            .order_by(Signature.signed_at.desc())
        )
    ).all()
    counting = counting_versions(agreement)
    for sig, ver in rows:
        if ver.version in counting:
            fact = SignatureFact(
                signer_id=signer.id,
                agreement_id=agreement.agreement_id,
                version=ver.version,
                signed_at=sig.signed_at,
                restricted=signer.restricted_at is not None,
            )
            return Standing(signer.id, fact, False, signer.restricted_at is not None)
    return Standing(signer.id, None, bool(rows), signer.restricted_at is not None)


@dataclass(frozen=True, slots=True)
class Signed:
    signature_id: int
    signer_id: int
    rechecks: int


async def sign(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    platform: str,
    account_id: str,
    login: str,
    verified_emails: Sequence[str],
    agreement_id: str,
    version: str,
    fields: Mapping[str, str],
    community: str = DEFAULT_COMMUNITY,
    request_id: str = "",
    now: datetime | None = None,
) -> Signed:
    """Store the signature of ``community``'s agreement (every personal field encrypted), link
    the account and all its verified emails to one signer, and queue a re-check of every PR
    that person blocked in that community (another community's agreement is not theirs)."""
    contact_email = fields.get("email") or (verified_emails[0] if verified_emails else None)
    signer, sig = await record_signature(
        session,
        cipher,
        NewSignature(
            platform=platform,
            account_id=account_id,
            login=login,
            email=contact_email,
            name=fields.get("name") or None,
            address=fields.get("address") or None,
            phone=fields.get("phone") or None,
            fax=fields.get("fax") or None,
            agreement_id=agreement_id,
            version=version,
            signed_at=now or datetime.now(UTC),
            source="web",
            community=community,
        ),
    )
    sig.signed_platform = platform
    sig.signed_account_id = account_id
    # Every verified address recognises this person's commits, through the blind index.
    for email in verified_emails:
        await add_signer_email(session, cipher, signer, email, proven_by=EmailProvenBy.FORGE)
    await session.flush()
    await audit.record(
        session,
        action="sign",
        actor=f"{platform}:{account_id}",
        via="web",
        request_id=request_id,
        signer_id=signer.id,
        details={
            "community": community,
            "agreement": agreement_id,
            "version": version,
            "signature": sig.id,
        },
    )
    rechecks = await enqueue_rechecks(session, [signer.id], community=community)
    return Signed(sig.id, signer.id, rechecks)


async def receipt(
    session: AsyncSession, cipher: FieldCipher, signature_id: int, *, login: str | None
) -> dict[str, Any] | None:
    """What was recorded for one signature, decrypted for its owner."""
    row = (
        await session.execute(
            select(Signature, AgreementVersionRow, AgreementRow, Signer)
            .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
            .join(AgreementRow, AGREEMENT_OF_VERSION)
            .join(Signer, Signature.signer_id == Signer.id)
            .where(Signature.id == signature_id)
        )
    ).first()
    if row is None:
        return None
    sig, ver, agr, signer = row
    recorded: dict[str, str | None] = {}
    for column in CONTACT_FIELDS:
        recorded[column] = cipher.decrypt_optional(
            getattr(signer, f"{column}_ct"), table="signers", column=column, row=signer.uid
        )
    emails = await signer_emails(session, cipher, signer.id)
    recorded["email"] = emails[0] if emails else None
    return {
        "receipt_format": 1,
        "signature_id": sig.id,
        "agreement": {
            "community": agr.community_id,
            "id": agr.id,
            "title": agr.title,
            "version": ver.version,
            "text_sha256": ver.text_sha256,
        },
        "signed_at": sig.signed_at.isoformat(),
        "identity": {
            "platform": sig.signed_platform,
            "account_id": sig.signed_account_id,
            "login": login,
        },
        "recorded": recorded,
        "verified_emails": emails,
    }
