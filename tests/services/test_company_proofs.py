"""Companies prove their domains by a code, on the real database (SQLite, and PostgreSQL when
configured): the corporate form waits encrypted on the code row and nothing of the company is
written until the right code is given; the company address's own domain comes first, proven;
a manager's code proves a further domain for that company only; an unproven domain (listed
before, or imported) is still approved, shown unproven."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.identity import Contributor, Identity
from bot.core.model import Role
from bot.services import corporate, email_proofs, keys, retention, rights
from bot.services.corporate import employees, invitations, proofs
from bot.services.mail.outbox import MailRequest
from bot.storage.agreements import sync_agreements
from bot.storage.communities import add_community
from bot.storage.crypto import FieldCipher, generate_env_keys, load_keyring
from bot.storage.db import create_engine, session_factory
from bot.storage.models import (
    AgreementVersionRow,
    Company,
    CompanyEmployee,
    CompanyEntry,
    CompanyInvitation,
    EmailProof,
    EmailProvenBy,
    Job,
    JobKind,
    Signer,
)
from bot.storage.signatures import add_signer_email, link_account, signature_facts

Sessions = async_sessionmaker[AsyncSession]
MARIA = email_proofs.Person("github", "9", "maria")
OTTO = email_proofs.Person("github", "10", "otto")
ADMIN = {"actor": "operator", "via": "cli", "request_id": "test"}
FORM = proofs.PendingSignature(
    agreement_id="corporate",
    version="1.0",
    fields={
        "company": "Example Corp",
        "name": "Maria Signatoryname",
        "title": "General Counsel",
        "email": "maria@eng.example.com",
        "address": "1 Corporate Plaza",
    },
    managers=["co-manager"],
    lang="en",
)


@pytest.fixture
async def db(db_url: str, make_settings: Any) -> AsyncIterator[Sessions]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        await sync_agreements(s, make_settings(db_url).policy.agreements)
    yield sessions
    await engine.dispose()


async def last_code(db: Sessions, cipher: FieldCipher) -> tuple[str, dict[str, Any]]:
    """The latest queued mail's address and values, read as the mail worker reads them."""
    async with db() as s:
        job = (
            await s.scalars(select(Job).where(Job.kind == JobKind.MAIL).order_by(Job.id.desc()))
        ).first()
    assert job is not None
    r = MailRequest.from_json(job.payload)
    assert r.kind == "company_code"
    to = cipher.decrypt(r.to_ct, table="jobs", column="mail_to", row=r.row)
    return to, json.loads(
        cipher.decrypt(r.values_ct, table="jobs", column="mail_values", row=r.row)
    )


async def count(db: Sessions, model: Any) -> int:
    async with db() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def start(db: Sessions, cipher: FieldCipher, form: proofs.PendingSignature = FORM) -> str:
    async with db() as s, s.begin():
        return await proofs.start_signing(
            s, cipher, MARIA, form, company_name="Example Corp", public_url="https://cla.test"
        )


async def finish(
    db: Sessions, cipher: FieldCipher, uid: str, code: str, person: email_proofs.Person = MARIA
) -> proofs.Signed:
    async with db() as s, s.begin():
        return await proofs.finish_signing(s, cipher, person, uid, code, request_id="r")


async def test_the_company_is_recorded_only_with_the_right_code(
    db: Sessions, cipher: FieldCipher
) -> None:
    uid = await start(db, cipher)
    to, values = await last_code(db, cipher)
    assert to == "maria@eng.example.com" and values["company"] == "Example Corp"
    assert (values["why"], values["minutes"]) == ("sign", 10)
    assert await count(db, Company) == 0
    async with db() as s:
        [row] = (await s.scalars(select(EmailProof))).all()
    assert row.purpose == "company-sign" and row.payload_ct
    for canary in ("Signatoryname", "Plaza", "maria@", values["code"]):
        assert canary not in row.payload_ct + row.email_ct + row.code_hash

    with pytest.raises(email_proofs.ProofRefused) as wrong:
        await finish(db, cipher, uid, "x" + values["code"])
    assert wrong.value.attempts_left == 4 and await count(db, Company) == 0
    with pytest.raises(email_proofs.ProofRefused) as other:  # somebody else's code page
        await finish(db, cipher, uid, values["code"], OTTO)
    assert other.value.reason == "unknown"

    signed = await finish(db, cipher, uid, values["code"])
    assert signed.email == "maria@eng.example.com"
    assert signed.domain == "eng.example.com"
    async with db() as s:
        view = await corporate.show_company(s, signed.company.id)
        [row] = (await s.scalars(select(EmailProof))).all()
    assert view.status == "pending"
    assert [(d.domain, d.status, d.proven) for d in view.domains] == [
        ("eng.example.com", "pending", True),
    ]
    assert row.used_at is not None and row.payload_ct is None
    with pytest.raises(email_proofs.ProofRefused) as again:
        await finish(db, cipher, uid, values["code"])
    assert again.value.reason == "used" and await count(db, Company) == 1


