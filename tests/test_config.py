"""The parsing helpers the settings and every forge's adapter share: one line naming the bad
variable, never its value."""

from __future__ import annotations

import pytest

from bot.config import (
    forge_secrets_setting,
    is_loopback_url,
    url_setting,
    webhook_secret_setting,
)
from bot.errors import SettingsError

SECRET = "s" * 16


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "https://default.example"),
        ("  ", "https://default.example"),
        ("https://ghe.example/api/v3/", "https://ghe.example/api/v3"),
        ("http://127.0.0.1:9", "http://127.0.0.1:9"),
    ],
)
def test_a_url_setting_is_absolute_without_a_trailing_slash(value: str, expected: str) -> None:
    assert url_setting({"CLA_X_URL": value}, "CLA_X_URL", "https://default.example") == expected


@pytest.mark.parametrize("value", ["ghe.example", "ftp://ghe.example", "https://"])
def test_a_bad_url_names_its_variable(value: str) -> None:
    with pytest.raises(SettingsError) as exc:
        url_setting({"CLA_X_URL": value}, "CLA_X_URL", "https://default.example")
    assert str(exc.value) == "CLA_X_URL: must be an absolute http(s) URL"


@pytest.mark.parametrize("value", ["", "fifteen-bytes!!", "é" * 7])
def test_a_short_webhook_secret_is_refused_without_its_value(value: str) -> None:
    with pytest.raises(SettingsError) as exc:
        webhook_secret_setting({"CLA_X_WEBHOOK_SECRET": value}, "CLA_X_WEBHOOK_SECRET")
    assert exc.value.name == "CLA_X_WEBHOOK_SECRET"
    assert value not in str(exc.value) or not value


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CLA_X_WEBHOOK_SECRET": SECRET}, (SECRET, None, None)),
        (
            {"CLA_X_WEBHOOK_SECRET": SECRET, "CLA_X_CLIENT_ID": "i", "CLA_X_CLIENT_SECRET": "c"},
            (SECRET, "i", "c"),
        ),
    ],
)
def test_forge_secrets(env: dict[str, str], expected: tuple[str, str | None, str | None]) -> None:
    assert forge_secrets_setting(env, "CLA_X") == expected


@pytest.mark.parametrize(
    ("oauth", "missing"),
    [
        ({"CLA_X_CLIENT_ID": "i"}, "CLA_X_CLIENT_SECRET"),
        ({"CLA_X_CLIENT_SECRET": "c"}, "CLA_X_CLIENT_ID"),
    ],
)
def test_an_oauth_client_needs_both_halves(oauth: dict[str, str], missing: str) -> None:
    with pytest.raises(SettingsError) as exc:
        forge_secrets_setting({"CLA_X_WEBHOOK_SECRET": SECRET, **oauth}, "CLA_X")
    assert exc.value.name == missing


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost", True),
        ("http://[::1]:8080", True),
        ("http://bot.localhost", True),
        ("https://cla.example.org", False),
        ("http://10.0.0.5", False),
    ],
)
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
