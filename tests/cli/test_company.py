"""cla-bot company list / show / approve / reject: round trips through a real database, names,
states and domains but never the signatory's contact data, one line on errors, every decision
audited as the operator's."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import company as cli_company
from bot.cli import main as cli
from bot.storage.agreements import sync_agreements
from bot.storage.db import create_engine, session_factory
from bot.storage.models import AuditEvent, Company
from tests.helpers import sign_company

SIGNED = datetime(2024, 5, 1, 12, tzinfo=UTC)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cla-bot")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    cli_company.add_parsers(sub)
    return p


async def run(settings: Any, *argv: str) -> int:
    args = parser().parse_args(list(argv))
    assert args.command in cli_company.COMMANDS
    return await cli_company.run(args, settings)


async def seed(db_url: str, settings: Any, cipher: Any) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            await sync_agreements(s, settings.policy.agreements)
            for name, domains in (("Example Corp", ["example.com"]), ("Other Ltd", [])):
                company = await sign_company(
                    s,
                    cipher,
                    name=name,
                    fields={
                        "name": "Maria Canaryname",
                        "title": "Counsel",
                        "email": "maria.canary@example.com",
                        "phone": "+1 555 0100",
                    },
                    managers=["co-manager"],
                    domains=domains,
                )
                company.signed_at = SIGNED
    finally:
        await engine.dispose()


@pytest.fixture
async def settings(db_url: str, make_settings: Any, cipher: Any) -> Any:
    conf = make_settings(db_url)
    await seed(db_url, conf, cipher)
    return conf


def test_every_action_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["company", "--help"],
        ["company", "list", "--help"],
        ["company", "show", "--help"],
        ["company", "approve", "--help"],
        ["company", "reject", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli._parser().parse_args(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "covers nobody" in out and "--pending" in out and "--reason" in out and "--domain" in out
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["company", "reject", "1"])  # the reason is required
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["company", "show", "one"])
    assert exc.value.code == 2


async def test_list_show_approve_reject(
    settings: Any, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(settings, "company", "list") == 0
    assert capsys.readouterr().out == (
        "    ID  STATUS    SIGNED                NAME — DOMAINS\n"
        "     1  pending   2024-05-01 12:00:00Z  Example Corp — example.com (pending)\n"
        "     2  pending   2024-05-01 12:00:00Z  Other Ltd — -\n"
    )
    assert await run(settings, "company", "list", "--pending", "--json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "id": 1,
            "name": "Example Corp",
            "status": "pending",
            "signed_at": "2024-05-01T12:00:00Z",
            "domains": [
                {"domain": "example.com", "status": "pending", "reason": None, "proven": False}
            ],
        },
        {
            "id": 2,
            "name": "Other Ltd",
            "status": "pending",
            "signed_at": "2024-05-01T12:00:00Z",
            "domains": [],
        },
    ]
    assert await run(settings, "company", "show", "1") == 0
    assert capsys.readouterr().out == (
        "company 1: Example Corp\n"
        "  status:     pending\n"
        "  agreement:  corporate 1.0, signed 2024-05-01 12:00:00Z\n"
        "  domains:    example.com (pending)\n"
        "  listed:     0 email(s), 0 account(s)\n"
        "  managers:   github:maria, github:co-manager\n"
    )

    assert await run(settings, "company", "approve", "1") == 0
    assert capsys.readouterr().out == (
        "company 1 (Example Corp) is now approved; 0 PR re-check(s) queued\n"
    )
    assert await run(settings, "company", "approve", "1") == 0
    assert capsys.readouterr().out == (
        "company 1 (Example Corp) is approved already: nothing changed\n"
    )
    assert await run(settings, "company", "list", "--pending") == 0
    assert capsys.readouterr().out == (
        "    ID  STATUS    SIGNED                NAME — DOMAINS\n"
        "     2  pending   2024-05-01 12:00:00Z  Other Ltd — -\n"
    )
    assert (
        await run(
            settings, "company", "reject", "1", "--domain", "example.com", "--reason", "not theirs"
        )
        == 0
    )
    assert capsys.readouterr().out == (
        "domain example.com of company 1 (Example Corp) is now rejected; 0 PR re-check(s) queued\n"
    )
    assert await run(settings, "company", "reject", "2", "--reason", "no such firm") == 0
    assert capsys.readouterr().out == (
        "company 2 (Other Ltd) is now rejected; 0 PR re-check(s) queued\n"
    )
    assert await run(settings, "company", "show", "2", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["decided_by"], shown["reason"]) == (
        "rejected",
        "operator",
        "no such firm",
    )

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            events = (
                await s.scalars(
                    select(AuditEvent).where(AuditEvent.via == "cli").order_by(AuditEvent.id)
                )
            ).all()
            uids = [c.uid for c in (await s.scalars(select(Company).order_by(Company.id))).all()]
    finally:
        await engine.dispose()
    assert [
        (e.action, e.actor, e.details.get("company"), e.details.get("scope")) for e in events
    ] == [
        ("company-approve", "operator", uids[0], None),
        ("company-reject", "operator", uids[0], "domain"),
        ("company-reject", "operator", uids[1], "company"),
    ]


async def test_nothing_personal_is_printed(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (("list",), ("list", "--json"), ("show", "1"), ("show", "1", "--json")):
        assert await run(settings, "company", *argv) == 0
    out = capsys.readouterr().out.lower()
    for canary in ("canaryname", "counsel", "maria.canary", "555 0100"):
        assert canary not in out


async def test_errors_are_one_line_and_change_nothing(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, message in (
        (("show", "7"), "cla-bot company show: no such company\n"),
        (("approve", "0"), "cla-bot company approve: no such company\n"),
        (
            ("reject", "1", "--reason", "  "),
            "cla-bot company reject: a reason is required, at most 500 characters\n",
        ),
        (
            ("reject", "1", "--reason", "x", "--domain", "other.org"),
            "cla-bot company reject: that domain is not in this company's list\n",
        ),
    ):
        assert await run(settings, "company", *argv) == 1
        # (a handler another test left on the root logger may add its own complaints)
        err = capsys.readouterr().err.splitlines()
        assert [line for line in err if line.startswith("cla-bot")] == [message.rstrip("\n")]
    assert await run(settings, "company", "list", "--pending", "--json") == 0
    assert [c["status"] for c in json.loads(capsys.readouterr().out)] == ["pending", "pending"]
