"""GitHub's settings, read by its adapter: the bases always, the App when any of its variables
is set, and ``var/github-app.env`` completing the environment (which wins)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.platforms.base import ForgeConfig
from bot.platforms.github.settings import GitHubAppSettings, settings_from_env, with_app_file

PEM = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"
SECRET = "w" * 20


@pytest.mark.parametrize(
    "env", [{}, {"CLA_GITHUB_APP_ID": " ", "CLA_GITHUB_PRIVATE_KEY_PATH": " "}]
)
def test_unconfigured_github_keeps_its_bases(env: dict[str, str]) -> None:
    assert settings_from_env(env) == ForgeConfig(
        web_url="https://github.com", api_url="https://api.github.com"
    )
    ghes = {
        "CLA_GITHUB_URL": "https://ghe.example/",
        "CLA_GITHUB_API_URL": "https://ghe.example/api/v3",
    }
    assert settings_from_env(ghes) == ForgeConfig(
        web_url="https://ghe.example", api_url="https://ghe.example/api/v3"
    )


def test_an_app_from_the_environment() -> None:
    env = {
        "CLA_GITHUB_APP_ID": "77",
        "CLA_GITHUB_PRIVATE_KEY": PEM.replace("\n", "\\n"),
        "CLA_GITHUB_WEBHOOK_SECRET": SECRET,
        "CLA_GITHUB_CLIENT_ID": "Iv1.x",
        "CLA_GITHUB_CLIENT_SECRET": "client-secret",
    }
    app = settings_from_env(env).settings
    assert app == GitHubAppSettings(
        webhook_secret=SECRET,
        client_id="Iv1.x",
        client_secret="client-secret",
        api_url="https://api.github.com",
        web_url="https://github.com",
        app_id="77",
        private_key=PEM,
    )
    assert (
        SECRET not in repr(app) and "client-secret" not in repr(app) and "PRIVATE" not in repr(app)
    )


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"CLA_GITHUB_WEBHOOK_SECRET": SECRET}, "CLA_GITHUB_APP_ID"),
        ({"CLA_GITHUB_APP_ID": "not an id"}, "CLA_GITHUB_APP_ID"),
        ({"CLA_GITHUB_APP_ID": "1"}, "CLA_GITHUB_PRIVATE_KEY"),
        (
            {"CLA_GITHUB_APP_ID": "1", "CLA_GITHUB_PRIVATE_KEY": "not a key"},
            "CLA_GITHUB_PRIVATE_KEY",
        ),
        (
            {"CLA_GITHUB_APP_ID": "1", "CLA_GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
            "CLA_GITHUB_PRIVATE_KEY_PATH",
        ),
        ({"CLA_GITHUB_APP_ID": "1", "CLA_GITHUB_PRIVATE_KEY": PEM}, "CLA_GITHUB_WEBHOOK_SECRET"),
        (
            {
                "CLA_GITHUB_APP_ID": "1",
                "CLA_GITHUB_PRIVATE_KEY": PEM,
                "CLA_GITHUB_WEBHOOK_SECRET": SECRET,
                "CLA_GITHUB_CLIENT_ID": "Iv1.x",
            },
            "CLA_GITHUB_CLIENT_SECRET",
        ),
    ],
)
def test_a_bad_app_setting_is_named(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as exc:
        settings_from_env(env)
    assert exc.value.name == name


def _saved(var_dir: Path, text: str) -> None:
    var_dir.mkdir()
    path = var_dir / "github-app.env"
    path.write_text(text)
    os.chmod(path, 0o600)


def test_the_saved_file_completes_the_environment(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    _saved(
        var_dir,
        "CLA_GITHUB_APP_ID=11\nCLA_GITHUB_PRIVATE_KEY_PATH=/saved.pem\nCLA_PUBLIC_URL=https://cla.example\n",
    )
    assert with_app_file({"CLA_GITHUB_APP_ID": "22", "CLA_PORT": "1"}, var_dir) == {
        "CLA_GITHUB_APP_ID": "22",
        "CLA_GITHUB_PRIVATE_KEY_PATH": "/saved.pem",
        "CLA_PUBLIC_URL": "https://cla.example",
        "CLA_PORT": "1",
    }
    # The private key is one setting: the environment's inline key replaces the file's path.
    merged = with_app_file({"CLA_GITHUB_PRIVATE_KEY": PEM}, var_dir)
    assert "CLA_GITHUB_PRIVATE_KEY_PATH" not in merged and merged["CLA_GITHUB_PRIVATE_KEY"] == PEM
    # An empty variable does not hide the file's value.
    assert with_app_file({"CLA_GITHUB_APP_ID": ""}, var_dir)["CLA_GITHUB_APP_ID"] == "11"


def test_no_saved_file_leaves_the_environment(tmp_path: Path) -> None:
    assert with_app_file({"CLA_PORT": "1"}, tmp_path / "var") == {"CLA_PORT": "1"}
