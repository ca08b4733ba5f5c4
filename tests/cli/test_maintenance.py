"""``cla-bot audit`` and ``cla-bot purge`` on a real database: the exact lines they print."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from bot.cli.imports import run_import
from bot.cli.maintenance import run_audit, run_purge
from bot.services.importer import HEADER


async def test_purge_says_what_it_dropped(db_url: str, make_settings: Any) -> None:
    out = io.StringIO()
    assert await run_purge(make_settings(db_url), out=out) == 0
    assert out.getvalue() == (
        "purged 0 contributor record(s), 0 finished job row(s), 0 session(s), 0 login attempt(s), "
        "0 email code(s)\n"
    )


async def test_audit_prints_each_event_without_personal_data(
    db_url: str, make_settings: Any, tmp_path: Path
) -> None:
    settings = make_settings(db_url)
    empty = io.StringIO()
    assert await run_audit(settings, limit=50, as_json=True, out=empty) == 0
    assert empty.getvalue() == ""
    f = tmp_path / "one.csv"
    f.write_text(
        ",".join(HEADER) + "\ngithub,octocat,1,octo@example.com,Mona,individual,1.0,2024-01-02\n"
    )
    assert await run_import(settings, f, out=io.StringIO()) == 0
    out = io.StringIO()
    assert await run_audit(settings, limit=50, as_json=True, out=out) == 0
    (line,) = out.getvalue().splitlines()
    event = json.loads(line)
    assert (event["action"], event["actor"], event["via"], event["details"]) == (
        "import",
        "operator",
        "cli",
        {"signatures": 1, "signers": 1},
    )
    assert "octo" not in line and "Mona" not in line
    text = io.StringIO()
    assert await run_audit(settings, limit=50, as_json=False, out=text) == 0
    (row,) = text.getvalue().splitlines()
    assert row.split()[1:4] == ["import", "operator", "cli"]
    assert row.endswith("  signatures=1 signers=1")
