"""Importing other bots' exports: cla-assistant (JSON and its CSV download) and CLA Assistant
Lite's cla.json. Everything is checked first, bad rows are reported by position without their
values, nothing is half-imported, and what could not be mapped is said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.github.facts import FACTS as GITHUB
from bot.services import importers
from bot.services.importers import ForeignImport, Options

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
OPTS = Options(agreement="individual", version="1.0")


def parse(fmt: str, text: str, policy: Any, options: Options) -> ForeignImport:
    """Both formats are GitHub's: its accounts, as the command line says."""
    return importers.parse(fmt, text, policy, options, GITHUB)


def test_cla_assistant_json_maps_what_it_holds(make_settings: Any, sqlite_url: str) -> None:
    text = (FIXTURES / "cla-assistant.json").read_text()
    result = parse("cla-assistant", text, make_settings(sqlite_url).policy, OPTS)
    assert result.fatal is None and result.problems == [] and result.total == 5
    by_id = {r.account_id: r for r in result.rows}
    assert set(by_id) == {"48213907", "7730215", "55018342"}  # revoked one left out, dupes merged
    ingrid = by_id["48213907"]
    assert (ingrid.platform, ingrid.login, ingrid.email, ingrid.name) == (
        "github",
        "maplewood-dev",
        "ingrid.vh@example.org",
        "Ingrid Vasquez-Holm",
    )
    assert ingrid.signed_at.isoformat() == "2020-11-20T08:45:00+00:00"  # the latest of two
    assert by_id["55018342"].email is None and by_id["55018342"].name is None
    said = "\n".join(result.unmapped())
    assert "revoked signatures, not imported: 1" in said
    assert "1 URL(s), 2 version(s)" in said
    assert "country (3)" in said and "employer (1)" in said
    assert "merged" in said
    assert "Norway" not in said and "Brightwater" not in said


def test_cla_assistant_csv_download_has_no_ids_so_rows_map_by_email(
    make_settings: Any, sqlite_url: str
) -> None:
    text = (FIXTURES / "cla-assistant.csv").read_text()
    result = parse("cla-assistant", text, make_settings(sqlite_url).policy, OPTS)
    assert result.fatal is None and result.total == 4
    assert [str(p) for p in result.problems] == [
        "line 4: no numeric user id and no email: a login alone cannot be matched safely "
        "(logins change hands)"
    ]
    assert all(r.account_id is None and r.platform is None and r.email for r in result.rows)
    assert {r.name for r in result.rows} == {
        "Ingrid Vasquez-Holm",
        "Tomasz Quillon",
        "Dmitri Halvorsen",
    }
    assert "logins of rows matched by email only, not kept: 3" in result.unmapped()


def test_cla_assistant_lite(make_settings: Any, sqlite_url: str) -> None:
    text = (FIXTURES / "cla-assistant-lite.json").read_text()
    result = parse("cla-assistant-lite", text, make_settings(sqlite_url).policy, OPTS)
    assert result.fatal is None and result.problems == [] and result.total == 3
    assert [(r.account_id, r.login, r.name) for r in result.rows] == [
        ("48213907", "maplewood-dev", None),
        ("90421736", "kestrel-ops", None),
        ("3318820", "juniper-w", None),
    ]
    assert result.unmapped() == [
        "signing comments (comment_id, repoId, pullRequestNo), not kept as evidence: 3"
    ]


@pytest.mark.parametrize(
    ("fmt", "text", "fatal"),
    [
        ("cla-assistant-lite", "not json", "not JSON"),
        ("cla-assistant-lite", '{"contributors": []}', "signedContributors"),
        ("cla-assistant", "", "empty"),
        ("cla-assistant", "a;b;c\n1;2;3\n", "no user column"),
        ("cla-assistant", '{"foo": 1}', "expected a JSON array"),
    ],
)
def test_unreadable_files_are_refused_whole(
    make_settings: Any, sqlite_url: str, fmt: str, text: str, fatal: str
) -> None:
    result = parse(fmt, text, make_settings(sqlite_url).policy, OPTS)
    assert result.fatal is not None and fatal in result.fatal and result.rows == []


