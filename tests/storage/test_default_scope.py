"""The callers that have no community yet (the admin API's status and export, `cla-bot
agreements`, the signing pages' standing) read only the default community's agreements; the
ones that follow a signature to its agreement (a person's own export, a receipt) find the
agreement of the signature's own community, never a namesake in another."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.model import Agreement
from bot.services.admin import export, status
from bot.services.agreements import list_versions
from bot.services.rights.access import export as export_person
from bot.services.signing import receipt, standing
from bot.settings import Settings
from bot.storage.agreements import load_agreement, sync_agreements
from bot.storage.communities import add_community
from bot.storage.crypto import FieldCipher
from bot.storage.signatures import NewSignature, find_signer, record_signature
from tests.storage.conftest import agreement, version

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
DEFAULT_ICLA = agreement("icla", version("1.0"), title="Default ICLA")
MINDSPORE_ICLA = agreement("icla", version("1.0", "MindSpore's."), version("2.0"), title="MS")


def signed(account_id: str, community: str, ver: str = "1.0") -> NewSignature:
    return NewSignature(
        platform="github",
        account_id=account_id,
        login=f"user{account_id}",
        email=None,
        name=None,
        agreement_id="icla",
        version=ver,
        signed_at=T0,
        source="import",
        community=community,
    )


@pytest.fixture
async def two_communities(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> dict[str, int]:
    """Signer 42 signed both communities' icla, 7 only MindSpore's; signature ids by name."""
    async with sessions() as s, s.begin():
        await sync_agreements(s, [DEFAULT_ICLA])
        await add_community(s, "mindspore", "MindSpore")
        await sync_agreements(s, [MINDSPORE_ICLA], community="mindspore")
        _, both_default = await record_signature(s, cipher, signed("42", "default"))
        _, both_ms = await record_signature(s, cipher, signed("42", "mindspore", "2.0"))
        _, only_ms = await record_signature(s, cipher, signed("7", "mindspore"))
    return {"default": both_default.id, "ms": both_ms.id, "only_ms": only_ms.id}


async def test_the_admin_export_and_version_list_hold_the_default_communitys_only(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    two_communities: dict[str, int],
) -> None:
    async with sessions() as s:
        page = await export.list_signatures(s, cipher)
        filtered = await export.list_signatures(s, cipher, agreement_id="icla", version="1.0")
        versions = await list_versions(s, [DEFAULT_ICLA])
    assert [(i["id"], i["agreement"], i["version"]) for i in page.items] == [
        (two_communities["default"], "icla", "1.0")
    ]
    assert [i["id"] for i in filtered.items] == [two_communities["default"]]
    assert [(v.agreement_id, v.version, v.signatures) for v in versions] == [("icla", "1.0", 1)]


async def test_the_admin_status_lists_the_default_communitys_agreements(
    sessions: async_sessionmaker[AsyncSession],
    two_communities: dict[str, int],
    make_settings: Callable[..., Settings],
    db_url: str,
) -> None:
    policy = dataclasses.replace(make_settings(db_url).policy, required_agreement="icla")
    async with sessions() as s:
        listed = await status.agreements(s, policy)
    assert [
        (a["id"], a["title"], [v["version"] for v in a["versions"]]) for a in listed["agreements"]
    ] == [("icla", "Default ICLA", ["1.0"])]


async def test_the_signing_pages_standing_counts_the_default_communitys_signature_only(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    two_communities: dict[str, int],
) -> None:
    async with sessions() as s:
        icla: Agreement = await load_agreement(s, "icla")
        only_elsewhere = await standing(
            s, cipher, platform="github", account_id="7", emails=[], agreement=icla
        )
        both = await standing(
            s, cipher, platform="github", account_id="42", emails=[], agreement=icla
        )
    assert only_elsewhere.signer_id is not None
    assert (only_elsewhere.signature, only_elsewhere.resign) == (None, False)
    assert both.signature is not None and both.signature.version == "1.0"


async def test_a_persons_export_and_receipts_name_each_signatures_own_agreement(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    two_communities: dict[str, int],
) -> None:
    async with sessions() as s:
        signer = await find_signer(s, cipher, platform="github", account_id="42")
        assert signer is not None
        person = await export_person(s, cipher, signer)
        ms = await receipt(s, cipher, two_communities["ms"], login=None)
        default = await receipt(s, cipher, two_communities["default"], login=None)
    assert [(x["community"], x["agreement_title"], x["version"]) for x in person["signatures"]] == [
        ("default", "Default ICLA", "1.0"),
        ("mindspore", "MS", "2.0"),
    ]
    assert ms is not None and default is not None
    assert (ms["agreement"]["title"], ms["agreement"]["version"]) == ("MS", "2.0")
    assert (ms["agreement"]["community"], default["agreement"]["community"]) == (
        "mindspore",
        "default",
    )
    assert (default["agreement"]["title"], default["agreement"]["version"]) == (
        "Default ICLA",
        "1.0",
    )
