"""cla-bot agreements list / replace: what is published, and replacing the text of a version that
nobody has signed — through a real database, refused once anyone (or any company) signed it,
written to the audit trail; and the start-up error that says what to do instead."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import agreements as cli_agreements
from bot.cli import main as cli
from bot.errors import SettingsError
from bot.storage.agreements import AgreementTextChanged, sync_agreements, version_row
from bot.storage.db import create_engine, session_factory
from bot.storage.models import AuditEvent, Company
from bot.storage.signatures import NewSignature, record_signature

ROOT = Path(__file__).resolve().parents[2]
STOCK = (ROOT / "templates" / "agreements" / "individual-1.0.md").read_text("utf-8")
STOCK_SHA = hashlib.sha256(STOCK.encode()).hexdigest()
CORPORATE_SHA = hashlib.sha256(
    (ROOT / "templates" / "agreements" / "corporate-1.0.md").read_bytes()
).hexdigest()
EDITED = "# Individual CLA\n\nTerms, corrected before anyone signed.\n"
EDITED_SHA = hashlib.sha256(EDITED.encode()).hexdigest()


async def run(settings: Any, *argv: str) -> int:
    """The command as `cla-bot` parses it (its real parser, so the wiring is tested too)."""
    args = cli._parser().parse_args(list(argv))
    assert args.command in cli_agreements.COMMANDS
    return await cli_agreements.run(args, settings)


@contextlib.asynccontextmanager
async def database(db_url: str) -> AsyncIterator[AsyncSession]:
    """A session on the test database, committed at the end."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s, s.begin():
            yield s
    finally:
        await engine.dispose()


async def publish(db_url: str, settings: Any) -> None:
    """What the first `cla-bot serve` does: publish app.yaml's agreements."""
    async with database(db_url) as s:
        await sync_agreements(s, settings.policy.agreements)


def edited_templates(tmp_path: Path) -> Path:
    """A copy of the templates whose individual 1.0 text was edited after publishing."""
    templates = tmp_path / "edited-templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "agreements" / "individual-1.0.md").write_text(EDITED, "utf-8")
    return templates


async def sign_individual(db_url: str, cipher: Any) -> None:
    async with database(db_url) as s:
        await record_signature(
            s,
            cipher,
            NewSignature(
                platform="github",
                account_id="583231",
                login="octocat",
                email="mona@example.com",
                name="Mona",
                agreement_id="individual",
                version="1.0",
                signed_at=datetime(2024, 5, 1, tzinfo=UTC),
                source="web",
            ),
        )


async def sign_company(db_url: str, agreement_id: str) -> None:
    async with database(db_url) as s:
        version = await version_row(s, agreement_id, "1.0")
        assert version is not None
        s.add(
            Company(
                name="Acme",
                agreement_version_id=version.id,
                signed_platform="github",
                signed_account_id="9",
                signed_at=datetime(2024, 5, 2, tzinfo=UTC),
            )
        )


async def published_sha(db_url: str, agreement_id: str, version: str) -> str:
    async with database(db_url) as s:
        row = await version_row(s, agreement_id, version)
        assert row is not None
        return row.text_sha256


