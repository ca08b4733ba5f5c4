"""Signatures paginated exactly once, contact fields only when asked and never of a restricted
record, spreadsheet-safe CSV, and every contact read written to the audit trail by the export
itself."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.admin.common import Invalid, NotFound
from bot.services.admin.export import (
    ContactReader,
    all_signatures,
    audit_contact_read,
    list_signatures,
    to_csv,
)
from bot.storage.crypto import FieldCipher
from bot.storage.models import AuditEvent
from tests.services.admin.conftest import T0, sign

READER = ContactReader(actor="token:cla_abcdefgh", via="api", request_id="r1", details={"op": "x"})


async def test_pagination_returns_every_signature_exactly_once(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        for i in range(11):
            await sign(s, cipher, account_id=str(1000 + i), login=f"user{i}")
    seen: list[int] = []
    cursor = 0
    pages = 0
    async with sessions() as s, s.begin():
        while True:
            page = await list_signatures(
                s, cipher, agreement_id="individual", version="1.0", limit=4, cursor=cursor
            )
            pages += 1
            seen.extend(item["id"] for item in page.items)
            assert all("contact" not in item for item in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        everything = await all_signatures(s, cipher, agreement_id=None, version=None, contact=None)
        with pytest.raises(Invalid):
            await list_signatures(s, cipher, limit=501)
        with pytest.raises(NotFound):
            await list_signatures(s, cipher, agreement_id="individual", version="9.9")
    assert pages == 3 and len(seen) == 11 and len(set(seen)) == 11 and seen == sorted(seen)
    assert [i["id"] for i in everything.items] == seen


async def test_contact_only_when_asked_and_never_for_a_restricted_record(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        a = await sign(s, cipher, account_id="1", email="a@example.com", name="Ann", phone="+1 555")
        b = await sign(s, cipher, account_id="2", email="b@example.com", name="Ben")
        from bot.storage.models import Signer

        signer_b = await s.get(Signer, b)
        assert signer_b is not None
        signer_b.restricted_at = T0
    async with sessions() as s, s.begin():
        page = await list_signatures(s, cipher, contact=READER)
    by_signer = {item["signer"]: item for item in page.items}
    assert by_signer[a]["contact"] == {
        "name": "Ann",
        "address": None,
        "phone": "+1 555",
        "fax": None,
        "emails": ["a@example.com"],
    }
    assert by_signer[b]["contact"] is None and by_signer[b]["restricted"] is True
    assert page.signer_ids == {a}


def test_csv_is_spreadsheet_safe() -> None:
    items = [
        {
            "id": 1,
            "agreement": "individual",
            "version": "1.0",
            "kind": "individual",
            "signed_at": "2024-01-02T03:04:05Z",
            "source": "web",
            "signed_by": "github:1",
            "accounts": [{"platform": "github", "account_id": "1", "login": "mona"}],
            "restricted": False,
            "contact": {
                "name": '=HYPERLINK("http://evil.example","x")',
                "emails": ["+cmd@example.com", "b@example.com"],
                "address": '-1 Main St\nSpringfield, "Elm"',
                "phone": "@SUM(1)",
                "fax": None,
            },
        }
    ]
    text = to_csv(items, include_contact=True)
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["signature_id", "agreement", "version"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["email"] == "'+cmd@example.com" and row["other_emails"] == "b@example.com"
    assert row["address"].startswith("'-1 Main St\n") and row["phone"] == "'@SUM(1)"
    assert row["accounts"] == "github:1" and row["logins"] == "mona"
    assert "name" not in to_csv(items, include_contact=False).splitlines()[0]


async def test_contact_reads_are_audited_one_event_per_person(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        ids = [await sign(s, cipher, account_id=str(i), name=f"P{i}") for i in (1, 2, 3)]
        await audit_contact_read(
            s, ids + ids[:1], actor="token:cla_abcdefgh", via="api", request_id="r1", details={}
        )
    async with sessions() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "read-contact"))
        ).all()
        assert sorted(e.signer_id for e in events if e.signer_id) == sorted(ids)
        assert {e.actor for e in events} == {"token:cla_abcdefgh"}
        assert await s.scalar(select(func.count()).select_from(AuditEvent)) == 3


async def _audit_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str, str, str, int | None, dict[str, object]]]:
    async with sessions() as s:
        events = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        return [(e.action, e.actor, e.via, e.request_id, e.signer_id, e.details) for e in events]


async def test_a_page_with_contact_fields_writes_one_audit_row_per_person_read(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        a = await sign(s, cipher, account_id="1", name="Ann")
        b = await sign(s, cipher, account_id="2", name="Ben")
        restricted = await sign(s, cipher, account_id="3", name="Cy")
        from bot.storage.models import Signer

        signer = await s.get(Signer, restricted)
        assert signer is not None
        signer.restricted_at = T0
    async with sessions() as s, s.begin():
        await list_signatures(s, cipher, limit=1)
        await list_signatures(s, cipher)
    assert await _audit_rows(sessions) == []
    async with sessions() as s, s.begin():
        page = await list_signatures(s, cipher, contact=READER)
    assert page.signer_ids == {a, b}
    assert await _audit_rows(sessions) == [
        ("read-contact", "token:cla_abcdefgh", "api", "r1", a, {"op": "x"}),
        ("read-contact", "token:cla_abcdefgh", "api", "r1", b, {"op": "x"}),
    ]


async def test_an_export_with_contact_fields_audits_each_person_once(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        a = await sign(s, cipher, account_id="1", name="Ann")
        again = await sign(s, cipher, account_id="1", name="Ann", at=T0.replace(year=2025))
        b = await sign(s, cipher, account_id="2", name="Ben")
    assert again == a  # one person, two signatures
    reader = ContactReader(
        actor="operator", via="cli", request_id="cli-export-1", details={"operation": "export"}
    )
    async with sessions() as s, s.begin():
        plain = await all_signatures(s, cipher, agreement_id=None, version=None, contact=None)
    assert len(plain.items) == 3 and plain.signer_ids == frozenset()
    assert await _audit_rows(sessions) == []
    async with sessions() as s, s.begin():
        page = await all_signatures(
            s, cipher, agreement_id="individual", version="1.0", contact=reader
        )
    assert len(page.items) == 3 and page.signer_ids == {a, b}
    event = ("read-contact", "operator", "cli", "cli-export-1")
    assert await _audit_rows(sessions) == [
        (*event, a, {"operation": "export"}),
        (*event, b, {"operation": "export"}),
    ]


async def test_a_failed_export_writes_no_audit_row(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, account_id="1", name="Ann")
    async with sessions() as s, s.begin():
        with pytest.raises(NotFound):
            await all_signatures(s, cipher, agreement_id="nope", version=None, contact=READER)
        with pytest.raises(Invalid):
            await list_signatures(s, cipher, limit=0, contact=READER)
    assert await _audit_rows(sessions) == []