@pytest.mark.parametrize(
    "address", ["maria@gmail.com", "maria@co.uk", "9+maria@users.noreply.github.com", "maria"]
)
async def test_an_address_no_company_can_own_gets_no_code(
    db: Sessions, cipher: FieldCipher, address: str
) -> None:
    form = dataclasses.replace(FORM, fields={**FORM.fields, "email": address})
    with pytest.raises(corporate.EntryError):
        await start(db, cipher, form)
    assert await count(db, EmailProof) == 0 and await count(db, Job) == 0


async def test_a_manager_proves_a_further_domain_for_that_company_only(
    db: Sessions, cipher: FieldCipher
) -> None:
    uid = await start(db, cipher)
    company = (await finish(db, cipher, uid, (await last_code(db, cipher))[1]["code"])).company
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
        other = (await s.scalars(select(Company))).one()
        with pytest.raises(corporate.EntryError, match="proven already"):
            await proofs.start_domain(
                s, cipher, MARIA, other, "x@eng.example.com", lang="en", public_url="u"
            )
        uid = await proofs.start_domain(
            s, cipher, MARIA, other, "it@labs.example.net", lang="zh", public_url="u"
        )
    to, values = await last_code(db, cipher)
    assert (to, values["why"]) == ("it@labs.example.net", "domain")
    async with db() as s, s.begin():
        stranger = Company(
            name="Other",
            agreement_version_id=other.agreement_version_id,
            signed_platform="github",
            signed_account_id="9",
            signed_at=other.signed_at,
        )
        s.add(stranger)
        await s.flush()
        with pytest.raises(email_proofs.ProofRefused):  # the code was for the first company
            await proofs.finish_domain(
                s, cipher, MARIA, stranger, uid, values["code"], request_id="r"
            )
    async with db() as s, s.begin():  # the refusal above used it up: a fresh one
        uid = await proofs.start_domain(
            s, cipher, MARIA, other, "it@labs.example.net", lang="en", public_url="u"
        )
    code = (await last_code(db, cipher))[1]["code"]
    async with db() as s, s.begin():
        assert (
            await proofs.finish_domain(s, cipher, MARIA, other, uid, code, request_id="r")
            == "labs.example.net"
        )
        view = await corporate.show_company(s, other.id)
    assert [(d.domain, d.status, d.proven) for d in view.domains] == [
        ("eng.example.com", "approved", True),
        ("labs.example.net", "pending", True),
    ]
    async with db() as s:
        listed = await corporate.list_companies(s, pending=True)
    # the proven domain waits for an administrator (the other company is pending itself)
    assert [c.id for c in listed] == [other.id, stranger.id]
    async with db() as s, s.begin():
        decision = await corporate.approve(s, cipher, other.id, **ADMIN)
    assert [d.status for d in decision.company.domains] == ["approved"] * 2
    async with db() as s:
        entries = (await s.scalars(select(CompanyEntry).order_by(CompanyEntry.id))).all()
    assert [e.proven_by for e in entries] == ["code", "code"]