def test_unknown_agreement_version_is_refused(make_settings: Any, sqlite_url: str) -> None:
    text = (FIXTURES / "cla-assistant-lite.json").read_text()
    result = parse(
        "cla-assistant-lite",
        text,
        make_settings(sqlite_url).policy,
        Options(agreement="individual", version="9.9"),
    )
    assert result.fatal and "no version '9.9'" in result.fatal


def test_bad_lite_entries_are_reported_by_position_without_values(
    make_settings: Any, sqlite_url: str
) -> None:
    data = json.loads((FIXTURES / "cla-assistant-lite.json").read_text())
    data["signedContributors"][1]["id"] = "secret-login-ish"
    data["signedContributors"][2]["created_at"] = "last tuesday"
    data["signedContributors"].append("nonsense")
    result = parse("cla-assistant-lite", json.dumps(data), make_settings(sqlite_url).policy, OPTS)
    problems = [str(p) for p in result.problems]
    assert problems == [
        "entry 2: no numeric GitHub account id (id)",
        "entry 3: created_at is missing or not a time",
        "entry 4: not an object",
    ]
    assert "secret-login-ish" not in "".join(problems) and "tuesday" not in "".join(problems)


def test_mongoexport_lines_and_dates(make_settings: Any, sqlite_url: str) -> None:
    lines = [
        {
            "user": "ab",
            "userId": {"$numberLong": "12"},
            "created_at": {"$date": "2020-01-01T00:00:00Z"},
        },
        {"user": "cd", "userId": 13, "created_at": {"$date": {"$numberLong": "1577836800000"}}},
        {
            "user": "ef",
            "userId": "14",
            "created_at": "Wed, 01 Jan 2020 00:00:00 GMT",
            "end_at": "2000-01-01",
        },
        {"user": "gh", "userId": "x", "created_at": "2020-01-01"},
    ]
    text = "\n".join(json.dumps(x) for x in lines)
    result = parse("cla-assistant", text, make_settings(sqlite_url).policy, OPTS)
    assert [r.account_id for r in result.rows] == ["12", "13"]
    assert {r.signed_at.year for r in result.rows} == {2020}
    assert [str(p) for p in result.problems] == [
        "line 4: userId is not a numeric GitHub account id"
    ]
    assert "terminated signatures (end_at passed), not imported: 1" in result.unmapped()


def test_gist_version_filter_and_ignore_emails(make_settings: Any, sqlite_url: str) -> None:
    text = (FIXTURES / "cla-assistant.json").read_text()
    policy = make_settings(sqlite_url).policy
    only = parse(
        "cla-assistant",
        text,
        policy,
        Options("individual", "1.0", gist_version="c04d7e91f2a3b4c5d6e7f8091a2b3c4d5e6f7081"),
    )
    assert {r.account_id for r in only.rows} == {"48213907", "55018342"}
    no_mail = parse("cla-assistant", text, policy, Options("individual", "1.0", use_emails=False))
    assert all(r.email is None for r in no_mail.rows)
    csv_no_mail = parse(
        "cla-assistant",
        (FIXTURES / "cla-assistant.csv").read_text(),
        policy,
        Options("individual", "1.0", use_emails=False),
    )
    assert csv_no_mail.rows == [] and len(csv_no_mail.problems) == 4


def test_formats_are_listed() -> None:
    assert importers.FORMATS == ("cla-assistant", "cla-assistant-lite", "app-cla-server")
    assert importers.ACCOUNT_FORMATS == ("cla-assistant", "cla-assistant-lite")
    for fmt in ("gerrit", "app-cla-server"):  # a folder of emails, not one forge's accounts
        with pytest.raises(ValueError, match=f"unknown format '{fmt}'"):
            parse(fmt, "", None, OPTS)  # type: ignore[arg-type]
