"""Signers, accounts, emails and signatures: the exact rows a signature writes (every personal
field encrypted), the signer found again by account or email, and the facts coverage reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.identity import Contributor, Identity
from bot.core.model import Role, SignatureFact
from bot.platforms.github.facts import GITHUB
from bot.storage.agreements import sync_agreements, version_row
from bot.storage.communities import add_community
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import (
    Company,
    CompanyEntry,
    CompanyStatus,
    EmailProvenBy,
    EntryStatus,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
)
from bot.storage.signatures import (
    NewSignature,
    account_by_login,
    add_signer_email,
    find_signer,
    link_account,
    record_signature,
    set_contact,
    signature_facts,
    signer_emails,
    signer_identity_keys,
)
from tests.storage.conftest import agreement, version

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

T = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
async def published(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        await sync_agreements(s, [agreement("icla", version("1.0"), version("2.0"))])


def new(
    *,
    account_id: str | None = None,
    login: str | None = None,
    email: str | None = None,
    name: str | None = None,
    ver: str = "1.0",
    at: datetime = T0,
) -> NewSignature:
    return NewSignature(
        platform="github" if account_id else None,
        account_id=account_id,
        login=login,
        email=email,
        name=name,
        agreement_id="icla",
        version=ver,
        signed_at=at,
        source="import",
        phone="+1 555" if name else None,
    )


async def count(s: AsyncSession, model: type[object]) -> int:
    return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def contributor(identity: Identity, *emails: str) -> Contributor:
    return Contributor(identity=identity, roles=frozenset({Role.AUTHOR}), shas=(), emails=emails)


@pytest.mark.usefixtures("published")
async def test_a_signature_writes_one_signer_its_account_email_and_signature_encrypted(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        signer, sig = await record_signature(
            s,
            cipher,
            new(account_id="42", login="mona", email="Mona@Example.org", name="Mona Lisa"),
        )
    async with sessions() as s:
        row = await s.get(Signer, signer.id)
        assert row is not None and row.name_ct is not None and "Mona" not in row.name_ct
        assert cipher.decrypt(row.name_ct, table="signers", column="name", row=row.uid) == (
            "Mona Lisa"
        )
        assert row.phone_ct is not None and (row.address_ct, row.fax_ct) == (None, None)
        accounts = (await s.scalars(select(SignerAccount))).all()
        assert [(a.signer_id, a.platform, a.account_id, a.login) for a in accounts] == [
            (signer.id, "github", "42", "mona")
        ]
        emails = (await s.scalars(select(SignerEmail))).all()
        assert [(e.signer_id, e.email_bidx, e.verified) for e in emails] == [
            (signer.id, email_bidx(cipher, "mona@example.org"), True)
        ]
        assert "mona" not in emails[0].email_ct.lower()
        v1 = await version_row(s, "icla", "1.0")
        assert v1 is not None
        signatures = (await s.scalars(select(Signature))).all()
        assert [(x.id, x.signer_id, x.agreement_version_id, x.source) for x in signatures] == [
            (sig.id, signer.id, v1.id, "import")
        ]
        assert await signer_emails(s, cipher, signer.id) == ["Mona@Example.org"]


@pytest.mark.usefixtures("published")
async def test_a_second_signature_by_the_same_email_finds_the_same_signer(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        first, _ = await record_signature(s, cipher, new(account_id="42", email="m@example.org"))
        second, _ = await record_signature(
            s, cipher, new(account_id="43", login="m2", email="M@EXAMPLE.org", ver="2.0")
        )
        assert second.id == first.id
        assert (await count(s, Signer), await count(s, SignerAccount)) == (1, 2)
        assert (await count(s, SignerEmail), await count(s, Signature)) == (1, 2)
        assert await signer_identity_keys(s, first.id) == [
            "github:42",
            "github:43",
            f"email:{email_bidx(cipher, 'm@example.org')}",
        ]


@pytest.mark.usefixtures("published")
async def test_an_import_says_how_and_when_its_email_was_proven(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    """By default an import's email is proven by the import, now; a signature can say it was
    proven by a code, when (another service sent that code)."""
    async with sessions() as s, s.begin():
        await record_signature(s, cipher, new(email="plain@example.org"))
        coded = dataclasses.replace(
            new(email="coded@example.org"), email_proven_by=EmailProvenBy.CODE, email_proven_at=T0
        )
        await record_signature(s, cipher, coded)
    async with sessions() as s:
        emails = (await s.scalars(select(SignerEmail).order_by(SignerEmail.id))).all()
    assert [e.proven_by for e in emails] == [EmailProvenBy.IMPORT, EmailProvenBy.CODE]
    assert emails[0].proven_at > T0 and emails[1].proven_at == T0


@pytest.mark.usefixtures("published")
async def test_an_unknown_version_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        with pytest.raises(ValueError, match=r"^unknown agreement version icla 9\.9$"):
            await record_signature(s, cipher, new(account_id="42", ver="9.9"))
        assert await count(s, Signer) == 0


@pytest.mark.usefixtures("published")
async def test_find_signer_by_account_then_by_email(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        signer, _ = await record_signature(s, cipher, new(account_id="42", email="a@example.org"))
    async with sessions() as s:
        by_account = await find_signer(s, cipher, platform="github", account_id="42")
        by_email = await find_signer(
            s, cipher, platform="github", account_id="99", emails=["x@example.org", "A@example.ORG"]
        )
        nobody = await find_signer(
            s, cipher, platform="gitee", account_id="42", emails=["x@example.org"]
        )
    assert by_account is not None and by_account.id == signer.id
    assert by_email is not None and by_email.id == signer.id
    assert nobody is None


@pytest.mark.usefixtures("published")
async def test_accounts_and_emails_are_added_once_and_never_taken_from_another_signer(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        one, _ = await record_signature(s, cipher, new(account_id="1", login="old"))
        two, _ = await record_signature(s, cipher, new(account_id="2"))
        await link_account(s, one, platform="github", account_id="1", login="new")
        await link_account(s, one, platform="github", account_id="1", login=None)
        with pytest.raises(ValueError, match="linked to another signer"):
            await link_account(s, two, platform="github", account_id="1", login="x")
        first = await add_signer_email(
            s, cipher, one, "a@example.org", proven_by=EmailProvenBy.CODE, now=T
        )
        again = await add_signer_email(
            s, cipher, one, "A@example.org", proven_by=EmailProvenBy.FORGE
        )
        assert again is first
        await s.flush()
        accounts = (await s.scalars(select(SignerAccount).order_by(SignerAccount.id))).all()
        assert [(a.signer_id, a.account_id, a.login) for a in accounts] == [
            (one.id, "1", "new"),
            (two.id, "2", None),
        ]
        emails = (await s.scalars(select(SignerEmail))).all()
        assert [(e.signer_id, e.proven_by, e.proven_at) for e in emails] == [
            (one.id, EmailProvenBy.CODE, T)
        ]


@pytest.mark.usefixtures("published")
async def test_set_contact_writes_what_is_given_and_clears_what_is_empty(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        signer, _ = await record_signature(s, cipher, new(account_id="1", name="Ann"))
        set_contact(cipher, signer, name="", address="1 Main St")
        assert signer.name_ct is None and signer.phone_ct is not None
        assert signer.address_ct is not None
        assert (
            cipher.decrypt(signer.address_ct, table="signers", column="address", row=signer.uid)
            == "1 Main St"
        )


@pytest.mark.usefixtures("published")
async def test_account_by_login_is_the_latest_linked_any_case(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        await record_signature(s, cipher, new(account_id="1", login="Reused"))
        await record_signature(s, cipher, new(account_id="2", login="reused"))
    async with sessions() as s:
        found = await account_by_login(s, platform="github", login="REUSED")
        assert found is not None and found.account_id == "2"
        assert await account_by_login(s, platform="gitee", login="reused") is None


@pytest.mark.usefixtures("published")
async def test_signature_facts_by_account_email_and_approved_company_only(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        mona, _ = await record_signature(s, cipher, new(account_id="42", login="mona"))
        jo, _ = await record_signature(s, cipher, new(email="jo@example.org", ver="2.0"))
        _, revoked = await record_signature(s, cipher, new(account_id="7"))
        revoked.revoked_at = T0
        restricted, _ = await record_signature(s, cipher, new(account_id="8"))
        restricted.restricted_at = T0
        v1 = await version_row(s, "icla", "1.0")
        assert v1 is not None
        for name, status in (("Acme", CompanyStatus.APPROVED), ("Pending", CompanyStatus.PENDING)):
            company = Company(
                name=name,
                agreement_version_id=v1.id,
                signed_platform="github",
                signed_account_id="1",
                signed_at=T0,
                status=status,
            )
            s.add(company)
            await s.flush()
            s.add(
                CompanyEntry(
                    company_id=company.id,
                    kind="domain",
                    value="corp.example",
                    created_by="test",
                    status=EntryStatus.APPROVED,
                )
            )
    mona_id = Identity(platform=GITHUB, account_id="42", login="mona")
    others = [
        Identity(platform=GITHUB, account_id=account_id, login=None)
        for account_id in ("7", "8", "99")
    ]
    async with sessions() as s:
        facts = await signature_facts(
            s,
            cipher,
            [
                contributor(mona_id),
                contributor(Identity.of_email("Jo@Example.org"), "Jo@Example.org"),
                contributor(Identity.of_email("dev@corp.example"), "dev@corp.example"),
                *(contributor(i) for i in others),
            ],
        )
    assert dict(facts) == {
        "github:42": [SignatureFact(mona.id, "icla", "1.0", T0)],
        "email:jo@example.org": [SignatureFact(jo.id, "icla", "2.0", T0)],
        "email:dev@corp.example": [
            SignatureFact(0, "icla", "1.0", T0, corporate=True, company="Acme", by_domain=True)
        ],
        "github:8": [SignatureFact(restricted.id, "icla", "1.0", T0, restricted=True)],
    }


@pytest.mark.usefixtures("published")
async def test_a_signature_counts_only_in_its_own_community(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        await add_community(s, "mindspore", "MindSpore")
        await sync_agreements(s, [agreement("icla", version("1.0"))], community="mindspore")
    async with sessions() as s, s.begin():
        mona, _ = await record_signature(
            s, cipher, dataclasses.replace(new(account_id="42"), community="mindspore")
        )
        jo, _ = await record_signature(s, cipher, new(account_id="43"))
        ms_v1 = await version_row(s, "icla", "1.0", community="mindspore")
        assert ms_v1 is not None
        company = Company(
            name="Acme",
            agreement_version_id=ms_v1.id,
            signed_platform="github",
            signed_account_id="1",
            signed_at=T0,
            status=CompanyStatus.APPROVED,
        )
        s.add(company)
        await s.flush()
        s.add(
            CompanyEntry(
                company_id=company.id,
                kind="domain",
                value="corp.example",
                created_by="test",
                status=EntryStatus.APPROVED,
            )
        )
        with pytest.raises(ValueError, match=r"unknown agreement version icla 2\.0"):
            await record_signature(
                s,
                cipher,
                dataclasses.replace(new(account_id="44", ver="2.0"), community="mindspore"),
            )
    people = [
        contributor(Identity(platform=GITHUB, account_id="42", login=None)),
        contributor(Identity(platform=GITHUB, account_id="43", login=None)),
        contributor(Identity.of_email("dev@corp.example"), "dev@corp.example"),
    ]
    async with sessions() as s:
        default = await signature_facts(s, cipher, people)
        mindspore = await signature_facts(s, cipher, people, community="mindspore")
    assert dict(default) == {"github:43": [SignatureFact(jo.id, "icla", "1.0", T0)]}
    assert dict(mindspore) == {
        "github:42": [SignatureFact(mona.id, "icla", "1.0", T0)],
        "email:dev@corp.example": [
            SignatureFact(0, "icla", "1.0", T0, corporate=True, company="Acme", by_domain=True)
        ],
    }
