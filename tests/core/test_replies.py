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
