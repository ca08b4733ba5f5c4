"""The stored keys of a person: emails and domains only as keyed hashes, in a fixed order."""

from __future__ import annotations

import pytest

from bot.core.identity import Contributor, Identity
from bot.core.model import Role
from bot.platforms.github.facts import GITHUB
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import (
    EMAIL_PURPOSE,
    company_entry_key,
    contributor_keys,
    domain_key,
    email_bidx,
    email_domain,
    email_identity_key,
)
from bot.storage.models import CompanyEntry


def contributor(identity: Identity, *emails: str) -> Contributor:
    return Contributor(identity=identity, roles=frozenset({Role.AUTHOR}), shas=(), emails=emails)


def test_an_email_is_indexed_in_its_normalised_form(cipher: FieldCipher) -> None:
    expected = cipher.blind_index("jo@example.org", purpose=EMAIL_PURPOSE)
    assert email_bidx(cipher, "  Jo@Example.ORG ") == expected
    assert email_identity_key(cipher, "jo@example.org") == f"email:{expected}"


@pytest.mark.parametrize(
    ("email", "domain"),
    [("jo@Example.ORG", "example.org"), ("no-at-sign", None), ("trailing@", None)],
)
def test_email_domain(email: str, domain: str | None) -> None:
    assert email_domain(email) == domain


def test_contributor_keys_are_identity_then_each_email_and_domain_once(
    cipher: FieldCipher,
) -> None:
    account = Identity(platform=GITHUB, account_id="42", login="mona")
    keys = contributor_keys(
        cipher, contributor(account, "mona@example.org", "MONA@example.org", "m@corp.example")
    )
    assert keys == [
        "github:42",
        email_identity_key(cipher, "mona@example.org"),
        f"domain:{cipher.blind_index('example.org', purpose='domain')}",
        email_identity_key(cipher, "m@corp.example"),
        f"domain:{cipher.blind_index('corp.example', purpose='domain')}",
    ]
    bare = contributor(Identity.of_email("Ghost@Example.org"), "Ghost@Example.org")
    assert contributor_keys(cipher, bare) == [
        email_identity_key(cipher, "ghost@example.org"),
        domain_key(cipher, "example.org"),
    ]


def test_a_company_entry_keys_the_contributors_it_covers(cipher: FieldCipher) -> None:
    def entry(kind: str, value: str) -> CompanyEntry:
        return CompanyEntry(company_id=1, kind=kind, value=value, created_by="test")

    assert domain_key(cipher, " Corp.Example ") == domain_key(cipher, "corp.example")
    assert company_entry_key(cipher, entry("domain", "corp.example")) == domain_key(
        cipher, "corp.example"
    )
    assert company_entry_key(cipher, entry("email", "abc123")) == "email:abc123"
    assert company_entry_key(cipher, entry("login", "github:42")) == "github:42"
