"""Erasure on the real database: exactly which rows remain after a person who was an individual
signer (two accounts), a corporate signatory, a manager of two companies, the author of list
entries and queued work, with sessions in several browsers, asks to be erased — and the
request that must come first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import replies
from bot.core.model import Account
from bot.platforms.github.facts import GITHUB
from bot.services import corporate, rights, signing
from bot.services.jobs import NewJob, enqueue
from bot.services.mail.outbox import queue_mail
from bot.storage.agreements import sync_agreements
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.identity_keys import email_bidx, email_identity_key
from bot.storage.models import (
    AuditEvent,
    Base,
    Company,
    CompanyEntry,
    CompanyManager,
    ErasureRequest,
    Job,
    JobKind,
    JobStatus,
    OAuthState,
    PrBlocker,
    PrCheck,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
    WebSession,
)
from bot.storage.pr_checks import replace_contributors
from bot.storage.signatures import find_signer, link_account
from bot.web.sessions import SessionData, SessionStore

OLIVE = rights.Person("github", "501", "Olive-Canary", ("olive@canary.example",))
ACTOR = rights.Actor("github:501", "web", "req-1")


@pytest.fixture
async def sessions(
    db_url: str, make_settings: Any
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    factory = session_factory(engine)
    async with factory() as s, s.begin():
        await sync_agreements(s, make_settings(db_url).policy.agreements)
    yield factory
    await engine.dispose()


async def _sign_individual(
    s: AsyncSession, cipher: FieldCipher, account_id: str, login: str, emails: list[str]
) -> None:
    await signing.sign(
        s,
        cipher,
        platform="github",
        account_id=account_id,
        login=login,
        verified_emails=emails,
        agreement_id="individual",
        version="1.0",
        fields={"name": f"{login} Name", "address": "1 Road", "phone": "+1 555", "fax": "+1 556"},
    )


class _Accounts:
    """The forge's answer about account names (a company's account entries are confirmed)."""

    platform = GITHUB
    ids: ClassVar[dict[str, str]] = {"someone-else": "777", "olive-canary": "501"}

    async def user_by_login(self, login: str) -> Account | None:
        account_id = self.ids.get(login.lower())
        return Account(GITHUB, account_id, login) if account_id else None


_ACCOUNTS = _Accounts()


async def _sign_company(
    s: AsyncSession,
    cipher: FieldCipher,
    account_id: str,
    login: str,
    name: str,
    email: str,
    *,
    managers: list[str],
) -> Company:
    return await corporate.sign(
        s,
        cipher,
        platform="github",
        account_id=account_id,
        login=login,
        agreement_id="corporate",
        version="1.0",
        fields={
            "company": name,
            "name": f"{login} Signatory",
            "title": "Counsel",
            "email": email,
            "address": "2 Plaza",
            "phone": "+1 557",
        },
        managers=managers,
        request_id="r",
    )


async def _job(
    s: AsyncSession,
    key: str,
    kind: JobKind,
    payload: dict[str, Any],
    *,
    status: JobStatus = JobStatus.QUEUED,
    platform: str = "github",
) -> None:
    await enqueue(
        s,
        NewJob(
            platform=platform,
            delivery_key=key,
            event="x",
            action=None,
            kind=kind,
            payload=payload,
            pr_key=None,
        ),
    )
    await s.flush()
    if status != JobStatus.QUEUED:
        row = (await s.scalars(select(Job).where(Job.delivery_key == key))).one()
        row.status = status


def _user(login: str, uid: int) -> dict[str, Any]:
    return {"login": login, "id": uid, "type": "User"}


async def _world(sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> int:
    """Olive and Bert, everything the bot can hold about each; returns the id of the job that
    is running Olive's erasure."""
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        await _sign_individual(
            s, cipher, "501", "Olive-Canary", ["olive@canary.example", "o2@canary.example"]
        )
        olive = await find_signer(s, cipher, platform="github", account_id="501")
        assert olive is not None
        await link_account(s, olive, platform="gitee", account_id="77", login="olive-gitee")
        await _sign_individual(s, cipher, "600", "bert", ["bert@b.example"])
        mine = await _sign_company(
            s,
            cipher,
            "501",
            "Olive-Canary",
            "Canary Widgets",
            "olive@canary.example",
            managers=["co-manager"],
        )
        berts = await _sign_company(
            s, cipher, "600", "bert", "Bert Works", "bert@b.example", managers=["olive-canary"]
        )
        for company, kind, value, by in (
            (mine, "domain", "canarywidgets.com", "github:501"),
            (mine, "email", "Olive@Canary.example", "github:501"),
            (mine, "login", "someone-else", "github:501"),
            (berts, "email", "bert@b.example", "github:600"),
            (berts, "login", "olive-canary", "github:600"),
        ):
            entry = (
                corporate.NewEntry("domain", value)  # as a proven domain is listed
                if kind == "domain"
                else await corporate.prepare_entry(
                    cipher, kind=kind, raw=value, platform="github", accounts=_ACCOUNTS
                )
            )
            await corporate.add_entry(s, cipher, company, entry, actor=by, request_id="r")
        for number, keys in (
            (
                1,
                [
                    "github:501",
                    "login:github:olive-canary",
                    email_identity_key(cipher, "o2@canary.example"),
                    "github:600",
                ],
            ),
            (2, ["github:600"]),
        ):
            check = PrCheck(
                platform="github",
                repo_full_name="acme/w",
                repo_id=9,
                installation_id=1,
                number=number,
                head_sha="a" * 40,
            )
            s.add(check)
            await s.flush()
            await replace_contributors(s, check, {k: True for k in keys})
        for ago, used in ((timedelta(0), True), (timedelta(0), False), (timedelta(hours=1), False)):
            s.add(
                OAuthState(
                    state_hash=f"{ago.seconds:08d}{used:d}".ljust(64, "s"),
                    prelogin_hash="p" * 64,
                    platform="github",
                    next_path="/me",
                    created_at=now - ago,
                    expires_at=now - ago + timedelta(minutes=10),
                    used_at=now if used else None,
                )
            )
        await _job(
            s,
            "check-olive",
            JobKind.CHECK,
            {
                "repo": {"owner": "acme", "name": "w", "id": 9},
                "number": 1,
                "pull": {"number": 1, "user": _user("Olive-Canary", 501)},
                "trigger": "pull_request",
            },
        )
        await _job(
            s,
            "cmd-olive",
            JobKind.COMMAND,
            {
                "number": 1,
                "author": _user("Olive-Canary", 501),
                "commands": [["export-my-data", None]],
            },
        )
        await _job(
            s,
            "dead-olive",
            JobKind.COMMAND,
            {
                "number": 1,
                "author": {"login": "olive-canary", "id": 501},
                "commands": [["check", None]],
            },
            status=JobStatus.DEAD,
        )
        await _job(
            s,
            "bert-asks-two",
            JobKind.COMMAND,
            {
                "number": 1,
                "author": _user("bert", 600),
                "commands": [["status", "OLIVE-canary"], ["export-my-data", None]],
            },
        )
        await _job(
            s,
            "bert-asks-one",
            JobKind.COMMAND,
            {
                "number": 1,
                "author": _user("bert", 600),
                "commands": [["status", "olive-canary"]],
            },
        )
        await _job(
            s,
            "check-bert",
            JobKind.CHECK,
            {
                "number": 2,
                "pull": {"number": 2, "user": _user("bert", 600)},
            },
        )
        await _job(
            s,
            "gitee-501",
            JobKind.CHECK,
            {
                "number": 3,
                "pull": {"number": 3, "user": _user("not-olive", 501)},
            },
            platform="gitee",
        )
        await _job(s, "done", JobKind.CHECK, {}, status=JobStatus.DONE)
        for to in ("o2@canary.example", "bert@b.example"):  # a receipt each, not yet sent
            await queue_mail(s, cipher, to=to, kind="test", lang="en", values={})
        await _job(
            s,
            "running",
            JobKind.COMMAND,
            {
                "number": 1,
                "author": _user("Olive-Canary", 501),
                "commands": [["delete-my-data", "confirm"]],
            },
            status=JobStatus.RUNNING,
        )
        running = (await s.scalars(select(Job.id).where(Job.delivery_key == "running"))).one()
        await rights.request_erasure(s, cipher, OLIVE, now=now)
        await rights.request_erasure(s, cipher, rights.Person("github", "600", "bert"), now=now)
    web = SessionStore(sessions, cipher, secure_cookies=False)
    for platform, account_id, login in (
        ("github", "501", "Olive-Canary"),
        ("github", "501", "Olive-Canary"),
        ("gitee", "77", "olive-gitee"),
        ("github", "600", "bert"),
    ):
        await web.create(SessionData(platform, account_id, login, ["x@canary.example"]))
    return running


