"""The end of GitHub's manifest flow: the code GitHub sends back exchanged for the new App's
credentials (``POST {CLA_GITHUB_API_URL}/app-manifests/{code}/conversions``, no auth), and those
credentials written to ``var/github-app.env`` and ``var/github-app.pem`` (0600, never
overwritten) for :mod:`bot.platforms.github.settings` to read at the next start. Nothing secret
is logged, and no secret is in a repr."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.errors import BotError
from bot.platforms.github.settings import APP_ENV_FILE, APP_PEM_FILE

_CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
_SAFE_ENV_VALUE = re.compile(r"[A-Za-z0-9._/:@+=,-]*")


@dataclass(frozen=True)
class AppCredentials:
    """What ``POST /app-manifests/{code}/conversions`` answers (the secrets never in repr)."""

    app_id: int
    slug: str
    name: str
    html_url: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str | None = field(repr=False)
    client_secret: str = field(repr=False)

    @property
    def install_url(self) -> str:
        return f"{self.html_url.rstrip('/')}/installations/new"


class SetupError(BotError):
    """A step of the flow failed; the message says what to do and holds no secret."""


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise SetupError(f"GitHub's answer has no {key}; start again at /setup")
    return value


async def convert_code(api_url: str, code: str, *, timeout_s: float = 15.0) -> AppCredentials:
    """Exchange the manifest code for the App's credentials (no authentication needed)."""
    if not _CODE.fullmatch(code):
        raise SetupError("GitHub sent back a malformed code; start again at /setup")
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "cla-bot",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.post(url, headers=headers) as resp,
        ):
            status = resp.status
            body = await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SetupError(
            f"could not reach {api_url} ({type(exc).__name__}); check CLA_GITHUB_API_URL and "
            "the network, then start again at /setup"
        ) from None
    if status != 201:
        raise SetupError(
            f"GitHub refused the code (HTTP {status}). A code works once and only within an "
            "hour; start again at /setup (delete the half-made App in GitHub's settings if "
            "one was created)"
        )
    try:
        data = json.loads(body)
    except ValueError:
        raise SetupError("GitHub's answer is not JSON; start again at /setup") from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise SetupError("GitHub's answer has no App id; start again at /setup")
    secret = data.get("webhook_secret")
    return AppCredentials(
        app_id=int(data["id"]),
        slug=_text(data, "slug"),
        name=str(data.get("name") or data["slug"]),
        html_url=_text(data, "html_url"),
        client_id=_text(data, "client_id"),
        pem=_text(data, "pem"),
        webhook_secret=secret if isinstance(secret, str) and secret else None,
        client_secret=_text(data, "client_secret"),
    )


# -- files --------------------------------------------------------------------------------------


def _env_value(value: str) -> str:
    if _SAFE_ENV_VALUE.fullmatch(value):
        return value
    return '"' + re.sub(r'([\\"$`])', r"\\\1", value) + '"'


def env_lines(
    creds: AppCredentials, pem_path: Path, *, urls: list[tuple[str, str]] | None = None
) -> list[str]:
    lines = [
        f"# GitHub App {creds.slug} ({creds.html_url}), registered by cla-bot /setup.",
        "# Read by cla-bot at start-up; environment variables win over these values.",
        f"CLA_GITHUB_APP_ID={creds.app_id}",
        f"CLA_GITHUB_PRIVATE_KEY_PATH={_env_value(str(pem_path))}",
    ]
    if creds.webhook_secret is not None:
        lines.append(f"CLA_GITHUB_WEBHOOK_SECRET={_env_value(creds.webhook_secret)}")
    else:
        lines.append(
            "# GitHub sent no webhook secret: set one (16+ bytes) in the App's settings and add "
            "CLA_GITHUB_WEBHOOK_SECRET=it here."
        )
    lines.append(f"CLA_GITHUB_CLIENT_ID={_env_value(creds.client_id)}")
    lines.append(f"CLA_GITHUB_CLIENT_SECRET={_env_value(creds.client_secret)}")
    lines += [f"{name}={_env_value(value)}" for name, value in urls or ()]
    return lines


def _create_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600; never replace an existing file (O_EXCL)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise


def write_app_files(
    var_dir: Path, creds: AppCredentials, *, urls: list[tuple[str, str]] | None = None
) -> tuple[Path, Path]:
    """Write ``github-app.pem`` and ``github-app.env`` under ``var_dir`` (0600, both new).

    Raises FileExistsError when either exists (nothing is overwritten, nothing half-written).
    """
    os.makedirs(var_dir, mode=0o700, exist_ok=True)
    env_path = (var_dir / APP_ENV_FILE).absolute()
    pem_path = (var_dir / APP_PEM_FILE).absolute()
    for path in (env_path, pem_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(str(path))
    _create_secret_file(pem_path, creds.pem.encode("ascii"))
    try:
        text = "\n".join(env_lines(creds, pem_path, urls=urls)) + "\n"
        _create_secret_file(env_path, text.encode("utf-8"))
    except BaseException:
        pem_path.unlink(missing_ok=True)
        raise
    return env_path, pem_path
