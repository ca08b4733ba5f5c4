"""The maintainers' queries: status without contact data, PR status without emails, pagination,
spreadsheet-safe CSV, tokens stored hashed, re-checks queued."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import admin
from bot.storage import repositories as store
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.models import (
    ApiToken,
    AuditEvent,
    Job,
    PrCheck,
    Repository,
    SignerAccount,
)

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
async def sessions(
    db_url: str, make_settings: Any
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = make_settings(db_url)
    engine = create_engine(db_url)
    factory = session_factory(engine)
    async with factory() as s, s.begin():
        await store.sync_agreements(s, settings.policy.agreements)
    yield factory
    await engine.dispose()


@pytest.fixture
def policy(make_settings: Any, sqlite_url: str) -> Any:
    return make_settings(sqlite_url).policy


async def sign(
    s: AsyncSession,
    cipher: FieldCipher,
    *,
    account_id: str | None = None,
    login: str | None = None,
    email: str | None = None,
    name: str | None = None,
    platform: str = "github",
    at: datetime = T0,
    phone: str | None = None,
) -> int:
    signer, _ = await store.record_signature(
        s,
        cipher,
        store.NewSignature(
            platform=platform if account_id else None,
            account_id=account_id,
            login=login,
            email=email,
            name=name,
            phone=phone,
            agreement_id="individual",
            version="1.0",
            signed_at=at,
            source="import",
        ),
    )
    return signer.id


async def test_account_status_by_id_and_login_says_no_contact_data(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, policy: Any
) -> None:
    async with sessions() as s, s.begin():
        await sign(
            s,
            cipher,
            account_id="583231",
            login="octocat",
            email="mona@example.com",
            name="Mona Lisa",
        )
    async with sessions() as s, s.begin():
        by_id = await admin.account_status(s, cipher, policy, platform="github", account="583231")
        by_login = await admin.account_status(
            s, cipher, policy, platform="github", account="OctoCat"
        )
        nobody = await admin.account_status(s, cipher, policy, platform="github", account="999")
        stranger = await admin.account_status(s, cipher, policy, platform="github", account="ghost")
        bot = await admin.account_status(
            s, cipher, policy, platform="github", account="dependabot[bot]"
        )
    assert by_id.covered and by_id.verdict == "signed" and by_id.kind == "individual"
    assert (by_id.agreement, by_id.version, by_id.since) == ("individual", "1.0", T0)
    assert by_id.login == "octocat" and by_id.matched_by == "account_id"
    assert by_login.covered and by_login.account == "github:583231"
    assert by_login.matched_by == "login" and by_login.note and "account id" in by_login.note
    assert not nobody.covered and nobody.verdict == "unsigned"
    assert not stranger.covered and stranger.note
    assert bot.covered and bot.verdict == "allowlisted"
    for status in (by_id, by_login):
        text = repr(status.as_dict()) + status.sentence()
        assert "mona@example.com" not in text and "Mona Lisa" not in text
    assert "covered by individual 1.0, individual since 2024-01-02T03:04:05Z" in by_id.sentence()


async def test_login_means_the_latest_account_recorded_with_it(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, policy: Any
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, account_id="100", login="renamed")
    async with sessions() as s, s.begin():
        # Another person took the login later; they have not signed.
        signer = await sign(s, cipher, email="someone@example.com")
        s.add(
            SignerAccount(
                signer_id=signer,
                platform="github",
                account_id="200",
                login="Renamed",
                created_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        await s.flush()
        # ... and their signature is revoked, so they are not covered.
        from bot.storage.models import Signature

        for sig in (await s.scalars(select(Signature).where(Signature.signer_id == signer))).all():
            sig.revoked_at = T0
    async with sessions() as s, s.begin():
        status = await admin.account_status(s, cipher, policy, platform="github", account="renamed")
        by_id = await admin.account_status(s, cipher, policy, platform="github", account="100")
    assert status.account == "github:200" and not status.covered
    assert by_id.covered


async def test_email_status_is_case_insensitive_and_never_repeats_the_address(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, policy: Any
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, email="Jo.Doe@Example.ORG", at=T0)
    async with sessions() as s, s.begin():
        hit = await admin.email_status(s, cipher, policy, email="  jo.doe@example.org ")
        miss = await admin.email_status(s, cipher, policy, email="other@example.org")
        with pytest.raises(admin.Invalid):
            await admin.email_status(s, cipher, policy, email="not an email")
        with pytest.raises(admin.NotFound):
            await admin.email_status(s, cipher, policy, email="a@b.co", agreement_id="nope")
    assert hit.covered and hit.subject == "email" and hit.matched_by == "email"
    assert not miss.covered and miss.verdict == "unsigned"
    assert "jo.doe" not in repr(hit.as_dict()).lower()


async def test_pr_status_never_shows_an_email(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, account_id="42", login="alice")
        check = PrCheck(
            platform="github",
            repo_full_name="Acme/Widgets",
            number=7,
            head_sha="a" * 40,
            outcome="blocked",
            status_state="failure",
            installation_id=9,
        )
        s.add(check)
        await s.flush()
        bidx_key = store.email_identity_key(cipher, "ghost@example.com")
        await store.replace_contributors(s, check, {"github:42": False, bidx_key: True})
    async with sessions() as s, s.begin():
        pr = await admin.pr_status(s, platform="github", owner="acme", repo="widgets", number=7)
        with pytest.raises(admin.NotFound):
            await admin.pr_status(s, platform="github", owner="acme", repo="widgets", number=8)
        with pytest.raises(admin.Invalid):
            await admin.pr_status(s, platform="github", owner="a/b", repo="c", number=1)
    assert pr["outcome"] == "blocked" and pr["head_sha"] == "a" * 40 and pr["blocking"] == 1
    assert {"identity": "github:42", "login": "alice", "blocking": False} in pr["contributors"]
    assert {"identity": "email (not linked)", "login": None, "blocking": True} in pr["contributors"]
    assert "ghost" not in repr(pr) and bidx_key.split(":")[1] not in repr(pr)


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
            page = await admin.list_signatures(
                s, cipher, agreement_id="individual", version="1.0", limit=4, cursor=cursor
            )
            pages += 1
            seen.extend(item["id"] for item in page.items)
            assert all("contact" not in item for item in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        everything = await admin.all_signatures(
            s, cipher, agreement_id=None, version=None, include_contact=False
        )
        with pytest.raises(admin.Invalid):
            await admin.list_signatures(s, cipher, limit=501)
        with pytest.raises(admin.NotFound):
            await admin.list_signatures(s, cipher, agreement_id="individual", version="9.9")
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
        page = await admin.list_signatures(s, cipher, include_contact=True)
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
    text = admin.to_csv(items, include_contact=True)
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["signature_id", "agreement", "version"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["email"] == "'+cmd@example.com" and row["other_emails"] == "b@example.com"
    assert row["address"].startswith("'-1 Main St\n") and row["phone"] == "'@SUM(1)"
    assert row["accounts"] == "github:1" and row["logins"] == "mona"
    assert "name" not in admin.to_csv(items, include_contact=False).splitlines()[0]


async def test_tokens_are_stored_hashed_listed_without_the_token_and_revocable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        value, info = await admin.create_token(s, name="ci report", scope="read")
        with pytest.raises(admin.Invalid):
            await admin.create_token(s, name="x", scope="root")
        with pytest.raises(admin.Invalid):
            await admin.create_token(s, name="", scope="read")
    assert admin.TOKEN_RE.fullmatch(value) and len(value) == 44
    assert info.prefix == value[:12]
    async with sessions() as s, s.begin():
        row = (await s.scalars(select(ApiToken))).one()
        assert row.token_hash == admin.token_hash(value) and value not in repr(vars(row))
        listed = await admin.list_tokens(s)
        assert value not in repr([t.as_dict() for t in listed])
        assert listed[0].last_used_at is None
        assert (await admin.authenticate(s, value)) is not None
        assert (
            await admin.authenticate(s, value[:-1] + ("A" if value[-1] != "A" else "B"))
        ) is None
        assert (await admin.authenticate(s, "garbage")) is None
    async with sessions() as s, s.begin():
        first = (await admin.list_tokens(s))[0].last_used_at
        assert first is not None
        again = await admin.authenticate(s, value, now=first + timedelta(seconds=30))
        assert again is not None and again.last_used_at == first  # at most once a minute
        later = await admin.authenticate(s, value, now=first + timedelta(minutes=2))
        assert later is not None and later.last_used_at == first + timedelta(minutes=2)
    async with sessions() as s, s.begin():
        with pytest.raises(admin.NotFound):
            await admin.revoke_token(s, "cla_zzzzzzzz")
        revoked = await admin.revoke_token(s, info.prefix)
        assert revoked.revoked_at is not None
    async with sessions() as s, s.begin():
        assert (await admin.authenticate(s, value)) is None


async def test_rechecks_queue_jobs(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        s.add_all(
            [
                PrCheck(
                    platform="github",
                    repo_full_name="acme/widgets",
                    number=1,
                    head_sha="a",
                    installation_id=5,
                ),
                PrCheck(
                    platform="github",
                    repo_full_name="acme/widgets",
                    number=2,
                    head_sha="b",
                    installation_id=5,
                ),
                PrCheck(
                    platform="github",
                    repo_full_name="acme/widgets",
                    number=3,
                    head_sha="c",
                    state="closed",
                ),
                Repository(
                    platform="github", full_name="acme/gadgets", forge_repo_id=77, installation_id=6
                ),
            ]
        )
    async with sessions() as s, s.begin():
        repo = await admin.recheck_repo(s, platform="github", owner="ACME", repo="widgets")
        known = await admin.recheck_pr(s, platform="github", owner="acme", repo="widgets", number=1)
        new = await admin.recheck_pr(s, platform="github", owner="acme", repo="gadgets", number=12)
        with pytest.raises(admin.NotFound):
            await admin.recheck_pr(s, platform="github", owner="who", repo="knows", number=1)
        with pytest.raises(admin.NotFound):
            await admin.recheck_repo(s, platform="github", owner="who", repo="knows")
        empty = await admin.recheck_repo(s, platform="github", owner="acme", repo="gadgets")
    assert (repo.queued, known.queued, new.queued, empty.queued) == (2, 1, 1, 0)
    assert known.known and not new.known
    async with sessions() as s:
        jobs = (await s.scalars(select(Job).order_by(Job.id))).all()
        assert len(jobs) == 4 and all(j.kind == "check" for j in jobs)
        gadget = jobs[-1]
        assert gadget.pr_key == "github:acme/gadgets#12" and gadget.installation_id == 6
        assert gadget.payload == {
            "repo": {"owner": "acme", "name": "gadgets", "id": 77},
            "number": 12,
            "trigger": "api",
        }


async def test_agreements_list_versions_and_counts(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, policy: Any
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, account_id="1")
        await sign(s, cipher, account_id="2")
    async with sessions() as s, s.begin():
        data = await admin.agreements(s, policy)
    assert data["required"] == "individual"
    individual = next(a for a in data["agreements"] if a["id"] == "individual")
    assert individual["required"] and individual["kind"] == "individual"
    v = individual["versions"][0]
    assert v["version"] == "1.0" and v["counting"] and v["signatures"] == 2


async def test_contact_reads_are_audited_one_event_per_person(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    async with sessions() as s, s.begin():
        ids = [await sign(s, cipher, account_id=str(i), name=f"P{i}") for i in (1, 2, 3)]
        await admin.audit_contact_read(
            s, ids + ids[:1], actor="token:cla_abcdefgh", via="api", request_id="r1", details={}
        )
    async with sessions() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "read-contact"))
        ).all()
        assert sorted(e.signer_id for e in events if e.signer_id) == sorted(ids)
        assert {e.actor for e in events} == {"token:cla_abcdefgh"}
        assert await s.scalar(select(func.count()).select_from(AuditEvent)) == 3
