"""The keys under which the bot finds a person again without storing who they are: an email
as its keyed blind index, a domain as a keyed hash, an account as ``platform:account_id``.
A PR's blockers (``pr_blockers``), a signer's emails and a company's entries are written and
looked up with these, so that they are derived in this one place.
"""

from __future__ import annotations

from bot.core.identity import Contributor, normalise_email
from bot.storage.crypto import FieldCipher
from bot.storage.models import CompanyEntry

EMAIL_PURPOSE = "email"


def email_bidx(cipher: FieldCipher, email: str) -> str:
    return cipher.blind_index(normalise_email(email), purpose=EMAIL_PURPOSE)


def email_identity_key(cipher: FieldCipher, email: str) -> str:
    """The stored form of an email identity: its blind index, never the address."""
    return f"email:{email_bidx(cipher, email)}"


def email_domain(email: str) -> str | None:
    _, at, domain = normalise_email(email).rpartition("@")
    return domain if at and domain else None


def contributor_keys(cipher: FieldCipher, contributor: Contributor) -> list[str]:
    """Every key under which a PR records this contributor, so that whatever later covers them
    (a signature by account or email, a company listing their account, email or domain) finds
    the PR again: the identity (``github:123``, the key a company's account entry holds too),
    then ``email:`` and ``domain:`` keys. Emails only ever appear as keyed blind indexes;
    domains as keyed hashes."""
    ident = contributor.identity
    keys = [
        email_identity_key(cipher, ident.email)
        if ident.platform is None and ident.email
        else ident.key
    ]
    for email in contributor.emails:
        keys.append(email_identity_key(cipher, email))
        domain = email_domain(email)
        if domain:
            keys.append(f"domain:{cipher.blind_index(domain, purpose='domain')}")
    return list(dict.fromkeys(keys))


def domain_key(cipher: FieldCipher, domain: str) -> str:
    return f"domain:{cipher.blind_index(domain.strip().lower(), purpose='domain')}"


def company_entry_key(cipher: FieldCipher, entry: CompanyEntry) -> str:
    """The ``pr_blockers`` key of the contributors a company entry covers."""
    if entry.kind == "domain":
        return domain_key(cipher, entry.value)
    if entry.kind == "email":
        return f"email:{entry.value}"  # the blind index, as email_identity_key writes it
    return entry.value  # platform:account_id, the contributor's identity key
