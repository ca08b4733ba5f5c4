"""GitHub's settings: the ``CLA_GITHUB_*`` variables, and ``var/github-app.env``.

``var/github-app.env`` (under ``CLA_VAR_DIR``), written by the ``/setup`` manifest flow, is read
too when it exists: ``KEY=value`` lines (``#`` comments, blank lines, an optional ``export``
prefix and single or double quotes allowed) holding only ``CLA_GITHUB_*`` variables and
``CLA_PUBLIC_URL`` (the App's webhook and callbacks were registered at that address, so the
links the bot posts must keep using it after the restart). It must be readable by its owner
only (0600). **Environment variables win over the file**, one variable at a time; the private
key counts as one setting, so ``CLA_GITHUB_PRIVATE_KEY`` or ``CLA_GITHUB_PRIVATE_KEY_PATH`` in
the environment replaces both of the file's.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import forge_secrets_setting, url_setting
from bot.errors import SettingsError
from bot.platforms.base import ForgeConfig, ForgeCredentials, SavedEnv

APP_ENV_FILE = "github-app.env"  # under CLA_VAR_DIR; written by /setup
APP_PEM_FILE = "github-app.pem"
APP_ENV_EXTRA = ("CLA_PUBLIC_URL",)  # allowed in that file besides CLA_GITHUB_*
DEFAULT_WEB_URL = "https://github.com"
DEFAULT_API_URL = "https://api.github.com"
_PRIVATE_KEY_VARS = ("CLA_GITHUB_PRIVATE_KEY", "CLA_GITHUB_PRIVATE_KEY_PATH")
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)")


@dataclass(frozen=True, slots=True)
class GitHubAppSettings(ForgeCredentials):
    """A configured GitHub App: its id and private key besides what every forge has."""

    app_id: str
    private_key: str = field(repr=False)


def _private_key(env: Mapping[str, str]) -> str:
    key = env.get("CLA_GITHUB_PRIVATE_KEY", "")
    key_path = env.get("CLA_GITHUB_PRIVATE_KEY_PATH", "").strip()
    if key and key_path:
        raise SettingsError(
            "CLA_GITHUB_PRIVATE_KEY", "set either it or CLA_GITHUB_PRIVATE_KEY_PATH, not both"
        )
    if key_path:
        try:
            key = Path(key_path).read_text()
        except OSError as exc:
            raise SettingsError(
                "CLA_GITHUB_PRIVATE_KEY_PATH", f"cannot read the file ({exc.strerror})"
            ) from None
        name = "CLA_GITHUB_PRIVATE_KEY_PATH"
    else:
        name = "CLA_GITHUB_PRIVATE_KEY"
        key = key.replace("\\n", "\n")
    if "PRIVATE KEY-----" not in key:
        raise SettingsError(name, "is not a PEM private key")
    return key


def settings_from_env(env: Mapping[str, str]) -> ForgeConfig:
    """GitHub's bases, and the App when any of its settings is set (then all must be)."""
    api_url = url_setting(env, "CLA_GITHUB_API_URL", DEFAULT_API_URL)
    web_url = url_setting(env, "CLA_GITHUB_URL", DEFAULT_WEB_URL)
    app_id = env.get("CLA_GITHUB_APP_ID", "").strip()
    key_path = env.get("CLA_GITHUB_PRIVATE_KEY_PATH", "").strip()
    key, secret_set = env.get("CLA_GITHUB_PRIVATE_KEY"), env.get("CLA_GITHUB_WEBHOOK_SECRET")
    if not (app_id or key or key_path or secret_set):
        return ForgeConfig(web_url=web_url, api_url=api_url)
    if not app_id:
        raise SettingsError(
            "CLA_GITHUB_APP_ID", "is required when any CLA_GITHUB_* App setting is set"
        )
    if not app_id.isdigit() and not re.fullmatch(r"Iv[0-9A-Za-z.]+", app_id):
        raise SettingsError("CLA_GITHUB_APP_ID", "must be the App's numeric id or client id")
    key = _private_key(env)
    secret, client_id, client_secret = forge_secrets_setting(env, "CLA_GITHUB")
    app = GitHubAppSettings(
        secret, client_id, client_secret, api_url, web_url, app_id=app_id, private_key=key
    )
    return ForgeConfig(web_url=web_url, api_url=api_url, settings=app)


# --- var/github-app.env ----------------------------------------------------------------------


def _unquote(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def read_github_app_env(path: Path) -> dict[str, str]:
    """The ``CLA_GITHUB_*`` variables (and ``CLA_PUBLIC_URL``) of an env file written by
    ``/setup`` (``{}`` when the file does not exist). Raises SettingsError for a file others
    can read or a bad line."""
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(where, f"cannot open ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SettingsError(where, "is not a regular file")
        if mode & 0o077:
            raise SettingsError(
                where,
                f"permissions {stat.S_IMODE(mode):04o} are wider than 0600 and it holds "
                "secrets; run chmod 600 on it",
            )
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(where, "is not UTF-8 text") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _ENV_LINE.fullmatch(stripped)
        if m is None:
            raise SettingsError(f"{where} line {number}", "expected NAME=value")
        name, value = m.group(1), m.group(2)
        if not name.startswith("CLA_GITHUB_") and name not in APP_ENV_EXTRA:
            raise SettingsError(
                f"{where} line {number}",
                f"{name}: only CLA_GITHUB_* and {', '.join(APP_ENV_EXTRA)} belong here",
            )
        values[name] = _unquote(value)
    return values


def with_app_file(env: Mapping[str, str], var_dir: Path) -> dict[str, str]:
    """``env`` completed by ``var_dir/github-app.env``; the environment wins."""
    from_file = read_github_app_env(var_dir / APP_ENV_FILE)
    if any(env.get(name) for name in _PRIVATE_KEY_VARS):
        for name in _PRIVATE_KEY_VARS:
            from_file.pop(name, None)
    merged = dict(from_file)
    merged.update({k: v for k, v in env.items() if v or k not in from_file})
    return merged


SAVED_ENV = SavedEnv(file_name=APP_ENV_FILE, merge=with_app_file)