async def test_rotating_keys_reaches_codes_and_invitations(
    db: Sessions, cipher: FieldCipher, keys_env: dict[str, str], tmp_path: Path
) -> None:
    """``rotate-keys`` re-encrypts a waiting corporate form and an invitation's address;
    ``--reindex`` drops the codes and cancels the pending invitations, whose hashes were made
    with the old index key (their addresses dropped)."""
    await start(db, cipher)
    uid = await start(db, cipher)
    code = (await last_code(db, cipher))[1]["code"]
    await finish(db, cipher, uid, code)
    async with db() as s, s.begin():
        company = (await s.scalars(select(Company))).one()
        await invitations.invite(
            s,
            cipher,
            company,
            "new@example.org",
            actor="github:9",
            lang="en",
            public_url="https://cla.test",
            request_id="r",
        )
    new = generate_env_keys(kid="k2")
    both = {
        **keys_env,
        "CLA_ENCRYPTION_KEYS": new["CLA_ENCRYPTION_KEYS"] + "," + keys_env["CLA_ENCRYPTION_KEYS"],
    }
    rotated = FieldCipher(load_keyring(both, var_dir=tmp_path / "v2")[0])
    async with db() as s, s.begin():
        result = await keys.reencrypt(s, rotated)
        used = await keys.keys_in_use(s, rotated)
    assert result.reencrypted >= 4 and set(used) == {"k2"}
    only_new = FieldCipher(
        load_keyring(
            {**keys_env, "CLA_ENCRYPTION_KEYS": new["CLA_ENCRYPTION_KEYS"]},
            var_dir=tmp_path / "v3",
        )[0]
    )
    async with db() as s:
        [waiting] = (await s.scalars(select(EmailProof).where(EmailProof.used_at.is_(None)))).all()
        assert waiting.payload_ct
        form = json.loads(
            only_new.decrypt(
                waiting.payload_ct, table="email_proofs", column="payload", row=waiting.uid
            )
        )
        assert form["fields"]["name"] == "Maria Signatoryname"
        assert [i.email for i in await invitations.pending(s, only_new, company)] == [
            "new@example.org"
        ]
    reindexed = FieldCipher(
        load_keyring(
            {
                "CLA_ENCRYPTION_KEYS": new["CLA_ENCRYPTION_KEYS"],
                "CLA_BLIND_INDEX_KEY": new["CLA_BLIND_INDEX_KEY"],
            },
            var_dir=tmp_path / "v4",
        )[0]
    )
    async with db() as s, s.begin():
        await keys.reindex(s, reindexed)
    assert await count(db, EmailProof) == 0
    async with db() as s:
        [row] = (await s.scalars(select(CompanyInvitation))).all()
    assert row.cancelled_at is not None and row.email_ct is None and row.email_bidx is None


async def test_an_employee_entry_is_exported_and_erased_with_its_person(
    db: Sessions, cipher: FieldCipher
) -> None:
    """With ``employees: confirm`` an employee proves a work address; their access export lists
    it with the codes they asked for, and their erasure removes it."""
    uid = await start(db, cipher)
    company = (await finish(db, cipher, uid, (await last_code(db, cipher))[1]["code"])).company
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
    async with db() as s, s.begin():
        with pytest.raises(corporate.EntryError, match="no approved corporate CLA lists"):
            await employees.start(
                s, cipher, OTTO, "otto@other.example.org", lang="en", public_url="u"
            )
        uid = await employees.start(
            s, cipher, OTTO, "Otto@Eng.Example.com", lang="en", public_url="u"
        )
    to, values = await last_code(db, cipher)
    assert (to, values["why"], values["company"]) == (
        "otto@eng.example.com",
        "employee",
        "Example Corp",
    )
    async with db() as s, s.begin():
        assert await employees.finish(s, cipher, OTTO, uid, values["code"], request_id="r") == 1
        [staff] = await employees.of_company(s, cipher, company)
        assert (staff.email, staff.enabled) == ("otto@eng.example.com", False)
        assert (
            await employees.enable(
                s, company, staff.uid, enabled=True, actor="github:9", request_id="r"
            )
            == 0
        )  # no PR waits on that address
        signer = Signer()
        s.add(signer)
        await s.flush()
        await link_account(s, signer, platform="github", account_id="10", login="otto")
        await add_signer_email(
            s, cipher, signer, "otto@eng.example.com", proven_by=EmailProvenBy.CODE
        )
    async with db() as s:
        data = await rights.export(s, cipher, signer)
    assert [(w["company"], w["email"]) for w in data["company_work_addresses"]] == [
        ("Example Corp", "otto@eng.example.com")
    ]
    assert data["company_work_addresses"][0]["enabled_at"] is not None
    assert [(c["purpose"], c["email"]) for c in data["codes_asked"]] == [
        ("company-staff", "otto@eng.example.com")
    ]
    assert values["code"] not in json.dumps(data)
    async with db() as s, s.begin():
        erased = await rights.erase(
            s,
            cipher,
            rights.Person("github", "10", "otto", ("otto@eng.example.com",)),
            actor=rights.Actor("github:10", "web", "r"),
        )
    assert await count(db, CompanyEmployee) == 0
    # and the person is told of it, as of every other row that goes
    assert (erased.summary.work_addresses, erased.summary.codes) == (1, 1)


