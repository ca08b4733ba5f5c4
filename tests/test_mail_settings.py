"""Outgoing mail's settings: ``CLA_SMTP_URL`` and ``CLA_MAIL_FROM``, validated at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import settings
from bot.errors import SettingsError
from bot.settings import MailSettings, mail_settings

FROM = {"CLA_MAIL_FROM": "CLA bot <cla@example.org>"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://bot:s%40cret@mail.example.org",
            MailSettings(
                "mail.example.org", 587, "starttls", "bot", "s@cret", "cla@example.org", "CLA bot"
            ),
        ),
        (
            "smtps://bot:pw@mail.example.org:2465",
            MailSettings(
                "mail.example.org", 2465, "implicit", "bot", "pw", "cla@example.org", "CLA bot"
            ),
        ),
        (
            "smtps://mail.example.org",
            MailSettings(
                "mail.example.org", 465, "implicit", None, None, "cla@example.org", "CLA bot"
            ),
        ),
        # a relay on this machine may offer no TLS at all: STARTTLS is used when it is offered
        (
            "smtp://127.0.0.1:1025",
            MailSettings(
                "127.0.0.1", 1025, "when-offered", None, None, "cla@example.org", "CLA bot"
            ),
        ),
        (
            "smtp://localhost:25",
            MailSettings("localhost", 25, "when-offered", None, None, "cla@example.org", "CLA bot"),
        ),
        (
            "smtp://[::1]:25",
            MailSettings("::1", 25, "when-offered", None, None, "cla@example.org", "CLA bot"),
        ),
    ],
)
def test_an_smtp_url_names_the_server_and_how_to_secure_it(
    url: str, expected: MailSettings
) -> None:
    assert mail_settings({"CLA_SMTP_URL": url, **FROM}) == expected


def test_no_smtp_url_means_no_mail() -> None:
    assert mail_settings({}) is None
    assert mail_settings({"CLA_SMTP_URL": "  "}) is None


@pytest.mark.parametrize(
    ("env", "name", "problem"),
    [
        (
            {"CLA_SMTP_URL": "http://mail.example.org"},
            "CLA_SMTP_URL",
            "must look like smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465",
        ),
        ({"CLA_SMTP_URL": "smtp://"}, "CLA_SMTP_URL", "names no host"),
        ({"CLA_SMTP_URL": "smtp://mail.example.org:99999"}, "CLA_SMTP_URL", "has an invalid port"),
        (
            {"CLA_SMTP_URL": "smtp://mail.example.org/x?y=1"},
            "CLA_SMTP_URL",
            "takes no path, query or fragment",
        ),
        (
            {"CLA_SMTP_URL": "smtp://bot@mail.example.org"},
            "CLA_SMTP_URL",
            "has a user but no password",
        ),
        (
            {"CLA_SMTP_URL": "smtp://mail.example.org"},
            "CLA_MAIL_FROM",
            "is not set; mail needs a sender address",
        ),
        (
            {"CLA_SMTP_URL": "smtp://mail.example.org", "CLA_MAIL_FROM": "not an address"},
            "CLA_MAIL_FROM",
            "is not an address like cla@example.org or 'CLA bot <cla@example.org>'",
        ),
        (
            {"CLA_SMTP_URL": "smtp://mail.example.org", "CLA_MAIL_FROM": "a@b.org\r\nBcc: x@y.org"},
            "CLA_MAIL_FROM",
            "is not an address like cla@example.org or 'CLA bot <cla@example.org>'",
        ),
        ({"CLA_MAIL_FROM": "cla@example.org"}, "CLA_MAIL_FROM", "is set but CLA_SMTP_URL is not"),
    ],
)
def test_a_bad_mail_setting_names_itself(env: dict[str, str], name: str, problem: str) -> None:
    with pytest.raises(SettingsError) as info:
        mail_settings(env)
    assert (info.value.name, info.value.problem) == (name, problem)


def test_the_password_never_appears_in_an_error() -> None:
    with pytest.raises(SettingsError) as info:
        mail_settings({"CLA_SMTP_URL": "smtp://bot:hunter2-secret@mail.example.org:0x19"})
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(
        mail_settings({"CLA_SMTP_URL": "smtp://bot:hunter2@h.example.org", **FROM})
    )


def test_start_up_reads_the_mail_settings(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    base = {"CLA_CONFIG": str(root / "app.yaml"), "CLA_VAR_DIR": str(tmp_path / "var")}
    loaded = settings.load(
        {**base, "CLA_SMTP_URL": "smtps://mail.example.org", **FROM}, cwd=tmp_path
    )
    assert loaded.mail == MailSettings(
        "mail.example.org", 465, "implicit", None, None, "cla@example.org", "CLA bot"
    )
    assert settings.load(base, cwd=tmp_path).mail is None
    with pytest.raises(SettingsError) as info:
        settings.load({**base, "CLA_SMTP_URL": "smtp://x.example.org"}, cwd=tmp_path)
    assert info.value.name == "CLA_MAIL_FROM"
