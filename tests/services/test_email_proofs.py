"""Proving an address by a code, on the real database: the code goes out by queued mail, only
hashes are kept, the right code records the address (proven by code) and re-checks what it
blocked; a code works once, for its person only, 10 minutes, 5 tries; sending is limited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import email_proofs as proofs
from bot.services import retention, rights
from bot.services.mail.outbox import MailRequest
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import (
    EmailProof,
    EmailProvenBy,
    Job,
    JobKind,
    PrCheck,
    SignerAccount,
    SignerEmail,
)
from bot.storage.pr_checks import replace_contributors

AMY = proofs.Person("github", "11", "amy")
ACTOR = rights.Actor("github:11", "web", "req-1")
BEA = proofs.Person("github", "12", "bea")
WORK = "amy@work.example"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


async def send(
    sessions: Sessions, cipher: FieldCipher, person: proofs.Person = AMY, **kw: object
) -> str:
    email = str(kw.pop("email", WORK))
    now = kw.pop("now", T0)
    assert isinstance(now, datetime)
    async with sessions() as s, s.begin():
        return await proofs.send_code(
            s, cipher, person, email, lang="en", public_url="https://cla.example.org", now=now
        )


async def mailed_codes(sessions: Sessions, cipher: FieldCipher) -> list[tuple[str, str]]:
    """(address, code) of each queued code, read as the mail worker reads them."""
    async with sessions() as s:
        jobs = (await s.scalars(select(Job).where(Job.kind == JobKind.MAIL).order_by(Job.id))).all()
    out = []
    for job in jobs:
        r = MailRequest.from_json(job.payload)
        to = cipher.decrypt(r.to_ct, table="jobs", column="mail_to", row=r.row)
        values = json.loads(
            cipher.decrypt(r.values_ct, table="jobs", column="mail_values", row=r.row)
        )
        assert (r.kind, values["minutes"]) == ("code", 10)
        out.append((to, values["code"]))
    return out


async def confirm(
    sessions: Sessions, cipher: FieldCipher, uid: str, code: str, **kw: object
) -> proofs.Proven:
    person = kw.pop("person", AMY)
    now = kw.pop("now", T0 + timedelta(minutes=1))
    assert isinstance(person, proofs.Person) and isinstance(now, datetime)
    async with sessions() as s, s.begin():
        try:
            return await proofs.confirm(s, cipher, person, uid, code, now=now)
        except proofs.ProofRefused as exc:
            refused = exc
    raise refused  # raised after the commit, as the web handler does


async def blocked_pr(sessions: Sessions, cipher: FieldCipher, email: str) -> None:
    async with sessions() as s, s.begin():
        check = PrCheck(
            platform="github",
            repo_full_name="acme/widgets",
            repo_id=77,
            installation_id=5,
            number=3,
            head_sha="a" * 40,
        )
        s.add(check)
        await s.flush()
        await replace_contributors(s, check, {f"email:{email_bidx(cipher, email)}": True})


async def test_the_right_code_proves_the_address_and_rechecks_what_it_blocked(
    sessions: Sessions, cipher: FieldCipher
) -> None:
    await blocked_pr(sessions, cipher, WORK)
    uid = await send(sessions, cipher, email=" Amy@Work.example ")
    [(to, code)] = await mailed_codes(sessions, cipher)
    assert to == WORK and len(code) == 6 and code.isdigit()
    async with sessions() as s:
        proof = (await s.scalars(select(EmailProof))).one()
    stored = " ".join(str(getattr(proof, c.name)) for c in EmailProof.__table__.columns)
    assert WORK not in stored and "amy" not in stored and code not in stored
    assert proof.account_hash == cipher.account_hash("github", "11")

    proven = await confirm(sessions, cipher, uid, f" {code[:3]} {code[3:]} ")
    assert proven == proofs.Proven(WORK, 1)
    async with sessions() as s:
        [row] = (await s.scalars(select(SignerEmail))).all()
        [account] = (await s.scalars(select(SignerAccount))).all()
        checks = (await s.scalars(select(Job).where(Job.kind == JobKind.CHECK))).all()
        listed = await proofs.addresses(s, cipher, row.signer_id)
    assert (account.signer_id, account.account_id, account.login) == (row.signer_id, "11", "amy")
    assert (row.proven_by, row.proven_at, row.email_bidx) == (
        EmailProvenBy.CODE,
        T0 + timedelta(minutes=1),
        email_bidx(cipher, WORK),
    )
    assert [(a.email, a.proven_by) for a in listed] == [(WORK, EmailProvenBy.CODE)]
    assert [(j.pr_key, j.payload["trigger"]) for j in checks] == [
        ("github:acme/widgets#3", "signature")
    ]

    with pytest.raises(proofs.ProofRefused) as used:
        await confirm(sessions, cipher, uid, code)
    assert used.value.reason == "used"


async def test_a_code_is_for_its_person_its_ten_minutes_and_five_tries(
    sessions: Sessions, cipher: FieldCipher
) -> None:
    uid = await send(sessions, cipher)
    [(_, code)] = await mailed_codes(sessions, cipher)
    with pytest.raises(proofs.ProofRefused) as other:
        await confirm(sessions, cipher, uid, code, person=BEA)
    assert other.value.reason == "unknown"
    with pytest.raises(proofs.ProofRefused) as late:
        await confirm(sessions, cipher, uid, code, now=T0 + timedelta(minutes=10))
    assert late.value.reason == "expired"

    uid = await send(sessions, cipher, now=T0 + timedelta(minutes=11))
    code = (await mailed_codes(sessions, cipher))[-1][1]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = []
    for _ in range(5):
        with pytest.raises(proofs.ProofRefused) as info:
            await confirm(sessions, cipher, uid, wrong, now=T0 + timedelta(minutes=12))
        answers.append((info.value.reason, info.value.attempts_left))
    assert answers == [("wrong", 4), ("wrong", 3), ("wrong", 2), ("wrong", 1), ("locked", 0)]
    with pytest.raises(proofs.ProofRefused) as locked:
        await confirm(sessions, cipher, uid, code, now=T0 + timedelta(minutes=12))
    assert locked.value.reason == "locked"
    async with sessions() as s:
        assert (await s.scalars(select(SignerEmail))).all() == []


async def test_sending_is_limited_per_person_and_per_address(
    sessions: Sessions, cipher: FieldCipher
) -> None:
    for n in range(3):
        await send(sessions, cipher, now=T0 + timedelta(minutes=n))
    with pytest.raises(proofs.ProofRefused) as address:
        await send(sessions, cipher, person=BEA, now=T0 + timedelta(minutes=5))
    assert address.value.reason == "too_many_address"
    for n in range(2):
        await send(sessions, cipher, email=f"amy{n}@other.example", now=T0 + timedelta(minutes=6))
    with pytest.raises(proofs.ProofRefused) as person:
        await send(sessions, cipher, email="amy9@other.example", now=T0 + timedelta(minutes=7))
    assert person.value.reason == "too_many_person"
    # an hour later both may send again
    await send(sessions, cipher, now=T0 + timedelta(minutes=61))
    assert len(await mailed_codes(sessions, cipher)) == 6


@pytest.mark.parametrize("email", ["", "amy", "amy@", "@work.example", "amy@work", "a b@x.org"])
async def test_what_is_not_an_address_gets_no_code(
    sessions: Sessions, cipher: FieldCipher, email: str
) -> None:
    with pytest.raises(proofs.ProofRefused) as info:
        await send(sessions, cipher, email=email)
    assert info.value.reason == "invalid_email"
    assert await mailed_codes(sessions, cipher) == []


async def test_a_signer_removes_an_address_and_its_prs_are_checked_again(
    sessions: Sessions, cipher: FieldCipher
) -> None:
    uid = await send(sessions, cipher)
    [(_, code)] = await mailed_codes(sessions, cipher)
    await confirm(sessions, cipher, uid, code)
    await blocked_pr(sessions, cipher, WORK)
    async with sessions() as s:
        [row] = (await s.scalars(select(SignerEmail))).all()
    async with sessions() as s, s.begin():
        with pytest.raises(proofs.ProofRefused):
            await proofs.remove(s, cipher, BEA, row.uid)
    async with sessions() as s, s.begin():
        assert await proofs.remove(s, cipher, AMY, row.uid) == 1
    async with sessions() as s:
        assert (await s.scalars(select(SignerEmail))).all() == []


async def test_erasure_takes_the_codes_asked_by_the_person_and_sent_to_their_addresses(
    sessions: Sessions, cipher: FieldCipher
) -> None:
    uid = await send(sessions, cipher)
    [(_, code)] = await mailed_codes(sessions, cipher)
    await confirm(sessions, cipher, uid, code)  # WORK is now Amy's
    await send(sessions, cipher, email="amy2@work.example", now=T0 + timedelta(minutes=2))
    await send(sessions, cipher, person=BEA, now=T0 + timedelta(minutes=3))  # to Amy's address
    await send(sessions, cipher, person=BEA, email="bea@b.example", now=T0 + timedelta(minutes=4))
    async with sessions() as s, s.begin():
        await rights.erase(s, cipher, rights.Person("github", "11", "amy"), actor=ACTOR)
    async with sessions() as s:
        left = (await s.scalars(select(EmailProof))).all()
    assert [p.email_bidx for p in left] == [email_bidx(cipher, "bea@b.example")]


async def test_retention_drops_codes_once_the_sending_limits_no_longer_count_them(
    sessions: Sessions, cipher: FieldCipher
) -> None:
    await send(sessions, cipher)
    await send(sessions, cipher, email="amy2@work.example", now=T0 + timedelta(minutes=30))
    async with sessions() as s, s.begin():
        purged = await retention.purge(
            s, pending_days=30, jobs_days=30, now=T0 + timedelta(minutes=61)
        )
    assert purged.email_codes == 1
    async with sessions() as s:
        [left] = (await s.scalars(select(EmailProof))).all()
    assert left.created_at == T0 + timedelta(minutes=30)
