"""Comment commands on the real database with a recording forge: for each command, exactly
the replies the bot writes, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.core.communities import DEFAULT_COMMUNITY
from bot.core.model import StatusState
from bot.services.checks.config import Scopes
from bot.storage.models import ErasureRequest, JobKind, Signer
from tests.services.conftest import (
    AMY,
    BEA,
    MAINTAINER,
    REPO,
    Bot,
    add_labels,
    blocked,
    create_comment,
    remove_label,
    set_status,
)

SUCCESS, FAILURE = StatusState.SUCCESS, StatusState.FAILURE
TODAY = datetime.now(UTC).date().isoformat()
HELP = (
    "It understands, one per line:\n\n"
    "- `/cla check` (or `/check-cla`, or `recheck` alone): check this pull request again "
    "(anyone)\n"
    "- `/cla status @login`: whether someone is covered by the CLA (maintainers)\n"
    "- `/cla export-my-data`: where to see and download your data\n"
    "- `/cla delete-my-data`: erase your own data (the bot says what it would erase; "
    "`/cla delete-my-data confirm` then erases it)\n"
)


def reply(comment_id: int, command: str, text: str) -> str:
    return f"<!-- cla-bot:reply:{comment_id}:{command} -->\n{text}\n"


@pytest.mark.parametrize("body", ["/cla check", "recheck", "/check-cla", "/CLA Check please"])
async def test_a_check_command_runs_the_check_and_writes_only_its_result(
    bot: Bot, body: str
) -> None:
    pr = bot.open_pr(1, AMY)
    await bot.comment(1, BEA, body)
    assert bot.forge.writes() == [
        set_status(1, pr.head_sha, FAILURE, "1 contributor must sign the CLA"),
        add_labels(1, "cla/no"),
        create_comment(1, blocked(1, "amy")),
    ]


async def test_status_of_a_login_answers_a_maintainer(bot: Bot) -> None:
    await bot.sign(BEA)
    bot.open_pr(1, AMY)
    bot.forge.set_permission(REPO, MAINTAINER.login, "write")
    asked = await bot.comment(1, MAINTAINER, "/cla status @bea")
    unknown = await bot.comment(1, MAINTAINER, "/cla status @nobody")
    assert bot.forge.writes() == [
        create_comment(
            1,
            reply(
                asked,
                "status",
                "@mona, @bea is covered by the Individual Contributor License Agreement, "
                f"version 1.0 (individual), since {TODAY}.",
            ),
        ),
        create_comment(
            1,
            reply(
                unknown,
                "status",
                "@mona, @nobody has no signature of the Individual Contributor License "
                "Agreement on record on GitHub.",
            ),
        ),
    ]


@pytest.mark.parametrize("permission", ["read", "none"])
async def test_status_is_refused_to_someone_without_write_access(bot: Bot, permission: str) -> None:
    await bot.sign(BEA)
    bot.open_pr(1, AMY)
    bot.forge.set_permission(REPO, AMY.login, permission)
    asked = await bot.comment(1, AMY, "/cla status @bea")
    assert bot.forge.writes() == [
        create_comment(
            1,
            reply(
                asked,
                "status",
                "@amy, only people with write access to this repository can ask for "
                "someone's CLA status.",
            ),
        )
    ]


async def _expiry(bot: Bot) -> str:
    async with bot.sessions() as s:
        [expires] = (await s.scalars(select(ErasureRequest.expires_at))).all()
    return expires.replace(tzinfo=expires.tzinfo or UTC).strftime("%Y-%m-%d %H:%M UTC")


async def test_delete_my_data_asks_first_and_confirm_erases_and_rechecks(bot: Bot) -> None:
    await bot.sign(AMY)
    pr = bot.open_pr(1, AMY)
    await bot.check(1)
    assert bot.forge.writes() == [
        set_status(1, pr.head_sha, SUCCESS, "All contributors are covered by the CLA"),
        add_labels(1, "cla/yes"),
    ]
    bot.forge.calls.clear()
    would = (
        "- contact details: name, address, phone\n"
        "- 1 email address(es) and their lookup index\n"
        "- 1 linked account(s)\n"
        "- 2 record(s) of pull requests you contributed to\n\n"  # by account id, by email
    )
    kept = (
        f"- a record that version 1.0 of `individual` was signed on {TODAY} and erased on "
        f"{TODAY}, with a keyed hash of your account (no contact data)"
    )

    asked = await bot.comment(1, AMY, "/cla delete-my-data")
    request = reply(
        asked,
        "delete-my-data",
        "@amy, you asked the CLA bot to erase your data. Nothing has been erased yet.\n\n"
        f"**This would erase:**\n{would}"
        "**This would keep** (so the community can still show that your past contributions "
        f"were licensed):\n{kept}\n\n"
        "To go ahead, comment `/cla delete-my-data confirm` (from this same account, on any "
        f"pull request the bot checks) before {await _expiry(bot)}. Without it, nothing changes.",
    )
    assert bot.forge.writes() == [create_comment(1, request)]
    async with bot.sessions() as s:
        assert len((await s.scalars(select(Signer))).all()) == 1  # nothing erased yet
    bot.forge.calls.clear()

    confirmed = await bot.comment(1, AMY, "/cla delete-my-data confirm")
    done = reply(
        confirmed,
        "delete-my-data",
        "@amy, your data has been erased as you asked.\n\n"
        f"**Erased:**\n{would}"
        "**Kept** (so the community can still show that your past contributions were "
        f"licensed):\n{kept}\n\n"
        "Your open pull requests are being checked again and will show the CLA as required.",
    )
    assert bot.forge.writes() == [
        create_comment(1, done),
        set_status(1, pr.head_sha, FAILURE, "1 contributor must sign the CLA"),
        add_labels(1, "cla/no"),
        remove_label(1, "cla/yes"),
        create_comment(1, blocked(1, "amy")),
    ]


async def test_confirm_without_a_request_erases_nothing(bot: Bot) -> None:
    await bot.sign(AMY)
    bot.open_pr(1, AMY)
    confirmed = await bot.comment(1, AMY, "/cla delete-my-data confirm")
    assert bot.forge.writes() == [
        create_comment(
            1,
            reply(
                confirmed,
                "delete-my-data",
                "@amy, there is no erasure request of yours to confirm, so nothing was erased. "
                "Comment `/cla delete-my-data` first: the bot answers with what it would erase, "
                "then you confirm within 24 hours. Only the person who asked can confirm.",
            ),
        )
    ]
    async with bot.sessions() as s:
        assert len((await s.scalars(select(Signer))).all()) == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [("/cla frobnicate", "`/cla frobnicate`"), ("/cla help", "`/cla help`"), ("/cla", "`/cla`")],
)
async def test_an_unknown_command_gets_the_help_once_per_pr(
    bot: Bot, body: str, named: str
) -> None:
    bot.open_pr(1, AMY)
    bot.open_pr(2, AMY)
    first = await bot.comment(1, AMY, body)
    await bot.comment(1, BEA, "/cla what")
    other_pr = await bot.comment(2, BEA, "/cla what")
    assert bot.forge.writes() == [
        create_comment(
            1,
            "<!-- cla-bot:help -->\n"
            + reply(first, "unknown", f"@amy, the CLA bot does not know {named}. {HELP}")[:-1],
        ),
        create_comment(
            2,
            "<!-- cla-bot:help -->\n"
            + reply(other_pr, "unknown", f"@bea, the CLA bot does not know `/cla what`. {HELP}")[
                :-1
            ],
        ),
    ]


async def test_export_my_data_points_to_the_self_service_page(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    asked = await bot.comment(1, BEA, "/cla export-my-data")
    assert bot.forge.writes() == [
        create_comment(
            1,
            reply(
                asked,
                "export-my-data",
                "@bea, your data is never posted here. Sign in at https://cla.example.org/me to "
                "see everything the CLA bot holds about you and download a copy (JSON).",
            ),
        )
    ]


@pytest.mark.parametrize("body", ["thanks!", "> /cla check", "```\n/cla status\n```"])
async def test_a_comment_without_a_command_writes_nothing(bot: Bot, body: str) -> None:
    bot.open_pr(1, AMY)
    await bot.comment(1, BEA, body)
    assert bot.forge.calls == []


async def test_a_command_job_run_again_finds_its_reply_and_writes_nothing(bot: Bot) -> None:
    bot.open_pr(1, AMY)
    asked = await bot.comment(1, BEA, "/cla export-my-data")
    assert [c.method for c in bot.forge.writes()] == ["create_comment"]
    bot.forge.calls.clear()
    payload = {
        "comment_id": asked,
        "author": {"login": BEA.login, "id": int(BEA.account_id)},
        "commands": [["export-my-data", None]],
    }
    await bot.enqueue(JobKind.COMMAND, 1, payload, key="a-retry-of-the-same-comment")
    assert await bot.run_jobs() == 1
    assert bot.forge.writes() == []
    assert len(bot.forge.comments_on(REPO, 1)) == 2  # the command and its one reply


@pytest.mark.parametrize("body", ["/cla status", "/cla status @bea"])
async def test_status_in_a_repository_no_community_covers_says_no_cla(
    make_bot: Callable[..., Bot], body: str
) -> None:
    bot = make_bot(scopes=Scopes({"mindspore": make_bot().checks.policy}, lambda _repo: None))
    await bot.sign(BEA)
    bot.open_pr(1, AMY)
    bot.forge.set_permission(REPO, MAINTAINER.login, "write")
    asked = await bot.comment(1, MAINTAINER, body)
    assert bot.forge.writes() == [
        create_comment(
            1,
            reply(
                asked,
                "status",
                "@mona, the CLA status of this pull request's contributors:\n\n"
                "- no CLA is configured for this repository",
            ),
        )
    ]


async def test_status_of_a_login_is_told_for_the_repository_s_community(
    make_bot: Callable[..., Bot],
) -> None:
    """A signature of another community's agreement of the same name does not count."""
    base = make_bot().checks.policy
    bot = make_bot(
        scopes=Scopes({DEFAULT_COMMUNITY: base, "mindspore": base}, lambda _repo: "mindspore")
    )
    await bot.add_community("mindspore", base)
    await bot.sign(BEA)  # the default community's
    bot.open_pr(1, AMY)
    bot.forge.set_permission(REPO, MAINTAINER.login, "write")
    before = await bot.comment(1, MAINTAINER, "/cla status @bea")
    await bot.sign(BEA, community="mindspore")
    after = await bot.comment(1, MAINTAINER, "/cla status @bea")
    assert bot.forge.writes() == [
        create_comment(
            1,
            reply(
                before,
                "status",
                "@mona, @bea has no signature of the Individual Contributor License "
                "Agreement on record on GitHub.",
            ),
        ),
        create_comment(
            1,
            reply(
                after,
                "status",
                "@mona, @bea is covered by the Individual Contributor License Agreement, "
                f"version 1.0 (individual), since {TODAY}.",
            ),
        ),
    ]
