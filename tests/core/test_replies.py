"""Replies to comment commands: erasure asks first, replies name fields and counts only, and
the reply templates are validated (known placeholders only, the required ones present)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core import replies
from bot.core.coverage import ContributorResult, Coverage, Verdict
from bot.core.identity import Contributor, Identity
from bot.core.model import Role
from bot.core.replies import ErasureSummary, Tombstone
from bot.platforms.github.facts import GITHUB

ROOT = Path(__file__).resolve().parents[2]
TEXTS = {
    p.stem: p.read_text("utf-8")
    for p in (ROOT / "templates/comments").glob("*.md")
    if p.stem in replies.REPLY_KEYS
}
MARKER = replies.reply_marker(77, "delete-my-data")
STATUS_MARKER = replies.reply_marker(7, "status")

EVERYTHING = ErasureSummary(
    contact_fields=("name", "address", "phone", "fax"),
    emails=2,
    accounts=1,
    signatory_fields=("name", "title", "email"),
    companies=1,
    manager_roles=2,
    entries_added=3,
    entries_naming=1,
    pr_records=4,
    sessions=2,
    job_payloads=1,
    kept=(Tombstone("individual", "1.0", "2024-01-02", "2025-03-04"),),
)


def test_shipped_reply_templates_are_valid() -> None:
    assert replies.validate_replies(TEXTS) == dict(TEXTS)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"reply_erase_request": "@$login, $erased $kept"},
            "reply_erase_request: missing $expires",
        ),
        ({"reply_erased": "@$login $erased $kept $email"}, "reply_erased: unknown $email"),
        ({"reply_erase_expired": "@$login"}, "reply_erase_expired: missing $requested"),
        ({"reply_help": "$"}, "reply_help: invalid"),
    ],
)
def test_a_bad_reply_template_is_refused(change: dict[str, str], problem: str) -> None:
    with pytest.raises(replies.ReplyTemplateError) as caught:
        replies.validate_replies({**TEXTS, **change})
    assert problem in str(caught.value)


def test_a_missing_reply_template_is_refused() -> None:
    texts = {k: v for k, v in TEXTS.items() if k != "reply_erase_unconfirmed"}
    with pytest.raises(replies.ReplyTemplateError, match="missing: reply_erase_unconfirmed"):
        replies.validate_replies(texts)


def test_the_request_says_what_would_go_and_how_to_confirm_without_erasing() -> None:
    body = replies.erase_request(
        TEXTS, marker=MARKER, login="olive", summary=EVERYTHING, expires="2025-03-05 10:00 UTC"
    )
    assert body.startswith(MARKER + "\n") and body.endswith("\n")
    assert "@olive" in body
    assert "`/cla delete-my-data confirm`" in body and "2025-03-05 10:00 UTC" in body
    assert "nothing has been erased" in body.lower()
    assert "has been erased as you asked" not in body
    for line in (
        "- contact details: name, address, phone, fax",
        "- 2 email address(es) and their lookup index",
        "- 1 linked account(s)",
        "- the signatory details of 1 corporate CLA(s): name, title, email",
        "- 2 company manager role(s)",
        "- 1 company list entry(ies) naming you",
        "- your account on 3 company list entry(ies) you added (replaced by a keyed hash)",
        "- 4 record(s) of pull requests you contributed to",
        "- 2 signed-in browser session(s)",
        "- what 1 queued job(s) held about you",
    ):
        assert f"\n{line}\n" in body, line
    assert (
        "- a record that version 1.0 of `individual` was signed on 2024-01-02 and erased on "
        "2025-03-04, with a keyed hash of your account (no contact data)"
    ) in body
    assert "- 1 corporate CLA(s) you signed, without your details" in body


def test_the_erased_reply_lists_what_went_and_what_stayed() -> None:
    body = replies.erased(TEXTS, marker=MARKER, login="olive", summary=EVERYTHING)
    assert body.startswith(MARKER + "\n") and "@olive, your data has been erased" in body
    assert "\n- 2 signed-in browser session(s)\n" in body
    assert "version 1.0 of `individual`" in body


def test_an_empty_summary_lists_none() -> None:
    summary = ErasureSummary(accounts=1)
    assert not summary.empty and ErasureSummary().empty
    body = replies.erased(TEXTS, marker=MARKER, login="x", summary=summary)
    assert "**Kept**" in body and "- (none)" in body


@pytest.mark.parametrize(
    ("render", "needle"),
    [
        (
            lambda: replies.erase_unconfirmed(TEXTS, marker=MARKER, login="olive"),
            "no erasure request of yours",
        ),
        (
            lambda: replies.erase_expired(
                TEXTS, marker=MARKER, login="olive", requested="2025-03-01 09:00 UTC"
            ),
            "2025-03-01 09:00 UTC",
        ),
    ],
)
def test_a_confirm_that_cannot_be_acted_on_says_nothing_changed(
    render: object, needle: str
) -> None:
    body = render()  # type: ignore[operator]
    assert body.startswith(MARKER + "\n") and needle in body
    assert "nothing was erased" in body.lower() and "`/cla delete-my-data`" in body


def person(i: int, login: str | None) -> ContributorResult:
    identity = Identity(platform=GITHUB, account_id=str(i), login=login)
    contributor = Contributor(identity, frozenset({Role.AUTHOR}), ("a" * 40,), ())
    return ContributorResult(contributor, Verdict.UNSIGNED, None, True)


@pytest.mark.parametrize(
    ("people", "listed", "more"),
    [
        (0, 0, None),
        (3, 3, None),
        (50, 50, None),
        (51, 50, "- and 1 more"),
        (200, 50, "- and 150 more"),
    ],
)
def test_the_status_of_a_pr_lists_at_most_50_people(
    people: int, listed: int, more: str | None
) -> None:
    lines = replies.coverage_lines(Coverage(tuple(person(i, f"u{i}") for i in range(people))))
    body = replies.status_pr(TEXTS, marker=STATUS_MARKER, login="mia", lines=lines)
    assert re.findall(r"@u\d+", body) == [f"@u{i}" for i in range(listed)]
    assert re.findall(r"^- and \d+ more$", body, flags=re.MULTILINE) == ([more] if more else [])
    assert body.startswith(STATUS_MARKER + "\n@mia, ")


def test_the_status_names_an_unconfirmed_account_without_a_mention() -> None:
    lines = replies.coverage_lines(Coverage((person(583231, None),)))
    assert lines == ["`github:583231`: must sign"]
    body = replies.status_pr(TEXTS, marker=STATUS_MARKER, login="mia", lines=lines)
    assert re.findall(r"@\w+", body) == ["@mia"]


def test_a_company_name_never_mentions_anyone() -> None:
    from datetime import UTC, datetime

    from bot.core.model import SignatureFact

    fact = SignatureFact(
        0, "corporate", "1.0", datetime(2024, 1, 1, tzinfo=UTC), True, "Evil @torvalds <b>Inc</b>"
    )
    signed = ContributorResult(person(5, "dev").contributor, Verdict.SIGNED, fact, False)
    (line,) = replies.coverage_lines(Coverage((signed,)))
    assert (
        line
        == "@dev: covered: version 1.0 (corporate, through Evil torvalds bIncb) since 2024-01-01"
    )
    standing = replies.Standing(
        "dev", True, "CLA", "1.0", "2024-01-01", company="Evil @torvalds <b>Inc</b>"
    )
    assert replies.describe(standing) == (
        "@dev is covered by the CLA, version 1.0 (corporate, through Evil torvalds bIncb), "
        "since 2024-01-01."
    )


@pytest.mark.parametrize(
    ("verdict", "blocking", "expected"),
    [
        (
            Verdict.ALLOWLISTED,
            False,
            "GitHub Copilot coding agent: covered: an AI agent, needs no signature",
        ),
        (
            Verdict.UNSIGNED,
            False,
            "GitHub Copilot coding agent: AI agent, not covered (not blocking)",
        ),
        (Verdict.UNSIGNED, True, "GitHub Copilot coding agent: AI agent, not covered"),
    ],
)
def test_the_status_names_an_ai_agent_without_a_mention(
    verdict: Verdict, blocking: bool, expected: str
) -> None:
    copilot = person(198982749, "Copilot").contributor
    result = ContributorResult(copilot, verdict, None, blocking, "GitHub Copilot coding agent")
    assert replies.coverage_lines(Coverage((result,))) == [expected]


# --- languages -------------------------------------------------------------------------------

ZH_TEXTS = {
    f"zh/{p.stem}": p.read_text("utf-8")
    for p in (ROOT / "templates/comments/zh").glob("*.md")
    if p.stem in replies.REPLY_KEYS
}
BOTH = replies.validate_replies({**TEXTS, **ZH_TEXTS})
HELP = replies.reply_marker(9, "unknown")
EN_HELP = """@olive, the CLA bot does not know `/cla sign`. It understands, one per line:

