"""cla-bot import and cla-bot import-from: every row checked first, bad rows reported by line or
position, nothing written unless all are good (or --skip-unmappable), personal data encrypted,
a second import of the same file adds nothing."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.cli import imports
from bot.cli.imports import run_app_cla_server, run_foreign_import, run_import
from bot.cli.main import _parser
from bot.cli.main import main as cli_main
from bot.services.importer import HEADER
from bot.services.importers import Options
from bot.storage.db import create_engine, session_factory
from bot.storage.models import (
    AuditEvent,
    Company,
    CompanyEntry,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
)
from bot.storage.signatures import find_signer

HEAD = ",".join(HEADER)
CANARY = {
    "name": "Zebulon Quixote-Canary",
    "email": "Zebulon.CANARY@Example.ORG",
    "login": "zebcanary",
}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
OPTS = Options(agreement="individual", version="1.0")


def csv_text(*rows: str) -> str:
    return "\n".join([HEAD, *rows]) + "\n"


async def test_valid_file_imports_every_row(
    db_url: str, make_settings: Any, tmp_path: Path
) -> None:
    f = tmp_path / "sigs.csv"
    f.write_text(
        csv_text(
            "github,octocat,1,octo@example.com,Mona Octocat,individual,1.0,2024-01-02T03:04:05Z",
            "gitee,giteeuser,88,,,individual,1.0,2024-02-01",
            ",,,only-email@example.com,,individual,1.0,2023-12-31T00:00:00+08:00",
        )
    )
    settings = make_settings(db_url)
    out = io.StringIO()
    assert await run_import(settings, f, out=out) == 0
    assert "imported 3" in out.getvalue()
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            assert await s.scalar(select(func.count()).select_from(Signature)) == 3
            assert await s.scalar(select(func.count()).select_from(Signer)) == 3
    finally:
        await engine.dispose()


async def test_one_bad_row_imports_nothing_and_names_every_bad_line(
    db_url: str, make_settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "sigs.csv"
    f.write_text(
        csv_text(
            "github,octocat,1,octo@example.com,Mona,individual,1.0,2024-01-02T03:04:05Z",
            "github,bad login!,x,not-an-email,Mona,individual,9.9,yesterday",
            "github,ok,2,ok@example.com,OK,individual,1.0,2024-01-02",
            "github,onlylogin,,,,individual,1.0,2024-01-02",
        )
    )
    assert await run_import(make_settings(db_url), f) == 1
    err = capsys.readouterr().err
    assert "line 3:" in err and "line 5:" in err and "line 2:" not in err
    assert "account_id must be the numeric" in err and "no version '9.9'" in err
    assert "nothing was imported" in err
    assert "octo@example.com" not in err and "not-an-email" not in err  # no personal values
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            assert await s.scalar(select(func.count()).select_from(Signature)) == 0
    finally:
        await engine.dispose()


async def test_reimport_links_to_the_same_signer(
    db_url: str, make_settings: Any, tmp_path: Path
) -> None:
    f = tmp_path / "a.csv"
    f.write_text(csv_text("github,octocat,1,Octo@Example.com,,individual,1.0,2024-01-02"))
    settings = make_settings(db_url)
    assert await run_import(settings, f) == 0
    g = tmp_path / "b.csv"  # same person by email, now with a Gitee account
    g.write_text(csv_text("gitee,octo,77,octo@example.COM,,individual,1.0,2024-03-02"))
    assert await run_import(settings, g) == 0
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            assert await s.scalar(select(func.count()).select_from(Signer)) == 1
            assert await s.scalar(select(func.count()).select_from(SignerEmail)) == 1
    finally:
        await engine.dispose()


async def test_dump_of_the_database_holds_no_canary(
    db_url: str, make_settings: Any, tmp_path: Path, cipher: Any
) -> None:
    f = tmp_path / "canary.csv"
    f.write_text(
        csv_text(
            f"github,{CANARY['login']},4242,{CANARY['email']},{CANARY['name']},individual,1.0,2024-01-02"
        )
    )
    settings = make_settings(db_url)
    assert await run_import(settings, f) == 0
    dump = _dump(db_url).lower()
    assert dump, "the dump is empty"
    for value in (CANARY["name"], CANARY["email"], "zebulon", "example.org", "quixote"):
        assert value.lower() not in dump, f"{value!r} found in plain text"
    # ...yet the record is usable: the email is found case-insensitively and decrypts.
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            signer = await find_signer(
                s, cipher, platform=None, account_id=None, emails=["zebulon.canary@example.org"]
            )
            assert signer is not None and signer.name_ct is not None
            assert (
                cipher.decrypt(signer.name_ct, table="signers", column="name", row=signer.uid)
                == CANARY["name"]
            )
    finally:
        await engine.dispose()


def _dump(db_url: str) -> str:
    url = make_url(db_url)
    if url.drivername.startswith("sqlite"):
        raw = b""
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(url.database) + suffix)
            if p.exists():
                raw += p.read_bytes()
        sql = (
            subprocess.run(
                ["sqlite3", str(url.database), ".dump"], capture_output=True, check=False
            ).stdout
            if shutil.which("sqlite3")
            else b""
        )
        return (raw + sql).decode("latin-1")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    out = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        check=True,
        env=env,
    )
    return out.stdout.decode("utf-8", "replace")


def test_cli_import_help_and_bad_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["import", "--help"])
    assert exc.value.code == 0
    help_text = "".join(capsys.readouterr().out.split())
    assert "platform,login,account_id,email,name,agreement,version,signed_at" in help_text
    monkeypatch.setenv("CLA_PORT", "not-a-port")
    assert cli_main(["import", "x.csv"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cla-bot: configuration error: CLA_PORT:")


async def count(db_url: str, model: Any) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


async def run(settings: Any, fmt: str, path: Path, **kw: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = kw.pop("options", OPTS)
    code = await run_foreign_import(settings, fmt, path, options, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


async def test_lite_file_imports_and_reimport_adds_nothing(
    db_url: str, make_settings: Any, cipher: Any
) -> None:
    settings = make_settings(db_url)
    code, out, err = await run(settings, "cla-assistant-lite", FIXTURES / "cla-assistant-lite.json")
    assert code == 0, err
    assert "imported 3 signature(s)" in out and "not kept as evidence: 3" in out
    assert await count(db_url, Signature) == 3
    code, out, _ = await run(settings, "cla-assistant-lite", FIXTURES / "cla-assistant-lite.json")
    assert code == 0 and "imported 0 signature(s) (3 already recorded)" in out
    assert await count(db_url, Signature) == 3
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            acc = (
                await s.scalars(select(SignerAccount).where(SignerAccount.account_id == "90421736"))
            ).one()
            assert (acc.platform, acc.login) == ("github", "kestrel-ops")
            audit = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "import"))).all()
            assert len(audit) == 1
    finally:
        await engine.dispose()


async def test_json_then_lite_link_the_same_person(
    db_url: str, make_settings: Any, cipher: Any
) -> None:
    settings = make_settings(db_url)
    assert (await run(settings, "cla-assistant", FIXTURES / "cla-assistant.json"))[0] == 0
    assert await count(db_url, Signer) == 3
    assert await count(db_url, SignerEmail) == 2
    code, out, _ = await run(settings, "cla-assistant-lite", FIXTURES / "cla-assistant-lite.json")
    assert code == 0 and "imported 2 signature(s) (1 already recorded)" in out
    assert await count(db_url, Signer) == 5
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            signer = await find_signer(
                s, cipher, platform=None, account_id=None, emails=["INGRID.VH@example.org"]
            )
            assert signer is not None and signer.name_ct is not None
            assert (
                cipher.decrypt(signer.name_ct, table="signers", column="name", row=signer.uid)
                == "Ingrid Vasquez-Holm"
            )
    finally:
        await engine.dispose()


async def test_one_unmappable_row_imports_nothing_unless_skipped(
    db_url: str, make_settings: Any
) -> None:
    settings = make_settings(db_url)
    path = FIXTURES / "cla-assistant.csv"
    code, out, err = await run(settings, "cla-assistant", path)
    assert code == 1
    assert f"{path}:line 4: no numeric user id and no email" in err
    assert "nothing was imported" in err and "fernbrook" not in err and "Amara" not in err
    assert await count(db_url, Signature) == 0
    code, out, err = await run(settings, "cla-assistant", path, dry_run=True, skip_unmappable=True)
    assert code == 0 and "nothing written" in out and await count(db_url, Signature) == 0
    code, out, err = await run(settings, "cla-assistant", path, skip_unmappable=True)
    assert code == 0 and "imported 3 signature(s)" in out and "1 row(s) skipped" in out
    assert await count(db_url, Signature) == 3


async def test_unreadable_file_exits_2(db_url: str, make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(db_url)
    missing = await run(settings, "cla-assistant", tmp_path / "nope.json")
    assert missing[0] == 2 and "cannot read" in missing[2]
    binary = tmp_path / "x.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert (await run(settings, "cla-assistant", binary))[0] == 2
    wrong = tmp_path / "cla.json"
    wrong.write_text("[]")
    code, _, err = await run(settings, "cla-assistant-lite", wrong)
    assert code == 2 and "signedContributors" in err


# -- app-cla-server ------------------------------------------------------------------------------

ACS = Path(__file__).resolve().parents[1] / "fixtures" / "app_cla_server"
LINK = "64b7f0c2e1d3a45b6c7d8e90"


async def run_acs(settings: Any, folder: Path, *links: str, **kw: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_app_cla_server(settings, folder, list(links), out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def dump_copy(tmp_path: Path, **changes: Any) -> Path:
    """The fixture dumps in a folder of their own, each document changed by ``changes``'s
    ``(file, index) → function`` entries."""
    folder = tmp_path / "dump"
    folder.mkdir()
    for name in ("individual_signing.json", "corp_signing.json"):
        docs = json.loads((ACS / name).read_text(encoding="utf-8"))
        for i, doc in enumerate(docs):
            change = changes.get(f"{name.split('_')[0]}_{i}")
            if change is not None:
                change(doc)
        (folder / name).write_text(json.dumps(docs), encoding="utf-8")
    return folder


async def rows(db_url: str, query: Any) -> list[Any]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            return list((await s.execute(query)).all())
    finally:
        await engine.dispose()


async def test_app_cla_server_dump_imports_and_a_second_run_adds_nothing(
    db_url: str, make_settings: Any
) -> None:
    settings = make_settings(db_url)
    code, out, err = await run_acs(settings, ACS, LINK)
    assert code == 0, err
    assert out.splitlines()[0] == (
        "read 7 row(s) in app-cla-server format: 2 signature(s) and 2 company(ies) listing 2 "
        "employee email(s) and 3 domain(s) to import, 0 row(s) skipped as unmappable"
    )
    assert "  not mapped: signings of links not named with --link, not imported: 2" in out
    assert (
        "imported 2 signature(s) (0 already recorded) and 2 company(ies) (0 imported before), "
        "adding 2 employee email(s) and 3 domain(s) (pending an administrator's approval); "
        "0 blocked pull request(s) queued for a re-check"
    ) in out
    assert "cla-bot company list --pending" in out
    assert [r[0] for r in await rows(db_url, select(SignerEmail.proven_by))] == ["code", "code"]
    assert await rows(db_url, select(Company.name, Company.status).order_by(Company.id)) == [
        ("Harbour Tech Co., Ltd.", "approved"),
        ("Lotus Semiconductor", "pending"),
    ]
    assert await rows(
        db_url,
        select(CompanyEntry.kind, CompanyEntry.status)
        .group_by(CompanyEntry.kind, CompanyEntry.status)
        .order_by(CompanyEntry.kind),
    ) == [("domain", "pending"), ("email", "approved")]
    trail = await rows(db_url, select(AuditEvent.action, AuditEvent.request_id, AuditEvent.details))
    assert [(a, d.get("source"), d.get("signatures")) for a, _, d in trail] == [
        ("import", "app-cla-server", 2),
        ("import", "app-cla-server", None),
        ("import", "app-cla-server", None),
    ]
    assert len({r for _, r, _ in trail}) == 1  # one run, one request id
    code, out, _ = await run_acs(settings, ACS, LINK)
    assert (
        code == 0
        and (
            "imported 0 signature(s) (2 already recorded) and 0 company(ies) (2 imported before), "
            "adding 0 employee email(s) and 0 domain(s)"
        )
        in out
    )
    assert await count(db_url, Signature) == 2 and await count(db_url, CompanyEntry) == 5


async def test_app_cla_server_one_unmappable_row_imports_nothing_unless_skipped(
    db_url: str, make_settings: Any, tmp_path: Path
) -> None:
    def bad_email(doc: dict[str, Any]) -> None:
        doc["email"] = "Liang Qiaoming"

    folder = dump_copy(tmp_path, individual_0=bad_email)
    settings = make_settings(db_url)
    code, out, err = await run_acs(settings, folder, LINK)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{folder}/individual_signing.json entry 1: email is missing or not an address",
        "cla-bot import-from: 1 row(s) cannot be mapped; nothing was imported (fix them, or "
        "pass --skip-unmappable to import the others)",
    ]
    assert await count(db_url, Signature) == 0 and await count(db_url, Company) == 0
    code, out, _ = await run_acs(settings, folder, LINK, skip_unmappable=True, dry_run=True)
    assert code == 0 and "nothing written (--dry-run)" in out
    assert await count(db_url, Signature) == 0 and await count(db_url, Company) == 0
    code, out, _ = await run_acs(settings, folder, LINK, skip_unmappable=True, approve_domains=True)
    assert code == 0 and "1 row(s) skipped as unmappable" in out
    assert await count(db_url, Signature) == 1 and await count(db_url, Company) == 2
    assert {s for (s,) in await rows(db_url, select(CompanyEntry.status))} == {"approved"}


async def test_app_cla_server_unreadable_dumps_and_bad_links_write_nothing(
    db_url: str, make_settings: Any, tmp_path: Path
) -> None:
    settings = make_settings(db_url)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "corp_signing.json").write_text('[{"link_id": "x"', encoding="utf-8")
    code, _, err = await run_acs(settings, broken, LINK)
    assert code == 2 and err == (
        f"cla-bot import-from: {broken}: corp_signing.json is not JSON (line 1, column 17): "
        "expected a mongoexport --jsonArray dump\n"
    )
    code, _, err = await run_acs(settings, tmp_path, LINK)
    assert code == 2 and "the folder holds neither individual_signing.json" in err
    code, _, err = await run_acs(settings, ACS / "corp_signing.json", LINK)
    assert code == 2 and "is not a folder" in err
    code, _, err = await run_acs(settings, ACS, f"{LINK}=nope")
    assert code == 2 and "app.yaml has no agreement 'nope'" in err
    (broken / "corp_signing.json").write_bytes(b"\xff\xfe[]")
    code, _, err = await run_acs(settings, broken, LINK)
    assert code == 2 and "is not UTF-8 text" in err
    assert await count(db_url, Signature) == 0 and await count(db_url, Company) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["app-cla-server", "dump"], "app-cla-server needs at least one --link"),
        (
            ["app-cla-server", "dump", "--link", "x", "--agreement", "individual"],
            "--agreement, --version, --gist-version and --ignore-emails are for the "
            "cla-assistant formats",
        ),
        (["cla-assistant", "f.json", "--agreement", "individual"], "needs --agreement and"),
        (
            ["cla-assistant-lite", "f", "--agreement", "a", "--version", "1", "--link", "x"],
            "--link and --approve-domains are for app-cla-server",
        ),
    ],
)
async def test_options_that_do_not_fit_the_format_exit_2(
    sqlite_url: str,
    make_settings: Any,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    args = _parser().parse_args(["import-from", *argv])
    assert await imports.run(args, make_settings(sqlite_url)) == 2
    assert message in capsys.readouterr().err


def test_import_from_help_names_app_cla_server(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main(["import-from", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in (
        "{cla-assistant,cla-assistant-lite,app-cla-server}",
        "--link LINK_ID[=AGREEMENT[:VERSION]]",
        "--approve-domains",
        "individual_signing.json, corp_signing.json",
        "proven by code",
    ):
        assert words in text
