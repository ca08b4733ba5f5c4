"""cla-bot status / export / token (and import-from, read back by status): round trips through a
real database, one line on errors, no secret printed but a new token once."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import admin as cli_admin
from bot.cli import imports as cli_imports
from bot.services.admin import tokens
from bot.storage.agreements import sync_agreements
from bot.storage.db import create_engine, session_factory
from bot.storage.models import ApiToken, AuditEvent
from bot.storage.signatures import NewSignature, record_signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cla-bot")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    cli_admin.add_parsers(sub)
    cli_imports.add_import_from_parser(sub)
    return p


async def cli(settings: Any, *argv: str) -> int:
    args = parser().parse_args(list(argv))
    if args.command in cli_imports.COMMANDS:
        return await cli_imports.run(args, settings)
    assert args.command in cli_admin.COMMANDS
    return await cli_admin.run(args, settings)


async def seed(db_url: str, settings: Any, cipher: Any) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await sync_agreements(s, settings.policy.agreements)
            for account_id, login, email, name in (
                ("583231", "octocat", "mona@example.com", "Mona Octocat"),
                ("77", "hubot", "hu@example.com", "-2+3 Hubot"),
            ):
                await record_signature(
                    s,
                    cipher,
                    NewSignature(
                        platform="github",
                        account_id=account_id,
                        login=login,
                        email=email,
                        name=name,
                        agreement_id="individual",
                        version="1.0",
                        signed_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
                        source="web",
                    ),
                )
    finally:
        await engine.dispose()


@pytest.fixture
async def settings(db_url: str, make_settings: Any, cipher: Any) -> Any:
    conf = make_settings(db_url)
    await seed(db_url, conf, cipher)
    return conf


def test_commands_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_admin.COMMANDS == ("status", "export", "token")
    assert cli_imports.COMMANDS == ("import", "import-from")
    for argv in (
        ["status", "--help"],
        ["export", "--help"],
        ["token", "--help"],
        ["token", "create", "--help"],
        ["import-from", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            parser().parse_args(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "cla-assistant-lite" in out and "--skip-unmappable" in out and "read|export|admin" in out
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["token", "create", "--name", "x", "--scope", "root"])
    assert exc.value.code == 2


async def test_status_by_login_id_and_email(
    settings: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await cli(settings, "status", "github:octocat") == 0
    out = capsys.readouterr().out
    assert "covered by individual 1.0, individual since 2024-05-01T12:00:00Z" in out
    assert "account id" in out  # says a login was matched, and how
    assert await cli(settings, "status", "github:583231", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["covered"] is True and data["account"] == "github:583231"
    assert await cli(settings, "status", "gitee:123") == 0
    assert "not covered" in capsys.readouterr().out
    assert await cli(settings, "status", "--email", "MONA@example.com") == 0
    out = capsys.readouterr().out
    assert out.startswith("email: covered") and "mona" not in out.lower()
    monkeypatch.setattr("sys.stdin", io.StringIO("hu@EXAMPLE.com\n"))
    assert await cli(settings, "status", "--email", "-") == 0
    assert "covered by individual" in capsys.readouterr().out
    assert await cli(settings, "status", "octocat") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "platform:id or platform:login" in err
    assert await cli(settings, "status", "github:octocat", "--agreement", "nope") == 1
    assert capsys.readouterr().err.strip() == "cla-bot status: unknown agreement"


async def test_export_csv_and_json_contact_audited(
    settings: Any, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(settings, "export", "--agreement", "individual", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["signatures"]) == 2 and all("contact" not in s for s in data["signatures"])
    target = tmp_path / "out.csv"
    assert await cli(settings, "export", "--contact", "--output", str(target)) == 0
    assert "exported 2 signature(s)" in capsys.readouterr().err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert {r["name"] for r in rows} == {"Mona Octocat", "'-2+3 Hubot"}
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            events = (
                await s.scalars(select(AuditEvent).where(AuditEvent.action == "read-contact"))
            ).all()
    finally:
        await engine.dispose()
    assert len(events) == 2 and {(e.actor, e.via) for e in events} == {("operator", "cli")}
    assert await cli(settings, "export", "--version", "1.0") == 1
    assert "--version needs --agreement" in capsys.readouterr().err
    assert await cli(settings, "export", "--agreement", "individual", "--version", "7") == 1


async def test_token_create_list_revoke_round_trip(
    settings: Any, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli(settings, "token", "create", "--name", "ci", "--scope", "export") == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert tokens.TOKEN_RE.fullmatch(token)
    assert token not in captured.err and token[:12] in captured.err
    assert await cli(settings, "token", "list") == 0
    listing = capsys.readouterr().out
    assert token[:12] in listing and "export" in listing and token not in listing
    assert await cli(settings, "token", "list", "--json") == 0
    listing = capsys.readouterr().out
    assert token not in listing and tokens.token_hash(token) not in listing
    assert json.loads(listing)[0]["revoked_at"] is None
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            assert await tokens.authenticate(s, token) is not None
        assert await cli(settings, "token", "revoke", token[:12]) == 0
        assert "is revoked" in capsys.readouterr().out
        async with session_factory(engine)() as s, s.begin():
            assert await tokens.authenticate(s, token) is None
            row = (await s.scalars(select(ApiToken))).one()
            assert row.revoked_at is not None and row.last_used_at is not None
    finally:
        await engine.dispose()
    assert await cli(settings, "token", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["revoked_at"] is not None
    assert await cli(settings, "token", "revoke", "cla_nothere") == 1
    assert capsys.readouterr().err.strip() == "cla-bot token: no token has this prefix"


async def test_import_from_both_formats(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    lite = str(FIXTURES / "cla-assistant-lite.json")
    argv = [
        "import-from",
        "cla-assistant-lite",
        lite,
        "--agreement",
        "individual",
        "--version",
        "1.0",
    ]
    assert await cli(settings, *argv) == 0
    assert "imported 3 signature(s)" in capsys.readouterr().out
    assert await cli(settings, "status", "github:kestrel-ops") == 0
    assert "covered by individual 1.0" in capsys.readouterr().out
    csv_path = str(FIXTURES / "cla-assistant.csv")
    argv = [
        "import-from",
        "cla-assistant",
        csv_path,
        "--agreement",
        "individual",
        "--version",
        "1.0",
    ]
    assert await cli(settings, *argv) == 1
    assert "line 4" in capsys.readouterr().err
    assert await cli(settings, *argv, "--skip-unmappable") == 0
    assert await cli(settings, "status", "--email", "t.quillon@EXAMPLE.com") == 0
    assert "covered" in capsys.readouterr().out