async def _counts(s: AsyncSession) -> dict[str, int]:
    return {
        t.name: int(await s.scalar(select(func.count()).select_from(t)) or 0)
        for t in Base.metadata.sorted_tables
    }


EXPECTED = replies.ErasureSummary(
    contact_fields=("name", "address", "phone", "fax"),
    emails=2,
    accounts=2,
    signatory_fields=("name", "title", "address", "email", "phone"),
    companies=1,
    manager_roles=2,
    entries_added=2,
    entries_naming=2,
    pr_records=3,
    sessions=3,
    job_payloads=6,
    kept=(),  # filled in below: the dates depend on today
)


async def test_erase_leaves_exactly_the_tombstones_and_other_people(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    running = await _world(sessions, cipher)
    today = datetime.now(UTC).date().isoformat()
    expected = replies.ErasureSummary(
        **{
            **{f: getattr(EXPECTED, f) for f in EXPECTED.__dataclass_fields__},
            "kept": (replies.Tombstone("individual", "1.0", today, today),),
        }
    )
    async with sessions() as s:
        before = await _counts(s)
        assert await rights.survey(s, cipher, OLIVE, skip_job=running) == expected
        assert await _counts(s) == before  # the survey changes nothing

    async with sessions() as s, s.begin():
        result = await rights.erase(s, cipher, OLIVE, actor=ACTOR, skip_job=running)
    assert result.summary == expected
    assert result.rechecks == 1  # PR 1, where she contributed
    bert_mail = email_bidx(cipher, "bert@b.example")
    olive_hash = cipher.account_hash("github", "501")

    async with sessions() as s:
        (signer,) = (await s.scalars(select(Signer))).all()
        assert [a.account_id for a in (await s.scalars(select(SignerAccount))).all()] == ["600"]
        emails = (await s.scalars(select(SignerEmail))).all()
        assert [e.signer_id for e in emails] == [signer.id]
        sigs = {
            sig.signed_account_id: sig
            for sig in (await s.scalars(select(Signature).order_by(Signature.id))).all()
        }
        assert set(sigs) == {None, "600"}
        tomb = sigs[None]
        assert tomb.signer_id is None and tomb.erased_at is not None
        assert tomb.account_hash == olive_hash

        companies = {c.name: c for c in (await s.scalars(select(Company))).all()}
        kept = companies["Canary Widgets"]
        assert kept.signed_platform == "github" and kept.signed_account_id == olive_hash
        assert kept.revoked_at is None and kept.signed_at is not None
        assert [
            kept.signatory_name_ct,
            kept.signatory_title_ct,
            kept.address_ct,
            kept.email_ct,
            kept.phone_ct,
            kept.fax_ct,
        ] == [None] * 6
        other = companies["Bert Works"]
        assert other.signed_account_id == "600" and other.signatory_name_ct is not None

        managers = sorted(
            (m.company_id, m.login, m.account_id)
            for m in (await s.scalars(select(CompanyManager))).all()
        )
        assert managers == [(kept.id, "co-manager", None), (other.id, "bert", "600")]
        entries = sorted(
            (e.company_id, e.kind, e.value, e.created_by)
            for e in (await s.scalars(select(CompanyEntry))).all()
        )
        assert entries == sorted(
            [
                (kept.id, "domain", "canarywidgets.com", "erased:" + olive_hash),
                (kept.id, "login", "github:777", "erased:" + olive_hash),
                (other.id, "email", email_bidx(cipher, "bert@b.example"), "github:600"),
            ]
        )

        blockers = sorted(
            (c.number, b.identity_key)
            for b, c in (await s.execute(select(PrBlocker, PrCheck).join(PrCheck))).all()
        )
        assert blockers == [(1, "github:600"), (2, "github:600")]

        session_hashes = (await s.scalars(select(WebSession.account_hash))).all()
        assert session_hashes == [cipher.account_hash("github", "600")]
        states = (await s.scalars(select(OAuthState))).all()
        assert [(st.used_at, st.expires_at > datetime.now(UTC)) for st in states] == [(None, True)]
        requests = (await s.scalars(select(ErasureRequest.account_hash))).all()
        assert requests == [cipher.account_hash("github", "600")]

        every = (await s.scalars(select(Job).order_by(Job.id))).all()
        mail = [(j.status, j.payload.get("to_bidx")) for j in every if j.kind == JobKind.MAIL]
        assert mail == [(JobStatus.IGNORED, None), (JobStatus.QUEUED, bert_mail)]
        jobs = {j.delivery_key: j for j in every if j.kind != JobKind.MAIL}
        assert {k: (j.status, j.payload) for k, j in jobs.items()} == {
            "check-olive": (
                JobStatus.QUEUED,
                {
                    "repo": {"owner": "acme", "name": "w", "id": 9},
                    "number": 1,
                    "trigger": "pull_request",
                },
            ),
            "cmd-olive": (JobStatus.IGNORED, {}),
            "dead-olive": (JobStatus.IGNORED, {}),
            "bert-asks-two": (
                JobStatus.QUEUED,
                {"number": 1, "author": _user("bert", 600), "commands": [["export-my-data", None]]},
            ),
            "bert-asks-one": (JobStatus.IGNORED, {}),
            "check-bert": (
                JobStatus.QUEUED,
                {"number": 2, "pull": {"number": 2, "user": _user("bert", 600)}},
            ),
            "gitee-501": (
                JobStatus.QUEUED,
                {"number": 3, "pull": {"number": 3, "user": _user("not-olive", 501)}},
            ),
            "done": (JobStatus.DONE, {}),
            "running": (
                JobStatus.RUNNING,
                {
                    "number": 1,
                    "author": _user("Olive-Canary", 501),
                    "commands": [["delete-my-data", "confirm"]],
                },
            ),
            **{k: (JobStatus.QUEUED, jobs[k].payload) for k in jobs if k.startswith("recheck:")},
        }
        assert len([k for k in jobs if k.startswith("recheck:")]) == 1

        trail = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        actors = {e.actor for e in trail}
        assert "github:501" not in actors and "gitee:77" not in actors
        assert "erased:" + olive_hash in actors and "github:600" in actors
        erase_event = trail[-1]
        assert erase_event.action == "erase" and erase_event.actor == "erased:" + olive_hash
        assert erase_event.details == {
            "contact_fields": ["name", "address", "phone", "fax"],
            "emails": 2,
            "accounts": 2,
            "signatures_tombstoned": 1,
            "companies_tombstoned": 1,
            "manager_roles": 2,
            "company_entries_removed": 2,
            "company_entries_pseudonymised": 2,
            "pr_records": 3,
            "sessions": 3,
            "job_payloads": 6,
            "codes": 0,
            "invitations": 0,
            "work_addresses": 0,
        }
        assert all(e.signer_id in (None, signer.id) for e in trail)

    # a second erasure finds nothing left but the tombstones
    async with sessions() as s:
        assert await rights.survey(s, cipher, OLIVE, skip_job=running) == replies.ErasureSummary()


async def test_a_corporate_signatory_without_an_individual_signature_is_erased(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        company = await _sign_company(
            s, cipher, "700", "carla", "Carla Ltd", "carla@c.example", managers=[]
        )
    carla = rights.Person("github", "700", "carla")
    async with sessions() as s, s.begin():
        result = await rights.erase(
            s, cipher, carla, actor=rights.Actor("github:700", "comment", "j")
        )
    assert result.summary == replies.ErasureSummary(
        signatory_fields=("name", "title", "address", "email", "phone"),
        companies=1,
        manager_roles=1,
    )
    async with sessions() as s:
        row = await s.get(Company, company.id)
        assert row is not None and row.name == "Carla Ltd" and row.email_ct is None
        assert row.signed_account_id == cipher.account_hash("github", "700")
        assert await s.scalar(select(func.count()).select_from(CompanyManager)) == 0


async def test_nobody_has_nothing_to_erase(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s:
        summary = await rights.survey(s, cipher, rights.Person("github", "999", "nobody"))
    assert summary.empty


async def test_a_request_is_confirmed_by_the_same_account_within_24_hours(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    t0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    other = rights.Person("github", "600", "bert")
    same_id_elsewhere = rights.Person("gitee", "501", "olive-gitee")
    async with sessions() as s, s.begin():
        assert await rights.request_erasure(s, cipher, OLIVE, now=t0) == t0 + timedelta(hours=24)
    async with sessions() as s, s.begin():
        assert await rights.confirmation(s, cipher, OLIVE, now=t0 + timedelta(hours=23)) == (
            rights.Confirmation(t0, valid=True)
        )
        for stranger in (other, same_id_elsewhere):
            assert await rights.confirmation(s, cipher, stranger, now=t0) == rights.Confirmation(
                None, valid=False
            )
    # asking again renews the request: one row per account
    t1 = t0 + timedelta(hours=20)
    async with sessions() as s, s.begin():
        await rights.request_erasure(s, cipher, OLIVE, now=t1)
        assert await s.scalar(select(func.count()).select_from(ErasureRequest)) == 1
    late = t1 + timedelta(hours=24)
    async with sessions() as s, s.begin():
        assert await rights.confirmation(s, cipher, OLIVE, now=late) == rights.Confirmation(
            t1, valid=False
        )
    async with sessions() as s, s.begin():  # a lapsed request is gone once it was found lapsed
        assert await rights.confirmation(s, cipher, OLIVE, now=late) == rights.Confirmation(
            None, valid=False
        )
        assert await s.scalar(select(func.count()).select_from(ErasureRequest)) == 0


async def test_a_new_request_drops_lapsed_ones(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    t0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    async with sessions() as s, s.begin():
        await rights.request_erasure(s, cipher, rights.Person("github", "600", "bert"), now=t0)
        await rights.request_erasure(s, cipher, rights.Person("github", "601", "ann"), now=t0)
    async with sessions() as s, s.begin():
        await rights.request_erasure(s, cipher, OLIVE, now=t0 + timedelta(hours=25))
        hashes = (await s.scalars(select(ErasureRequest.account_hash))).all()
    assert hashes == [cipher.account_hash("github", "501")]


USER = {"login": "Olive", "id": 501, "type": "User"}
BERT = {"login": "bert", "id": 600}


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (JobKind.CHECK, {"number": 1, "pull": {"user": USER}}, {"number": 1}),
        (JobKind.CHECK, {"number": 1, "pull": {"user": {**USER, "id": "501"}}}, {"number": 1}),
        (JobKind.CHECK, {"number": 1, "pull": {"user": {**USER, "id": 9}}}, {"number": 1}),
        (JobKind.CHECK, {"number": 1, "pull": {"user": BERT}}, None),
        (JobKind.CHECK, {"number": 1, "repo": {"owner": "olive", "name": "w"}}, None),
        (JobKind.CHECK, {"number": 1}, None),
        (JobKind.COMMAND, {"author": USER, "commands": [["check", None]]}, {}),
        (JobKind.COMMAND, {"author": BERT, "commands": [["status", "@olive"]]}, None),
        (JobKind.COMMAND, {"author": BERT, "commands": [["status", "olive"]]}, {}),
        (
            JobKind.COMMAND,
            {"author": BERT, "commands": [["status", "Olive"], ["export-my-data", None]]},
            {"author": BERT, "commands": [["export-my-data", None]]},
        ),
        (JobKind.COMMAND, {"author": BERT, "commands": [["status", None]]}, None),
        (JobKind.BOOKKEEPING, {"who": [USER]}, {}),
        (JobKind.BOOKKEEPING, {"who": [BERT]}, None),
        (JobKind.MAIL, {"kind": "receipt", "to": "ct", "to_bidx": "b-olive"}, {}),
        (JobKind.MAIL, {"kind": "receipt", "to": "ct", "to_bidx": "b-bert"}, None),
        (JobKind.MAIL, {"sent_at": "2026-12-03T08:00:00+00:00"}, None),
    ],
)
def test_what_a_job_keeps_of_its_payload(
    kind: JobKind, payload: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    found = rights.without_person(kind, payload, {"501"}, {"olive"}, emails={"b-olive"})
    assert found == expected
