"""Settings are validated at start-up; a bad one stops the process with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import settings
from bot.errors import SettingsError

ROOT = Path(__file__).resolve().parent.parent


def load(tmp_path: Path, **env: str) -> settings.Settings:
    base = {"CLA_CONFIG": str(ROOT / "app.yaml"), "CLA_VAR_DIR": str(tmp_path / "var")}
    return settings.load({**base, **env}, cwd=tmp_path)


def test_defaults(tmp_path: Path) -> None:
    s = load(tmp_path)
    assert s.database_url == "sqlite+aiosqlite:///var/cla.db"
    assert (s.host, s.port, s.public_url) == ("127.0.0.1", 8080, "http://127.0.0.1:8080")
    assert sorted(s.forges) == ["gitee", "github"]
    assert [s.configured(name) for name in ("github", "gitee")] == [None, None]
    assert (s.forges["github"].web_url, s.forges["github"].api_url) == (
        "https://github.com",
        "https://api.github.com",
    )
    assert (s.forges["gitee"].web_url, s.forges["gitee"].api_url) == (
        "https://gitee.com",
        "https://gitee.com/api/v5",
    )
    assert s.policy.report.status_context == "cla"
    assert (s.policy.report.label_covered, s.policy.report.label_missing) == ("cla/yes", "cla/no")
    assert s.policy.co_authors == "require"
    assert s.policy.ai_agents == "allow"
    assert s.policy.corporate_employees == "domain"
    assert s.policy.allowlist.default_bots is True
    assert s.policy.report.github == "both"
    assert s.policy.report.check_failure_conclusion == "action_required"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"CLA_PORT": "80800"}, "CLA_PORT"),
        ({"CLA_PUBLIC_URL": "cla.example.org"}, "CLA_PUBLIC_URL"),
        ({"CLA_DATABASE_URL": "mysql://x"}, "CLA_DATABASE_URL"),
        ({"CLA_GITHUB_APP_ID": "1"}, "CLA_GITHUB_PRIVATE_KEY"),
        ({"CLA_GITHUB_WEBHOOK_SECRET": "x" * 20}, "CLA_GITHUB_APP_ID"),
        ({"CLA_GITEE_TOKEN": "t"}, "CLA_GITEE_WEBHOOK_SECRET"),
        ({"CLA_GITEE_TOKEN": "t", "CLA_GITEE_WEBHOOK_SECRET": "short"}, "CLA_GITEE_WEBHOOK_SECRET"),
        ({"CLA_GITHUB_API_URL": "api.github.example"}, "CLA_GITHUB_API_URL"),
        ({"CLA_GITEE_URL": "ftp://gitee.example"}, "CLA_GITEE_URL"),
        (
            {
                "CLA_GITEE_TOKEN": "t",
                "CLA_GITEE_WEBHOOK_SECRET": "s" * 16,
                "CLA_GITEE_CLIENT_ID": "c",
            },
            "CLA_GITEE_CLIENT_SECRET",
        ),
        ({"CLA_CONFIG": "/nonexistent/app.yaml"}, "CLA_CONFIG"),
        ({"CLA_LOG_LEVEL": "LOUD"}, "CLA_LOG_LEVEL"),
    ],
)
def test_bad_environment_names_the_setting(tmp_path: Path, env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load(tmp_path, **env)
    assert exc.value.name == name
    assert "\n" not in str(exc.value)


def test_github_secret_shorter_than_16_bytes_is_refused(tmp_path: Path) -> None:
    pem = tmp_path / "k.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SettingsError) as exc:
        load(
            tmp_path,
            CLA_GITHUB_APP_ID="1",
            CLA_GITHUB_PRIVATE_KEY_PATH=str(pem),
            CLA_GITHUB_WEBHOOK_SECRET="fifteen-bytes!!",
        )
    assert exc.value.name == "CLA_GITHUB_WEBHOOK_SECRET"
    assert "fifteen" not in str(exc.value)  # never echo a secret


@pytest.mark.parametrize(
    ("yaml_text", "name"),
    [
        (
            "cla: {co_authors: sometimes, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.co_authors",
        ),
        (
            "cla: {ai_agents: ignore, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.ai_agents",
        ),
        (
            "cla: {ai_agents: [allow], agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.ai_agents",
        ),
        (
            "cla: {corporate: {employees: everyone}, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.corporate.employees",
        ),
        (
            "cla: {corporate: confirm, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.corporate",
        ),
        (
            "cla: {report: {github: checks}, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.report.github",
        ),
        (
            "cla: {report: {check_failure_conclusion: neutral}, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.report.check_failure_conclusion",
        ),
        ("cla: {agreements: []}", "app.yaml cla.agreements"),
        (
            "cla: {agreements: [{id: a, title: A, versions: [{version: '1', text: ../../etc/passwd}]}]}",
            "app.yaml cla.agreements[0].versions[0].text",
        ),
        (
            "cla: {agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md, fields: {shoe_size: required}}]}]}",
            "app.yaml cla.agreements[0].versions[0].fields.shoe_size",
        ),
        (
            "cla: {required_agreement: b, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.required_agreement",
        ),
        (
            "cla: {allowlist: {email_domains: ['@@']}, agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}",
            "app.yaml cla.allowlist.email_domains[0]",
        ),
        ("name: x\n", "app.yaml cla"),
        ("cla: [unclosed", "CLA_CONFIG"),
    ],
)
def test_bad_app_yaml_names_the_setting(tmp_path: Path, yaml_text: str, name: str) -> None:
    cfg = tmp_path / "app.yaml"
    cfg.write_text(yaml_text)
    with pytest.raises(SettingsError) as exc:
        load(tmp_path, CLA_CONFIG=str(cfg))
    assert exc.value.name == name


def test_manifest_is_everything_but_the_policy(tmp_path: Path) -> None:
    s = load(tmp_path)
    assert "cla" not in s.manifest
    assert set(s.manifest["default_permissions"]) == {
        "metadata",
        "contents",
        "pull_requests",
        "issues",
        "statuses",
        "checks",
        "merge_queues",
        "email_addresses",
        "members",
    }
    assert s.manifest["default_events"] == [
        "pull_request",
        "issue_comment",
        "merge_group",
        "check_run",
        "check_suite",
    ]


def test_secrets_are_not_in_repr(tmp_path: Path) -> None:
    pem = tmp_path / "k.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----\n")
    s = load(
        tmp_path,
        CLA_GITHUB_APP_ID="1",
        CLA_GITHUB_PRIVATE_KEY_PATH=str(pem),
        CLA_GITHUB_WEBHOOK_SECRET="a-very-secret-webhook-value",
    )
    text = repr(s)
    assert "SECRETKEYBYTES" not in text and "a-very-secret-webhook-value" not in text


def test_cli_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CLA_PORT": "nope", "CLA_CONFIG": str(ROOT / "app.yaml")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "cla-bot: configuration error: CLA_PORT: must be a port number between 0 and 65535"
    ]


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["worker"],
        ["migrate"],
        ["import"],
        ["audit"],
        ["purge"],
        ["status"],
        ["export"],
        ["token"],
        ["token", "create"],
        ["import-from"],
    ],
)
def test_every_command_answers_help(command: list[str], capsys: Any) -> None:
    from bot.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    assert "usage: cla-bot" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["allow", "warn", "require"])
def test_ai_agents(tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "app.yaml"
    cfg.write_text(
        f"cla: {{ai_agents: {value}, agreements: [{{id: a, title: A, versions: "
        "[{version: '1', text: agreements/individual-1.0.md}]}]}"
    )
    assert load(tmp_path, CLA_CONFIG=str(cfg)).policy.ai_agents == value


@pytest.mark.parametrize(
    ("value", "statuses", "check_runs"),
    [("status", True, False), ("check", False, True), ("both", True, True)],
)
def test_report_github(tmp_path: Path, value: str, statuses: bool, check_runs: bool) -> None:
    cfg = tmp_path / "app.yaml"
    cfg.write_text(
        f"cla: {{report: {{github: {value}, check_failure_conclusion: failure}}, agreements: "
        "[{id: a, title: A, versions: [{version: '1', text: agreements/individual-1.0.md}]}]}"
    )
    report = load(tmp_path, CLA_CONFIG=str(cfg)).policy.report
    assert (report.github, report.statuses, report.check_runs) == (value, statuses, check_runs)
    assert report.check_failure_conclusion == "failure"
