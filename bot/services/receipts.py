"""The receipt a signer gets by mail after signing: the agreement, its version, the SHA-256 of
the signed text, when, the identities the signature covers, the fields given (named; of their
values only the signer's own name), links to ``/me`` and the privacy notice, and the signed text
attached as a file. Queued in the signature's own transaction, so it goes out if and only if
the signature is recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.mail.outbox import ATTACHMENTS, queue_mail
from bot.services.signing import receipt
from bot.storage.crypto import FieldCipher


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
