"""Publishing app.yaml's agreements: exact rows, in-place updates, a changed text refused."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.model import Agreement, AgreementVersion
from bot.storage.agreements import (
    AgreementTextChanged,
    agreement_row,
    list_agreement_rows,
    load_agreement,
    sync_agreements,
    version_row,
)
from bot.storage.communities import UnknownCommunity, add_community, require_community
from bot.storage.models import AgreementRow, AgreementVersionRow
from tests.storage.conftest import agreement, version


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def rows(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, int, str, bool, dict[str, str]]]]:
    async with sessions() as s:
        agreements = [
            (r.id, r.title, r.kind)
            for r in (await s.scalars(select(AgreementRow).order_by(AgreementRow.id))).all()
        ]
        versions = [
            (v.agreement_id, v.version, v.position, v.text_sha256, v.compatible, v.fields)
            for v in (
                await s.scalars(
                    select(AgreementVersionRow).order_by(
                        AgreementVersionRow.agreement_id, AgreementVersionRow.position
                    )
                )
            ).all()
        ]
    return agreements, versions


async def test_sync_publishes_exactly_the_agreements_and_versions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await sync_agreements(
            s, [agreement("icla", version("1.0"), version("2.0", compatible=False))]
        )
    assert await rows(sessions) == (
        [("icla", "The icla agreement", "individual")],
        [
            ("icla", "1.0", 0, sha("The text of 1.0."), True, {"name": "required"}),
            ("icla", "2.0", 1, sha("The text of 2.0."), False, {"name": "required"}),
        ],
    )


async def test_sync_again_updates_in_place_and_adds_new_versions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await sync_agreements(s, [agreement("icla", version("1.0"))])
    async with sessions() as s, s.begin():
        await sync_agreements(
            s,
            [
                agreement("icla", version("1.0", compatible=False), version("1.1"), title="New"),
                agreement("ccla", version("1.0")),
            ],
        )
    assert await rows(sessions) == (
        [("ccla", "The ccla agreement", "individual"), ("icla", "New", "individual")],
        [
            ("ccla", "1.0", 0, sha("The text of 1.0."), True, {"name": "required"}),
            ("icla", "1.0", 0, sha("The text of 1.0."), False, {"name": "required"}),
            ("icla", "1.1", 1, sha("The text of 1.1."), True, {"name": "required"}),
        ],
    )


async def test_a_changed_text_is_refused_with_both_digests_and_nothing_changes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await sync_agreements(s, [agreement("icla", version("1.0"))])
    before = await rows(sessions)
    with pytest.raises(AgreementTextChanged) as caught:
        async with sessions() as s, s.begin():
            await sync_agreements(s, [agreement("icla", version("1.0", "Edited."), title="X")])
    error = caught.value
    assert (error.agreement_id, error.version) == ("icla", "1.0")
    assert (error.old_sha256, error.new_sha256) == (sha("The text of 1.0."), sha("Edited."))
    assert await rows(sessions) == before


async def test_load_agreement_and_version_row(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        await sync_agreements(
            s, [agreement("icla", version("1.0"), version("2.0", compatible=False))]
        )
    async with sessions() as s:
        loaded = await load_agreement(s, "icla")
        unknown = await load_agreement(s, "nope")
        found = await version_row(s, "icla", "2.0")
        missing = await version_row(s, "icla", "3.0")
    assert loaded == Agreement(
        agreement_id="icla",
        title="The icla agreement",
        versions=(
            AgreementVersion("icla", "1.0", sha("The text of 1.0."), True),
            AgreementVersion("icla", "2.0", sha("The text of 2.0."), False),
        ),
    )
    assert unknown == Agreement(agreement_id="nope", title="nope", versions=())
    assert found is not None and (found.version, found.position) == ("2.0", 1)
    assert missing is None


async def test_two_communities_agreements_of_one_id_stay_apart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        await require_community(s, DEFAULT_COMMUNITY)
        await add_community(s, "mindspore", "MindSpore")
    async with sessions() as s, s.begin():
        await sync_agreements(s, [agreement("icla", version("1.0"))])
        await sync_agreements(
            s,
            [agreement("icla", version("1.0", "MindSpore's text."), version("2.0"), title="MS")],
            community="mindspore",
        )
    # Syncing one community again (another title, a version less, a text changed there) never
    # touches the other's rows.
    async with sessions() as s, s.begin():
        await sync_agreements(s, [agreement("icla", version("1.0"), title="Default's")])
    with pytest.raises(AgreementTextChanged) as caught:
        async with sessions() as s, s.begin():
            await sync_agreements(s, [agreement("icla", version("1.0", "Edited."))])
    assert caught.value.community == DEFAULT_COMMUNITY
    assert str(caught.value).startswith("the text of agreement 'icla' version '1.0' changed")
    with pytest.raises(AgreementTextChanged) as caught:
        async with sessions() as s, s.begin():
            await sync_agreements(
                s, [agreement("icla", version("1.0", "Edited."))], community="mindspore"
            )
    assert caught.value.community == "mindspore"
    assert str(caught.value).startswith(
        "the text of agreement 'icla' of community 'mindspore' version '1.0' changed"
    )
    async with sessions() as s:
        rows = [
            (r.community_id, r.id, r.title)
            for r in (
                await s.scalars(select(AgreementRow).order_by(AgreementRow.community_id))
            ).all()
        ]
        versions = [
            (v.community_id, v.agreement_id, v.version, v.text_sha256)
            for v in (
                await s.scalars(
                    select(AgreementVersionRow).order_by(
                        AgreementVersionRow.community_id, AgreementVersionRow.position
                    )
                )
            ).all()
        ]
        default = await load_agreement(s, "icla")
        mindspore = await load_agreement(s, "icla", community="mindspore")
        ms_two = await version_row(s, "icla", "2.0", community="mindspore")
        default_two = await version_row(s, "icla", "2.0")
        listed = [(r.community_id, r.id) for r in await list_agreement_rows(s)]
        listed_ms = [
            (r.community_id, r.id) for r in await list_agreement_rows(s, community="mindspore")
        ]
        ms_row = await agreement_row(s, "icla", community="mindspore")
        elsewhere = await agreement_row(s, "icla", community="nowhere")
    assert rows == [("default", "icla", "Default's"), ("mindspore", "icla", "MS")]
    assert versions == [
        ("default", "icla", "1.0", sha("The text of 1.0.")),
        ("mindspore", "icla", "1.0", sha("MindSpore's text.")),
        ("mindspore", "icla", "2.0", sha("The text of 2.0.")),
    ]
    assert default == Agreement(
        "icla", "Default's", (AgreementVersion("icla", "1.0", sha("The text of 1.0."), True),)
    )
    assert mindspore == Agreement(
        "icla",
        "MS",
        (
            AgreementVersion("icla", "1.0", sha("MindSpore's text."), True),
            AgreementVersion("icla", "2.0", sha("The text of 2.0."), True),
        ),
    )
    assert ms_two is not None and ms_two.community_id == "mindspore"
    assert default_two is None
    assert listed == [("default", "icla")]
    assert listed_ms == [("mindspore", "icla")]
    assert ms_row is not None and ms_row.title == "MS"
    assert elsewhere is None


async def test_agreements_of_a_community_not_stored_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(UnknownCommunity, match="no community 'mindspore'"):
        async with sessions() as s, s.begin():
            await sync_agreements(s, [agreement("icla", version("1.0"))], community="mindspore")
    assert await rows(sessions) == ([], [])
