from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core import replies
from bot.core.coverage import ContributorResult, Coverage, Verdict
from bot.core.identity import Contributor, Identity
from bot.core.model import Platform, Role

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "comments"
TEXTS = {path.stem: path.read_text(encoding="utf-8") for path in TEMPLATE_DIR.glob("*.md")}
MARKER = replies.reply_marker(7, "status")


def person(i: int, login: str | None) -> ContributorResult:
    identity = Identity(platform=Platform.GITHUB, account_id=str(i), login=login)
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
    body = replies.status_pr(TEXTS, marker=MARKER, login="mia", lines=lines)
    assert re.findall(r"@u\d+", body) == [f"@u{i}" for i in range(listed)]
    assert re.findall(r"^- and \d+ more$", body, flags=re.MULTILINE) == ([more] if more else [])
    assert body.startswith(MARKER + "\n@mia, ")


def test_the_status_names_an_unconfirmed_account_without_a_mention() -> None:
    lines = replies.coverage_lines(Coverage((person(583231, None),)))
    assert lines == ["`github:583231`: must sign"]
    body = replies.status_pr(TEXTS, marker=MARKER, login="mia", lines=lines)
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