async def test_an_invitation_nobody_accepted_in_time_drops_its_address_at_the_purge(
    db: Sessions, cipher: FieldCipher
) -> None:
    uid = await start(db, cipher)
    company = (await finish(db, cipher, uid, (await last_code(db, cipher))[1]["code"])).company
    async with db() as s, s.begin():
        await invitations.invite(
            s,
            cipher,
            company,
            "late@example.org",
            actor="github:9",
            lang="en",
            public_url="https://cla.test",
            request_id="r",
        )
    async with db() as s, s.begin():
        await retention.purge(s, pending_days=30, jobs_days=30)
        [row] = (await s.scalars(select(CompanyInvitation))).all()
        assert row.email_ct is not None  # still pending
        await retention.purge(
            s, pending_days=30, jobs_days=30, now=row.expires_at + timedelta(seconds=1)
        )
        await s.refresh(row)
    assert row.email_ct is None and row.email_bidx is None


async def test_an_enabled_employee_stops_counting_once_their_domain_is_rejected(
    db: Sessions, cipher: FieldCipher
) -> None:
    """An employee's entry stands on their company's approved domain: an administrator who
    rejects that domain takes the coverage with it, as for a domain that covers by itself."""
    uid = await start(db, cipher)
    company = (await finish(db, cipher, uid, (await last_code(db, cipher))[1]["code"])).company
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
        uid = await employees.start(
            s, cipher, OTTO, "otto@eng.example.com", lang="en", public_url="u"
        )
    code = (await last_code(db, cipher))[1]["code"]
    async with db() as s, s.begin():
        await employees.finish(s, cipher, OTTO, uid, code, request_id="r")
        [staff] = await employees.of_company(s, cipher, company)
        await employees.enable(
            s, company, staff.uid, enabled=True, actor="github:9", request_id="r"
        )
    otto = Contributor(
        Identity.of_email("otto@eng.example.com"),
        frozenset({Role.AUTHOR}),
        ("a" * 40,),
        ("otto@eng.example.com",),
    )

    async def listed() -> list[bool]:
        async with db() as s:
            facts = await signature_facts(s, cipher, [otto])
        return [f.by_domain for f in facts.get(otto.identity.key, []) if f.corporate]

    assert await listed() == [False]  # by the manager's enabling, not by the domain
    async with db() as s, s.begin():
        await corporate.reject(
            s, cipher, company.id, reason="not theirs", domain="eng.example.com", **ADMIN
        )
    assert await listed() == []


async def test_a_company_signs_the_corporate_agreement_of_the_form_s_community(
    db: Sessions, cipher: FieldCipher, make_settings: Any, db_url: str
) -> None:
    """Two communities each have a 'corporate' agreement: the code confirms the one of the
    community whose page the form was sent from."""
    async with db() as s, s.begin():
        await add_community(s, "mindspore", "MindSpore")
        await sync_agreements(s, make_settings(db_url).policy.agreements, community="mindspore")
    uid = await start(db, cipher, dataclasses.replace(FORM, community="mindspore"))
    _, values = await last_code(db, cipher)
    signed = await finish(db, cipher, uid, values["code"])
    async with db() as s:
        version = await s.get(AgreementVersionRow, signed.company.agreement_version_id)
    assert version is not None
    assert (version.community_id, version.agreement_id) == ("mindspore", "corporate")


def test_a_form_waiting_from_before_communities_is_the_default_community_s() -> None:
    payload = dataclasses.asdict(FORM)
    del payload["community"]
    assert proofs.PendingSignature.from_payload(payload).community == "default"