- `/cla check` (or `/check-cla`, or `recheck` alone): check this pull request again (anyone)
- `/cla status @login`: whether someone is covered by the CLA (maintainers)
- `/cla export-my-data`: where to see and download your data
- `/cla delete-my-data`: erase your own data (the bot says what it would erase; \
`/cla delete-my-data confirm` then erases it)"""
ZH_HELP = """@olive，CLA 机器人不认识 `/cla sign`。它支持以下命令（每行一条）：

- `/cla check`（或 `/check-cla`，或单独的 `recheck`）：重新检查本 Pull Request（任何人）
- `/cla status @login`：查询某人是否受 CLA 覆盖（维护者）
- `/cla export-my-data`：查看和下载您的数据的位置
- `/cla delete-my-data`：删除您本人的数据（机器人会先说明将删除哪些内容，再评论 \
`/cla delete-my-data confirm` 即可删除）"""


def in_languages(marker: str, *parts: str) -> str:
    return marker + "\n" + "\n\n---\n\n".join(parts) + "\n"


def test_the_shipped_replies_are_valid_in_both_languages() -> None:
    assert set(ZH_TEXTS) == {f"zh/{key}" for key in replies.REPLY_KEYS}
    assert BOTH == {**TEXTS, **ZH_TEXTS}
    assert replies.reply_languages(BOTH) == ("en", "zh")
    assert replies.reply_languages(TEXTS) == ("en",)


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (("en",), in_languages(HELP, EN_HELP)),
        (("zh",), in_languages(HELP, ZH_HELP)),
        (("zh", "en"), in_languages(HELP, ZH_HELP, EN_HELP)),
        (("en", "zh"), in_languages(HELP, EN_HELP, ZH_HELP)),
    ],
)
def test_the_help_reply_in_one_or_two_languages(languages: tuple[str, ...], expected: str) -> None:
    body = replies.help_text(BOTH, marker=HELP, login="olive", word="sign", languages=languages)
    assert body == replies.HELP_MARKER + "\n" + expected
    assert body.count(HELP) == 1 and body.count(replies.HELP_MARKER) == 1


def test_english_by_default_is_the_same_reply_as_before() -> None:
    body = replies.help_text(TEXTS, marker=HELP, login="olive", word="sign")
    assert body == replies.HELP_MARKER + "\n" + in_languages(HELP, EN_HELP)
    assert replies.help_text(BOTH, marker=HELP, login="olive", word="sign") == body


def test_the_status_of_a_pr_in_chinese_then_english() -> None:
    from datetime import UTC, datetime

    from bot.core.model import SignatureFact

    fact = SignatureFact(0, "individual", "2.0", datetime(2024, 5, 6, tzinfo=UTC), True, None)
    signed = ContributorResult(person(1, "ann").contributor, Verdict.SIGNED, fact, False)
    coverage = Coverage((signed, person(2, "bob")))
    body = replies.status_pr(
        BOTH,
        marker=STATUS_MARKER,
        login="mia",
        lines=lambda lang: replies.coverage_lines(coverage, lang),
        languages=("zh", "en"),
    )
    assert body == in_languages(
        STATUS_MARKER,
        "@mia，本 Pull Request 贡献者的 CLA 状态如下：\n\n"
        "- @ann：已覆盖：2.0 版（个人签署），自 2024-05-06 起\n"
        "- @bob：须签署",
        "@mia, the CLA status of this pull request's contributors:\n\n"
        "- @ann: covered: version 2.0 (individual) since 2024-05-06\n"
        "- @bob: must sign",
    )
    none = replies.status_pr(
        BOTH, marker=STATUS_MARKER, login="mia", lines=replies.no_cla_lines, languages=("zh",)
    )
    assert none == in_languages(
        STATUS_MARKER, "@mia，本 Pull Request 贡献者的 CLA 状态如下：\n\n- 本仓库未配置 CLA"
    )
    assert replies.no_cla_lines() == ["no CLA is configured for this repository"]


def test_the_cap_counts_people_once_in_a_reply_in_two_languages() -> None:
    coverage = Coverage(tuple(person(i, f"u{i}") for i in range(53)))
    body = replies.status_pr(
        BOTH,
        marker=STATUS_MARKER,
        login="mia",
        lines=lambda lang: replies.coverage_lines(coverage, lang),
        languages=("en", "zh"),
    )
    english, chinese = body.split("\n\n---\n\n")
    shown = [f"@u{i}" for i in range(50)]
    assert re.findall(r"@u\d+", english) == shown == re.findall(r"@u\d+", chinese)
    assert re.findall(r"^- and \d+ more$", english, flags=re.MULTILINE) == ["- and 3 more"]
    assert re.findall(r"^- 以及另外 \d+ 人$", chinese, flags=re.MULTILINE) == ["- 以及另外 3 人"]


def test_one_persons_standing_in_chinese() -> None:
    standing = replies.Standing("dev", True, "Example CLA", "1.0", "2024-01-01", company=None)
    body = replies.status_one(
        BOTH, marker=STATUS_MARKER, login="mia", standing=standing, languages=("zh", "en")
    )
    assert body == in_languages(
        STATUS_MARKER,
        "@mia，@dev 自 2024-01-01 起受 Example CLA 覆盖（1.0 版，个人签署）。",
        "@mia, @dev is covered by the Example CLA, version 1.0 (individual), since 2024-01-01.",
    )
    missing = replies.Standing("dev", False, "Example CLA", platform_name="Gitee")
    assert replies.describe(missing, "zh") == "@dev 在 Gitee 上没有 Example CLA 的签署记录。"
    corporate = replies.Standing("dev", True, "CLA", "1.0", "2024-01-01", company="Acme @x Inc")
    assert replies.describe(corporate, "zh") == (
        "@dev 自 2024-01-01 起受 CLA 覆盖（1.0 版，企业签署，通过 Acme x Inc）。"
    )


def test_the_erasure_request_in_chinese_lists_the_same_items() -> None:
    body = replies.erase_request(
        BOTH,
        marker=MARKER,
        login="olive",
        summary=EVERYTHING,
        expires="2025-03-05 10:00 UTC",
        languages=("zh", "en"),
    )
    chinese, english = body.removeprefix(MARKER + "\n").split("\n\n---\n\n")
    assert body.count(MARKER) == 1
    assert chinese.startswith("@olive，您请求 CLA 机器人删除您的数据。目前尚未删除任何数据。")
    for line in (
        "- 联系信息：name, address, phone, fax",
        "- 2 个邮箱地址及其查询索引",
        "- 1 个关联账号",
        "- 1 份企业 CLA 中的签署人信息：name, title, email",
        "- 2 个公司管理员角色",
        "- 公司名单中列出您的 1 个条目",
        "- 您添加的 3 个公司名单条目上的账号（替换为带密钥的哈希值）",
        "- 4 条您参与贡献的 Pull Request 记录",
        "- 2 个已登录的浏览器会话",
        "- 1 个排队任务中保存的关于您的信息",
        "- 一条记录：`individual` 的 1.0 版于 2024-01-02 签署、于 2025-03-04 删除，"
        "附带您账号的带密钥哈希值（不含联系信息）",
    ):
        assert f"\n{line}\n" in chinese, line
    assert "`/cla delete-my-data confirm`" in chinese and "2025-03-05 10:00 UTC" in chinese
    assert english == replies.erase_request(
        TEXTS, marker=MARKER, login="olive", summary=EVERYTHING, expires="2025-03-05 10:00 UTC"
    ).removeprefix(MARKER + "\n")
    empty = replies.erased(
        BOTH, marker=MARKER, login="x", summary=ErasureSummary(accounts=1), languages=("zh",)
    )
    assert "\n- 1 个关联账号\n" in empty and "\n- （无）\n" in empty


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"zh/reply_help": "$"}, "zh/reply_help: invalid placeholder syntax"),
        ({"zh/reply_erased": "@$login $erased"}, "zh/reply_erased: missing $kept"),
        ({"zh/reply_export": "@$login $me_url $email"}, "zh/reply_export: unknown $email"),
        ({"zh/reply_status_one": None}, "zh: missing: zh/reply_status_one"),
        ({"EN/reply_help": "@$login"}, "EN/: not a language folder"),
    ],
)
def test_a_bad_reply_template_in_another_language_is_named_by_language(
    change: dict[str, str | None], problem: str
) -> None:
    texts = {k: v for k, v in {**TEXTS, **ZH_TEXTS, **change}.items() if v is not None}
    with pytest.raises(replies.ReplyTemplateError) as caught:
        replies.validate_replies(texts)
    assert problem in str(caught.value)


def test_a_reply_in_a_language_without_texts_is_refused_by_name() -> None:
    with pytest.raises(replies.ReplyTemplateError, match="no reply templates in language 'zh'"):
        replies.export_link(TEXTS, marker=MARKER, login="o", me_url="u", languages=("en", "zh"))
