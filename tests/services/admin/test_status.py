"""Status without contact data: an account by id or login, an email, a PR (never an email),
and the agreements with their signature counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.admin.common import Invalid, NotFound
from bot.services.admin.status import account_status, agreements, email_status, pr_status
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_identity_key
from bot.storage.models import PrCheck, SignerAccount
from bot.storage.pr_checks import replace_contributors
from tests.services.admin.conftest import T0, sign


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
        by_id = await account_status(s, cipher, policy, platform="github", account="583231")
        by_login = await account_status(s, cipher, policy, platform="github", account="OctoCat")
        nobody = await account_status(s, cipher, policy, platform="github", account="999")
        stranger = await account_status(s, cipher, policy, platform="github", account="ghost")
        bot = await account_status(s, cipher, policy, platform="github", account="dependabot[bot]")
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
        status = await account_status(s, cipher, policy, platform="github", account="renamed")
        by_id = await account_status(s, cipher, policy, platform="github", account="100")
    assert status.account == "github:200" and not status.covered
    assert by_id.covered


async def test_email_status_is_case_insensitive_and_never_repeats_the_address(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, policy: Any
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, email="Jo.Doe@Example.ORG", at=T0)
    async with sessions() as s, s.begin():
        hit = await email_status(s, cipher, policy, email="  jo.doe@example.org ")
        miss = await email_status(s, cipher, policy, email="other@example.org")
        with pytest.raises(Invalid):
            await email_status(s, cipher, policy, email="not an email")
        with pytest.raises(NotFound):
            await email_status(s, cipher, policy, email="a@b.co", agreement_id="nope")
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
        bidx_key = email_identity_key(cipher, "ghost@example.com")
        await replace_contributors(s, check, {"github:42": False, bidx_key: True})
    async with sessions() as s, s.begin():
        pr = await pr_status(s, platform="github", owner="acme", repo="widgets", number=7)
        with pytest.raises(NotFound):
            await pr_status(s, platform="github", owner="acme", repo="widgets", number=8)
        with pytest.raises(Invalid):
            await pr_status(s, platform="github", owner="a/b", repo="c", number=1)
    assert pr["outcome"] == "blocked" and pr["head_sha"] == "a" * 40 and pr["blocking"] == 1
    assert {"identity": "github:42", "login": "alice", "blocking": False} in pr["contributors"]
    assert {"identity": "email (not linked)", "login": None, "blocking": True} in pr["contributors"]
    assert "ghost" not in repr(pr) and bidx_key.split(":")[1] not in repr(pr)


async def test_agreements_list_versions_and_counts(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, policy: Any
) -> None:
    async with sessions() as s, s.begin():
        await sign(s, cipher, account_id="1")
        await sign(s, cipher, account_id="2")
    async with sessions() as s, s.begin():
        data = await agreements(s, policy)
    assert data["required"] == "individual"
    individual = next(a for a in data["agreements"] if a["id"] == "individual")
    assert individual["required"] and individual["kind"] == "individual"
    v = individual["versions"][0]
    assert v["version"] == "1.0" and v["counting"] and v["signatures"] == 2
