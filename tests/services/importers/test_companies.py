"""Imported companies on a real database (SQLite, and PostgreSQL when configured): approved when
the other service's community had confirmed them, their employees' emails counting at once,
their domains pending unless asked, nothing of the signatory kept, a second import adding only
what is missing, the blocked PRs re-checked, and erasure reaching the entries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.identity import Contributor, Identity
from bot.core.model import Role
from bot.services import corporate, rights
from bot.services.importers import CompaniesWritten, ImportedCompany, import_companies
from bot.storage.agreements import sync_agreements
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import contributor_keys, email_bidx
from bot.storage.models import AuditEvent, Company, CompanyEntry, Job, PrCheck
from bot.storage.pr_checks import replace_contributors
from bot.storage.signatures import signature_facts

Sessions = async_sessionmaker[AsyncSession]
SIGNED = datetime(2023, 5, 20, tzinfo=UTC)
HARBOUR = ImportedCompany(
    name="Harbour Tech Co., Ltd.",
    agreement_id="corporate",
    version="1.0",
    signed_at=SIGNED,
    confirmed=True,
    domains=("harbourtech.cn", "harbourtech-labs.com"),
    emails=("wu.jie@harbourtech.cn",),
)
LOTUS = ImportedCompany(
    name="Lotus Semiconductor",
    agreement_id="corporate",
    version="1.0",
    signed_at=SIGNED,
    confirmed=False,
    domains=("lotus-semi.com",),
    emails=("ana.r@lotus-semi.com",),
)
WU = "wu.jie@harbourtech.cn"
COLLEAGUE = "lin.fei@harbourtech.cn"  # disabled there: not listed
ANA = "ana.r@lotus-semi.com"


@pytest.fixture
async def db(db_url: str, make_settings: Any, sessions: Sessions) -> Sessions:
    async with sessions() as s, s.begin():
        await sync_agreements(s, make_settings(db_url).policy.agreements)
    return sessions


def author(email: str) -> Contributor:
    return Contributor(Identity.of_email(email), frozenset({Role.AUTHOR}), ("a" * 40,), (email,))


async def write(
    db: Sessions, cipher: FieldCipher, *companies: ImportedCompany, approve_domains: bool = False
) -> CompaniesWritten:
    async with db() as s, s.begin():
        return await import_companies(
            s,
            cipher,
            companies,
            source="app-cla-server",
            request_id="import-test",
            approve_domains=approve_domains,
        )


async def covering(db: Sessions, cipher: FieldCipher, *emails: str) -> dict[str, list[str]]:
    """Each email → the companies that cover a contributor committing with it."""
    async with db() as s:
        facts = await signature_facts(s, cipher, [author(e) for e in emails])
    return {
        e: [f.company or "" for f in facts.get(author(e).identity.key, []) if f.corporate]
        for e in emails
    }


async def entries(db: Sessions, cipher: FieldCipher) -> list[tuple[str, str, str, str]]:
    """(company, kind, what it names, status) of every entry; emails decrypted."""
    async with db() as s:
        rows = (
            await s.execute(
                select(CompanyEntry, Company)
                .join(Company, CompanyEntry.company_id == Company.id)
                .order_by(CompanyEntry.id)
            )
        ).all()
    out = []
    for entry, company in rows:
        shown = entry.value
        if entry.kind == "email":
            assert entry.value_ct is not None
            shown = cipher.decrypt(
                entry.value_ct, table="company_entries", column="value", row=entry.uid
            )
            assert entry.value == email_bidx(cipher, shown)
        out.append((company.name, entry.kind, shown, entry.status))
    return out


async def test_a_confirmed_company_covers_its_employees_not_yet_its_domains(
    db: Sessions, cipher: FieldCipher
) -> None:
    assert await write(db, cipher, HARBOUR, LOTUS) == CompaniesWritten(2, 0, 3, 2, 0)
    assert await covering(db, cipher, WU, COLLEAGUE, ANA) == {
        WU: ["Harbour Tech Co., Ltd."],
        COLLEAGUE: [],  # the domain waits for an administrator
        ANA: [],  # Lotus was never confirmed: pending
    }
    async with db() as s:
        companies = (await s.scalars(select(Company).order_by(Company.id))).all()
        trail = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [(c.name, c.status, c.decided_by, c.signed_at) for c in companies] == [
        ("Harbour Tech Co., Ltd.", "approved", "import", SIGNED),
        ("Lotus Semiconductor", "pending", None, SIGNED),
    ]
    for c in companies:  # signed elsewhere: no account, nothing of the signatory
        assert (c.signed_platform, c.signed_account_id) == ("", "")
        assert all(
            getattr(c, a) is None
            for a in ("signatory_name_ct", "signatory_title_ct", "email_ct", "address_ct")
        )
    assert await entries(db, cipher) == [
        ("Harbour Tech Co., Ltd.", "domain", "harbourtech.cn", "pending"),
        ("Harbour Tech Co., Ltd.", "domain", "harbourtech-labs.com", "pending"),
        ("Harbour Tech Co., Ltd.", "email", WU, "approved"),
        ("Lotus Semiconductor", "domain", "lotus-semi.com", "pending"),
        ("Lotus Semiconductor", "email", ANA, "approved"),
    ]
    assert [(e.action, e.actor, e.via, e.details) for e in trail] == [
        (
            "import",
            "operator",
            "cli",
            {
                "source": "app-cla-server",
                "company": companies[0].uid,
                "new": True,
                "status": "approved",
                "decided": "approved: the community had confirmed it in app-cla-server",
                "domains": 2,
                "domains_status": "pending",
                "emails": 1,
            },
        ),
        (
            "import",
            "operator",
            "cli",
            {
                "source": "app-cla-server",
                "company": companies[1].uid,
                "new": True,
                "status": "pending",
                "decided": "pending an administrator's decision",
                "domains": 1,
                "domains_status": "pending",
                "emails": 1,
            },
        ),
    ]
    assert WU not in str([e.details for e in trail])


async def test_approved_domains_cover_everyone_at_them(db: Sessions, cipher: FieldCipher) -> None:
    await write(db, cipher, HARBOUR, LOTUS, approve_domains=True)
    assert await covering(db, cipher, COLLEAGUE, "q@harbourtech-labs.com", ANA) == {
        COLLEAGUE: ["Harbour Tech Co., Ltd."],
        "q@harbourtech-labs.com": ["Harbour Tech Co., Ltd."],
        ANA: [],  # its domain is approved, the company is not
    }
    async with db() as s, s.begin():  # an administrator approves Lotus: then it covers
        lotus = (await s.scalars(select(Company).where(Company.name == LOTUS.name))).one()
        await corporate.approve(s, cipher, lotus.id, actor="operator", via="cli", request_id="r")
    assert await covering(db, cipher, ANA, "bo@lotus-semi.com") == {
        ANA: ["Lotus Semiconductor"],
        "bo@lotus-semi.com": ["Lotus Semiconductor"],
    }


async def test_a_second_import_adds_only_what_is_missing_and_keeps_decisions(
    db: Sessions, cipher: FieldCipher
) -> None:
    await write(db, cipher, HARBOUR)
    async with db() as s, s.begin():
        harbour = (await s.scalars(select(Company))).one()
        await corporate.reject(
            s,
            cipher,
            harbour.id,
            reason="Contract ended",
            actor="operator",
            via="cli",
            request_id="r",
        )
    later = dataclasses.replace(HARBOUR, emails=(WU, ANA))
    assert await write(db, cipher, later) == CompaniesWritten(0, 1, 0, 1, 0)
    assert await write(db, cipher, later) == CompaniesWritten(0, 1, 0, 0, 0)
    async with db() as s:
        rows = (await s.scalars(select(Company))).all()
    assert [(c.name, c.status) for c in rows] == [("Harbour Tech Co., Ltd.", "rejected")]
    assert [e[2] for e in await entries(db, cipher) if e[1] == "email"] == [WU, ANA]
    assert await covering(db, cipher, WU) == {WU: []}


async def _blocked_pr(db: Sessions, cipher: FieldCipher, number: int, email: str) -> None:
    async with db() as s, s.begin():
        check = PrCheck(
            platform="gitee",
            repo_full_name="open-cla/cla-demo",
            number=number,
            head_sha=f"{number:040x}",
        )
        s.add(check)
        await s.flush()
        await replace_contributors(
            s, check, dict.fromkeys(contributor_keys(cipher, author(email)), True)
        )


async def test_the_prs_the_import_covers_are_rechecked(db: Sessions, cipher: FieldCipher) -> None:
    await _blocked_pr(db, cipher, 1, WU)
    await _blocked_pr(db, cipher, 2, COLLEAGUE)
    await _blocked_pr(db, cipher, 3, ANA)
    assert (await write(db, cipher, HARBOUR, LOTUS)).rechecks == 1  # Wu's: listed and approved
    async with db() as s:
        queued = (await s.scalars(select(Job.pr_key).order_by(Job.id))).all()
    assert queued == ["gitee:open-cla/cla-demo#1"]
    labs = dataclasses.replace(HARBOUR, name="Harbour Labs", emails=())
    assert (await write(db, cipher, labs, approve_domains=True)).rechecks == 2  # harbourtech.cn
    async with db() as s:
        queued = (await s.scalars(select(Job.pr_key).order_by(Job.id))).all()
    assert sorted(queued) == [f"gitee:open-cla/cla-demo#{n}" for n in (1, 1, 2)]


async def test_erasure_reaches_an_imported_entry(db: Sessions, cipher: FieldCipher) -> None:
    await write(db, cipher, HARBOUR)
    wu = rights.Person("gitee", "8801", "wu-jie", (WU,))
    async with db() as s, s.begin():
        done = await rights.erase(s, cipher, wu, actor=rights.Actor("gitee:8801", "web", "e"))
    assert done.summary.entries_naming == 1
    async with db() as s:
        kinds = (await s.scalars(select(CompanyEntry.kind).order_by(CompanyEntry.id))).all()
        assert await s.scalar(select(func.count()).select_from(Company)) == 1
    assert kinds == ["domain", "domain"]
    assert await covering(db, cipher, WU) == {WU: []}
