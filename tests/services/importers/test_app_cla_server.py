"""Reading app-cla-server's dumps: what each kind of signing becomes, what is kept out and
counted, and every row checked and reported by position without its values."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.services.importers import ImportedCompany, parse_app_cla_server, parse_links
from bot.services.importers.app_cla_server import CORPORATE_FILE, INDIVIDUAL_FILE
from bot.settings import Policy
from bot.storage.models import EmailProvenBy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "app_cla_server"
LINK = "64b7f0c2e1d3a45b6c7d8e90"
OTHER = "64b7f0c2e1d3a45b6c7d8e91"
PERSONAL = (
    "Liang",
    "liang.qm",
    "陈玉华",
    "chen.yuhua",
    "Ho Ka-wing",
    "ho.kawing",
    "Svetla",
    "Wu Jie",
    "wu.jie",
    "Lin Fei",
    "lin.fei",
    "乔楠",
    "Qiao",
    "Tao Ran",
    "Guo Min",
    "Mira",
    "Oskar",
    "Harbour Road",
    "Director",
)


def dump(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def texts(individual: Any = None, corporate: Any = None) -> dict[str, str | None]:
    """The folder's files: the fixtures unless replaced (``None`` keeps the fixture's)."""
    return {
        INDIVIDUAL_FILE: json.dumps(dump(INDIVIDUAL_FILE) if individual is None else individual),
        CORPORATE_FILE: json.dumps(dump(CORPORATE_FILE) if corporate is None else corporate),
    }


@pytest.fixture
def policy(make_settings: Any, sqlite_url: str) -> Policy:
    policy: Policy = make_settings(sqlite_url).policy
    return policy


def said(result: Any) -> str:
    return "\n".join([*result.unmapped(), *(str(p) for p in result.problems)])


def test_the_fixture_dump_maps_every_kind(policy: Policy) -> None:
    result = parse_app_cla_server(texts(), parse_links([LINK], policy))
    assert result.fatal is None and result.problems == [] and result.total == 7
    assert [(r.email, r.name, r.agreement_id, r.version) for r in result.rows] == [
        ("liang.qm@example.net", "Liang Qiaoming", "individual", "1.0"),
        ("chen.yuhua@example.cn", "陈玉华", "individual", "1.0"),  # Chinese: the zh translation
    ]
    liang = result.rows[0]
    assert (liang.platform, liang.account_id, liang.login) == (None, None, None)
    assert liang.email_proven_by is EmailProvenBy.CODE  # as app-cla-server proved it
    assert liang.signed_at == liang.email_proven_at == datetime(2023, 4, 11, tzinfo=UTC)
    assert result.companies == [
        ImportedCompany(
            name="Harbour Tech Co., Ltd.",
            agreement_id="corporate",
            version="1.0",
            signed_at=datetime(2023, 5, 20, tzinfo=UTC),
            confirmed=True,
            domains=("harbourtech.cn", "harbourtech-labs.com"),
            emails=("wu.jie@harbourtech.cn", "qiao.nan@harbourtech-labs.com"),
        ),
        ImportedCompany(
            name="Lotus Semiconductor",
            agreement_id="corporate",
            version="1.0",
            signed_at=datetime(2024, 2, 3, tzinfo=UTC),
            confirmed=False,
            domains=("lotus-semi.com",),
            emails=(),
        ),
    ]
    assert result.unmapped() == [
        "company administrators, accounts of app-cla-server (admin), not kept: 1",
        "corporate signatories' names and emails (rep), not kept: 2",
        "corporate signings whose signed PDF was never uploaded there, imported pending an "
        "administrator's decision: 1",
        "employee managers, accounts of app-cla-server (managers), not kept: 1",
        "employee signings disabled there (enabled: false), not imported: 1",
        "employee signings kept as their email on the company's list (their name, date, CLA "
        "and logs not kept): 2",
        "employee signings removed there (deleted), not imported: 1",
        "individual signings deleted there (deleted), not imported: 1",
        "signed PDFs of corporate signings (pdf), not kept: 1",
        "signing form fields besides name and email (info), not kept: 1",
        "signings of links not named with --link, not imported: 2",
        f"link {LINK}: 3 individual signing(s) of CLA id(s) 0, 2 → individual 1.0; "
        "2 corporate signing(s) of CLA id(s) 1 → corporate 1.0",
        f"links not named with --link (signings): {OTHER} (2)",
    ]
    text = said(result)
    assert not [value for value in PERSONAL if value.lower() in text.lower()]


def test_both_links_and_a_link_with_nothing(policy: Policy) -> None:
    result = parse_app_cla_server(texts(), parse_links([LINK, OTHER, "65aa"], policy))
    assert [r.email for r in result.rows][-1] == "svetla.i@example.org"
    assert [c.name for c in result.companies][-1] == "Northwind Robotics"
    assert "link 65aa: no signings" in result.facts
    assert "signings of links not named with --link" not in said(result)


def test_a_missing_file_is_said_and_the_other_read(policy: Policy) -> None:
    files = texts()
    files[CORPORATE_FILE] = None
    result = parse_app_cla_server(files, parse_links([LINK], policy))
    assert len(result.rows) == 2 and result.companies == []
    assert f"no {CORPORATE_FILE} in the folder: none of those signings read" in result.facts


@pytest.mark.parametrize(
    ("files", "fatal"),
    [
        (
            {INDIVIDUAL_FILE: None, CORPORATE_FILE: None},
            f"the folder holds neither {INDIVIDUAL_FILE} nor {CORPORATE_FILE}",
        ),
        (
            {INDIVIDUAL_FILE: '[{"link_id": "x",}]', CORPORATE_FILE: "[]"},
            f"{INDIVIDUAL_FILE} is not JSON (line 1, column 18): expected a mongoexport "
            "--jsonArray dump",
        ),
        (
            {INDIVIDUAL_FILE: "[]", CORPORATE_FILE: '{"a": 1}\n{oops}\n'},
            f"{CORPORATE_FILE}: line 2 is not JSON (expected a JSON array or JSON lines)",
        ),
        (
            {INDIVIDUAL_FILE: '"a string"', CORPORATE_FILE: None},
            f"{INDIVIDUAL_FILE}: expected a JSON array of documents (mongoexport --jsonArray)",
        ),
    ],
)
def test_unreadable_dumps_are_refused_whole(
    policy: Policy, files: dict[str, str | None], fatal: str
) -> None:
    result = parse_app_cla_server(files, parse_links([LINK], policy))
    assert result.fatal is not None and result.fatal.startswith(fatal)
    assert result.rows == [] and result.companies == []


def test_json_lines_are_read_too(policy: Policy) -> None:
    lines = "\n".join(json.dumps(d) for d in dump(INDIVIDUAL_FILE))
    result = parse_app_cla_server(
        {INDIVIDUAL_FILE: lines, CORPORATE_FILE: ""}, parse_links([LINK], policy)
    )
    assert result.fatal is None and [r.name for r in result.rows] == ["Liang Qiaoming", "陈玉华"]


def test_bad_rows_are_reported_by_position_without_values(policy: Policy) -> None:
    people = dump(INDIVIDUAL_FILE)
    people[0]["email"] = "liang.qm-at-example.net"
    people[1]["lang"] = "Klingon"
    people[1]["date"] = "2999-01-01"
    people.append("nonsense")
    del people[3]["cla_id"]
    people[3]["link_id"] = LINK
    companies = dump(CORPORATE_FILE)
    companies[0]["employees"][0]["email"] = "Wu Jie"
    companies[0]["employees"][2]["email"] = "123+qiao@users.noreply.github.com"
    companies[1]["lang"] = "Chinese"  # corporate 1.0 has no zh translation
    companies[2]["link_id"] = LINK
    companies[2]["corp"] = {"domain": "northwind-robotics.com", "domains": "northwind"}
    result = parse_app_cla_server(texts(people, companies), parse_links([LINK], policy))
    assert [str(p) for p in result.problems] == [
        f"{INDIVIDUAL_FILE} entry 1: email is missing or not an address",
        f"{INDIVIDUAL_FILE} entry 2: lang is neither English nor Chinese; date is in the future",
        f"{INDIVIDUAL_FILE} entry 4: cla_id is missing",
        f"{INDIVIDUAL_FILE} entry 5: not an object",
        f"{CORPORATE_FILE} entry 1 employee 1: email is missing or not an address",
        f"{CORPORATE_FILE} entry 1 employee 3: a forge's noreply address stands for an "
        "account, not an email",
        f"{CORPORATE_FILE} entry 2: signed in Chinese, and corporate 1.0 has no zh "
        "translation in app.yaml",
        f"{CORPORATE_FILE} entry 3: corp.name is missing; corp.domains is not a list",
    ]
    assert not [value for value in (*PERSONAL, "Klingon", "2999") if value in said(result)]
    assert [c.emails for c in result.companies] == [()]  # both employees unmappable


def test_no_agreement_of_a_kind_makes_its_rows_unmappable(policy: Policy) -> None:
    only_individual = dataclasses.replace(
        policy, agreements=tuple(a for a in policy.agreements if a.kind == "individual")
    )
    result = parse_app_cla_server(texts(), parse_links([LINK], only_individual))
    assert [str(p) for p in result.problems] == [
        f"{CORPORATE_FILE} entry {n}: no agreement to map it to: app.yaml has no corporate "
        "agreement"
        for n in (1, 2)
    ]
    assert len(result.rows) == 2


def test_refused_domains_merged_companies_and_people(policy: Policy) -> None:
    companies = dump(CORPORATE_FILE)
    companies[0]["corp"]["domains"].append("QQ.com")  # free mail: never a company's
    again = copy.deepcopy(companies[0])
    again["date"] = "2022-01-01"
    again["corp"]["domains"] = ["harbourtech.hk"]
    again["employees"] = [{**again["employees"][0], "email": "ma.li@harbourtech.hk"}]
    companies.append(again)
    people = dump(INDIVIDUAL_FILE)
    people.append({**people[0], "date": "2024-09-09", "name": "Liang Q."})
    result = parse_app_cla_server(texts(people, companies), parse_links([LINK], policy))
    assert result.problems == []
    harbour = result.companies[0]
    assert harbour.domains == ("harbourtech.cn", "harbourtech-labs.com", "harbourtech.hk")
    assert harbour.emails == (
        "wu.jie@harbourtech.cn",
        "qiao.nan@harbourtech-labs.com",
        "ma.li@harbourtech.hk",
    )
    assert harbour.signed_at == datetime(2022, 1, 1, tzinfo=UTC)  # the first signing
    assert len(result.companies) == 2
    notes = result.unmapped()
    assert (
        "company email domains this bot's rules refuse (free mail, a public suffix, …), not "
        "listed: 1"
    ) in notes
    assert (
        "corporate signings of a company already read (same name and agreement), merged: 1"
    ) in notes
    assert [(r.name, r.signed_at.year) for r in result.rows] == [
        ("Liang Q.", 2024),
        ("陈玉华", 2023),
    ]
    assert "rows of a person already seen, merged (the latest signing time kept): 1" in notes
