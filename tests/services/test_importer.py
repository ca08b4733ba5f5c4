"""The CSV import's parsing: the header, every row checked, duplicates reported by line (the
command itself: tests/cli/test_imports.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.importer import HEADER, parse_csv

HEAD = ",".join(HEADER)
CANARY = {
    "name": "Zebulon Quixote-Canary",
    "email": "Zebulon.CANARY@Example.ORG",
    "login": "zebcanary",
}


def csv_text(*rows: str) -> str:
    return "\n".join([HEAD, *rows]) + "\n"


def test_header_must_match(make_settings: Any, sqlite_url: str) -> None:
    result = parse_csv("login,email\nx,y\n", make_settings(sqlite_url).policy)
    assert result.errors and result.errors[0].line == 1


@pytest.mark.parametrize(
    "email", ["<jane@example.com>", "jane<@example.com", "a" * 201 + "@example.com"]
)
def test_an_address_outside_the_email_rule_is_a_bad_row(
    email: str, make_settings: Any, sqlite_url: str
) -> None:
    row = f"github,octocat,1,{email},,individual,1.0,2024-01-02"
    result = parse_csv(csv_text(row), make_settings(sqlite_url).policy)
    assert [(e.line, e.problem) for e in result.errors] == [(2, "email is not an email address")]


def test_duplicates_are_reported(make_settings: Any, sqlite_url: str) -> None:
    row = "github,octocat,1,,,individual,1.0,2024-01-02"
    result = parse_csv(csv_text(row, row), make_settings(sqlite_url).policy)
    assert [e.line for e in result.errors] == [3]