async def audit_events(db_url: str) -> list[AuditEvent]:
    async with database(db_url) as s:
        return list((await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


def test_help_on_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_agreements.COMMANDS == ("agreements",)
    for argv in (["agreements", "--help"], ["agreements", "list", "--help"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 0
    with pytest.raises(SystemExit) as exc:
        cli.main(["agreements", "replace", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: cla-bot agreements replace [-h] AGREEMENT VERSION" in out
    assert "nobody has signed" in out and "audit trail" in out
    with pytest.raises(SystemExit) as exc:
        cli._parser().parse_args(["agreements"])
    assert exc.value.code == 2


async def test_list_shows_every_version_its_hash_and_its_signatures(
    db_url: str,
    make_settings: Callable[..., Any],
    cipher: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(db_url)
    await publish(db_url, settings)
    await sign_individual(db_url, cipher)
    await sign_company(db_url, "corporate")
    assert await run(settings, "agreements", "list") == 0
    assert capsys.readouterr().out.splitlines() == [
        "AGREEMENT   KIND        VERSION  TEXT SHA-256"
        + " " * 54
        + "SIGNATURES  COMPANIES  APP.YAML",
        f"individual  individual  1.0      {STOCK_SHA}  1           0          same text",
        f"corporate   corporate   1.0      {CORPORATE_SHA}  0           1          same text",
    ]
    edited = make_settings(db_url, CLA_TEMPLATES_DIR=str(edited_templates(tmp_path)))
    assert await run(edited, "agreements", "list") == 0
    assert f"individual  individual  1.0      {STOCK_SHA}  1           0          changed" in (
        capsys.readouterr().out.splitlines()
    )


async def test_replace_publishes_the_new_text_of_an_unsigned_version_audited(
    db_url: str,
    make_settings: Callable[..., Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.runtime import build_runtime

    await publish(db_url, make_settings(db_url))
    edited = make_settings(db_url, CLA_TEMPLATES_DIR=str(edited_templates(tmp_path)))
    with pytest.raises(SettingsError):
        await build_runtime(edited, clients={})
    assert await run(edited, "agreements", "replace", "individual", "1.0") == 0
    out = capsys.readouterr().out
    assert out == (
        f"agreement individual version 1.0: text replaced ({STOCK_SHA[:12]} -> {EDITED_SHA[:12]})"
        "; nobody had signed it\n"
    )
    assert await published_sha(db_url, "individual", "1.0") == EDITED_SHA
    (event,) = await audit_events(db_url)
    assert (event.action, event.actor, event.via, event.signer_id) == (
        "agreement-replace",
        "operator",
        "cli",
        None,
    )
    assert event.details == {
        "agreement": "individual",
        "version": "1.0",
        "old_sha256": STOCK_SHA,
        "new_sha256": EDITED_SHA,
    }
    runtime = await build_runtime(edited, clients={})  # starts again
    await runtime.close()
    # Nothing left to replace: said so, nothing written.
    assert await run(edited, "agreements", "replace", "individual", "1.0") == 1
    assert capsys.readouterr().err == (
        "cla-bot agreements: agreement individual version 1.0: the published text is already "
        "the one in app.yaml; nothing to replace\n"
    )
    assert len(await audit_events(db_url)) == 1


@pytest.mark.parametrize("signer", ["person", "company"])
async def test_replace_refuses_a_version_someone_signed(
    signer: str,
    db_url: str,
    make_settings: Callable[..., Any],
    cipher: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await publish(db_url, make_settings(db_url))
    if signer == "person":
        await sign_individual(db_url, cipher)
        counted = "1 signature and 0 companies"
    else:
        await sign_company(db_url, "individual")
        counted = "0 signatures and 1 company"
    edited = make_settings(db_url, CLA_TEMPLATES_DIR=str(edited_templates(tmp_path)))
    assert await run(edited, "agreements", "replace", "individual", "1.0") == 1
    assert capsys.readouterr().err == (
        f"cla-bot agreements: agreement individual version 1.0 has {counted}: a signed text "
        "never changes; publish the edit as a new version (start `cla-bot serve` to see the "
        "lines to add to app.yaml)\n"
    )
    assert await published_sha(db_url, "individual", "1.0") == STOCK_SHA
    assert await audit_events(db_url) == []


async def test_replace_names_an_unknown_agreement_or_version(
    db_url: str, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(db_url)
    await publish(db_url, settings)
    assert await run(settings, "agreements", "replace", "nope", "1.0") == 1
    assert capsys.readouterr().err == (
        "cla-bot agreements: app.yaml has no agreement 'nope' (it has: individual, corporate)\n"
    )
    assert await run(settings, "agreements", "replace", "individual", "9.9") == 1
    assert capsys.readouterr().err == (
        "cla-bot agreements: app.yaml has no version '9.9' of agreement 'individual' "
        "(it has: 1.0)\n"
    )


async def test_sync_agreements_says_which_text_changed_in_fields(
    db_url: str, make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    await publish(db_url, make_settings(db_url))
    edited = make_settings(db_url, CLA_TEMPLATES_DIR=str(edited_templates(tmp_path)))
    with pytest.raises(AgreementTextChanged) as exc:
        async with database(db_url) as s:
            await sync_agreements(s, edited.policy.agreements)
    assert (exc.value.agreement_id, exc.value.version) == ("individual", "1.0")
    assert (exc.value.old_sha256, exc.value.new_sha256) == (STOCK_SHA, EDITED_SHA)


@pytest.mark.parametrize("signed", [False, True])
async def test_start_up_shows_the_lines_to_add_to_app_yaml(
    signed: bool,
    db_url: str,
    make_settings: Callable[..., Any],
    cipher: Any,
    tmp_path: Path,
) -> None:
    from bot.runtime import build_runtime

    await publish(db_url, make_settings(db_url))
    if signed:
        await sign_individual(db_url, cipher)
    edited = make_settings(db_url, CLA_TEMPLATES_DIR=str(edited_templates(tmp_path)))
    with pytest.raises(SettingsError) as exc:
        await build_runtime(edited, clients={})
    assert exc.value.name == "app.yaml cla.agreements"
    assert str(exc.value) == (
        "app.yaml cla.agreements: the text of agreement 'individual' version '1.0' "
        "(agreements/individual-1.0.md) changed after it was published "
        f"(sha256 {STOCK_SHA[:12]} -> {EDITED_SHA[:12]}); a published text never changes: "
        "publish the edit as a new version"
    )
    lines = exc.value.hint.splitlines()
    assert lines[:9] == [
        "To publish the edit as a new version: save the edited text as "
        "agreements/individual-1.1.md, put version 1.0's published text back in "
        "agreements/individual-1.0.md, and add under the agreement 'individual' "
        "`versions:` in app.yaml:",
        "",
        '        - version: "1.1"',
        "          text: agreements/individual-1.1.md",
        "          compatibility: compatible   # or re-sign: earlier signatures stop counting",
        "          fields:",
        "            name: required",
        "            email: required",
        "            address: optional",
    ]
    assert lines[9:12] == ["            phone: optional", "            fax: optional", ""]
    if signed:
        assert lines[12:] == [
            "Version 1.0 has 1 signature and 0 companies, so its text cannot be replaced."
        ]
    else:
        assert lines[12:] == [
            "Nobody has signed version 1.0 yet: to publish the edited text under it instead, "
            "run `cla-bot agreements replace individual 1.0`."
        ]


async def test_the_cli_prints_the_hint_after_the_one_line_error(
    sqlite_url: str,
    make_env: Callable[..., dict[str, str]],
    make_settings: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cla-bot purge` (any command that starts the runtime) on an edited text."""
    import asyncio

    await publish(sqlite_url, make_settings(sqlite_url))
    env = make_env(sqlite_url, CLA_TEMPLATES_DIR=str(edited_templates(tmp_path)))
    monkeypatch.setattr("os.environ", env)
    monkeypatch.chdir(tmp_path)
    assert await asyncio.to_thread(cli.main, ["purge"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("{")]
    assert err[0].startswith(
        "cla-bot: configuration error: app.yaml cla.agreements: the text of agreement "
        "'individual' version '1.0'"
    )
    assert err[1].startswith("To publish the edit as a new version:")
    assert "run `cla-bot agreements replace individual 1.0`." in err[-1]
