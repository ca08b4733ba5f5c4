"""Settings: the only module that reads ``os.environ`` (``app.yaml``'s policy is parsed by
:mod:`bot.policy`, which :func:`load` calls).

Everything is validated once, at start-up, into frozen dataclasses. A bad value raises
:class:`bot.errors.SettingsError` whose message is one line naming the setting.

``var/github-app.env`` (under ``CLA_VAR_DIR``), written by the ``/setup`` manifest flow, is read
too when it exists: ``KEY=value`` lines (``#`` comments, blank lines, an optional ``export``
prefix and single or double quotes allowed) holding only ``CLA_GITHUB_*`` variables and
``CLA_PUBLIC_URL`` (the App's webhook and callbacks were registered at that address, so the
links the bot posts must keep using it after the restart). It must be readable by its owner
only (0600). **Environment variables win over the file**, one variable at a
time; the private key counts as one setting, so ``CLA_GITHUB_PRIVATE_KEY`` or
``CLA_GITHUB_PRIVATE_KEY_PATH`` in the environment replaces both of the file's.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address, HeaderRegistry
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from bot.errors import SettingsError
from bot.policy import (
    FIELD_LEVELS as FIELD_LEVELS,
)
from bot.policy import (
    LANGUAGES as LANGUAGES,
)
from bot.policy import (
    SIGNING_FIELDS as SIGNING_FIELDS,
)

# The policy's names, re-exported: callers import them from here as before.
from bot.policy import (
    AgreementSettings as AgreementSettings,
)
from bot.policy import (
    AllowlistSettings as AllowlistSettings,
)
from bot.policy import (
    Policy as Policy,
)
from bot.policy import (
    ReconcileSettings as ReconcileSettings,
)
from bot.policy import (
    ReportSettings as ReportSettings,
)
from bot.policy import (
    RetentionSettings as RetentionSettings,
)
from bot.policy import (
    VersionSettings as VersionSettings,
)
from bot.policy import (
    WorkerSettings as WorkerSettings,
)
from bot.policy import (
    load_config_file as load_config_file,
)

MIN_WEBHOOK_SECRET_BYTES = 16
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/cla.db"
GITHUB_APP_ENV_FILE = "github-app.env"  # under CLA_VAR_DIR; written by /setup
# The settings file the setup pages write, under the name the pages that mention it use.
APP_ENV_FILE = GITHUB_APP_ENV_FILE
GITHUB_APP_ENV_EXTRA = ("CLA_PUBLIC_URL",)  # allowed in that file besides CLA_GITHUB_*
_PRIVATE_KEY_VARS = ("CLA_GITHUB_PRIVATE_KEY", "CLA_GITHUB_PRIVATE_KEY_PATH")
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")  # what CLA_FORWARDED_HEADER may name
DEFAULT_FORWARDED_HEADER = "x-forwarded-for"


@dataclass(frozen=True, slots=True)
class GitHubSettings:
    app_id: str
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    api_url: str
    web_url: str


@dataclass(frozen=True, slots=True)
class GiteeSettings:
    token: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    api_url: str
    web_url: str


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    host: str
    port: int
    public_url: str
    config_path: Path
    var_dir: Path
    templates_dir: Path
    github: GitHubSettings | None
    gitee: GiteeSettings | None
    github_api_url: str
    github_web_url: str
    gitee_api_url: str
    gitee_web_url: str
    manifest: Mapping[str, Any]
    policy: Policy
    env: Mapping[str, str] = field(repr=False)
    log_level: str = "INFO"
    trusted_proxies: tuple[Network, ...] = ()  # whose forwarded-for header is believed
    forwarded_header: str = DEFAULT_FORWARDED_HEADER  # the one header those proxies set
    mail: MailSettings | None = None  # outgoing mail; None: features needing it say so


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def bundled(name: str) -> Path:
    """``templates`` or ``app.yaml`` as shipped with the bot: inside the package in an
    installed wheel (setup.py puts them there), at the top of the checkout otherwise."""
    inside = Path(__file__).resolve().parent / name
    return inside if inside.exists() else _project_root() / name


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(name, "must be an absolute http(s) URL")
    return value.rstrip("/")


def _secret(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if len(value.encode()) < MIN_WEBHOOK_SECRET_BYTES:
        raise SettingsError(
            name,
            f"is missing or shorter than {MIN_WEBHOOK_SECRET_BYTES} bytes; "
            "a configured platform needs a webhook secret",
        )
    return value


def _github(env: Mapping[str, str], api_url: str, web_url: str) -> GitHubSettings | None:
    app_id = env.get("CLA_GITHUB_APP_ID", "").strip()
    key = env.get("CLA_GITHUB_PRIVATE_KEY", "")
    key_path = env.get("CLA_GITHUB_PRIVATE_KEY_PATH", "").strip()
    secret_set = bool(env.get("CLA_GITHUB_WEBHOOK_SECRET"))
    if not (app_id or key or key_path or secret_set):
        return None
    if not app_id:
        raise SettingsError(
            "CLA_GITHUB_APP_ID", "is required when any CLA_GITHUB_* App setting is set"
        )
    if not app_id.isdigit() and not re.fullmatch(r"Iv[0-9A-Za-z.]+", app_id):
        raise SettingsError("CLA_GITHUB_APP_ID", "must be the App's numeric id or client id")
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
    secret = _secret(env, "CLA_GITHUB_WEBHOOK_SECRET")
    client_id = env.get("CLA_GITHUB_CLIENT_ID") or None
    client_secret = env.get("CLA_GITHUB_CLIENT_SECRET") or None
    if bool(client_id) != bool(client_secret):
        missing = "CLA_GITHUB_CLIENT_SECRET" if client_id else "CLA_GITHUB_CLIENT_ID"
        raise SettingsError(missing, "OAuth needs both the client id and the client secret")
    return GitHubSettings(
        app_id=app_id,
        private_key=key,
        webhook_secret=secret,
        client_id=client_id,
        client_secret=client_secret,
        api_url=api_url,
        web_url=web_url,
    )


def _gitee(env: Mapping[str, str]) -> GiteeSettings | None:
    token = env.get("CLA_GITEE_TOKEN", "").strip()
    if not token and not env.get("CLA_GITEE_WEBHOOK_SECRET"):
        return None
    if not token:
        raise SettingsError("CLA_GITEE_TOKEN", "is required when CLA_GITEE_WEBHOOK_SECRET is set")
    secret = _secret(env, "CLA_GITEE_WEBHOOK_SECRET")
    client_id = env.get("CLA_GITEE_CLIENT_ID") or None
    client_secret = env.get("CLA_GITEE_CLIENT_SECRET") or None
    if bool(client_id) != bool(client_secret):
        missing = "CLA_GITEE_CLIENT_SECRET" if client_id else "CLA_GITEE_CLIENT_ID"
        raise SettingsError(missing, "OAuth needs both the client id and the client secret")
    return GiteeSettings(
        token=token,
        webhook_secret=secret,
        client_id=client_id,
        client_secret=client_secret,
        api_url=_url(env, "CLA_GITEE_API_URL", "https://gitee.com/api/v5"),
        web_url=_url(env, "CLA_GITEE_URL", "https://gitee.com"),
    )


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine only (127.0.0.0/8, ::1, localhost): links to it work
    for nobody else, and no forge can deliver a webhook there."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")


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
        if not name.startswith("CLA_GITHUB_") and name not in GITHUB_APP_ENV_EXTRA:
            raise SettingsError(
                f"{where} line {number}",
                f"{name}: only CLA_GITHUB_* and {', '.join(GITHUB_APP_ENV_EXTRA)} belong here",
            )
        values[name] = _unquote(value)
    return values


def _with_github_app_file(env: dict[str, str], var_dir: Path) -> dict[str, str]:
    """``env`` completed by ``var_dir/github-app.env``; the environment wins."""
    from_file = read_github_app_env(var_dir / GITHUB_APP_ENV_FILE)
    if any(env.get(name) for name in _PRIVATE_KEY_VARS):
        for name in _PRIVATE_KEY_VARS:
            from_file.pop(name, None)
    merged = dict(from_file)
    merged.update({k: v for k, v in env.items() if v or k not in from_file})
    return merged


def load(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read and validate every setting. Raises SettingsError naming the first bad one."""
    env = dict(os.environ if env is None else env)
    cwd = cwd or Path.cwd()
    db_url = env.get("CLA_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not re.match(r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://", db_url):
        raise SettingsError(
            "CLA_DATABASE_URL", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    host = env.get("CLA_HOST", "").strip() or "127.0.0.1"
    port_raw = env.get("CLA_PORT", "").strip() or "8080"
    if not port_raw.isdigit() or not 0 <= int(port_raw) <= 65535:
        raise SettingsError("CLA_PORT", "must be a port number between 0 and 65535")
    var_dir = Path(env.get("CLA_VAR_DIR", "").strip() or cwd / "var")
    env = _with_github_app_file(env, var_dir)
    public_url = _url(env, "CLA_PUBLIC_URL", f"http://127.0.0.1:{port_raw}")
    config_path = Path(env.get("CLA_CONFIG", "").strip() or cwd / "app.yaml")
    if not config_path.is_absolute():
        config_path = cwd / config_path
    if not env.get("CLA_CONFIG", "").strip() and not config_path.exists():
        config_path = bundled("app.yaml")  # the stock policy, until the operator writes one
    templates_dir = Path(env.get("CLA_TEMPLATES_DIR", "").strip() or bundled("templates"))
    if not templates_dir.is_dir():
        raise SettingsError("CLA_TEMPLATES_DIR", f"no such directory: {templates_dir}")
    manifest, policy = load_config_file(config_path, templates_dir)
    gh_api = _url(env, "CLA_GITHUB_API_URL", "https://api.github.com")
    gh_web = _url(env, "CLA_GITHUB_URL", "https://github.com")
    level = env.get("CLA_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("CLA_LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")
    return Settings(
        database_url=db_url,
        host=host,
        port=int(port_raw),
        public_url=public_url,
        config_path=config_path,
        var_dir=var_dir,
        templates_dir=templates_dir,
        github=_github(env, gh_api, gh_web),
        gitee=_gitee(env),
        github_api_url=gh_api,
        github_web_url=gh_web,
        gitee_api_url=_url(env, "CLA_GITEE_API_URL", "https://gitee.com/api/v5"),
        gitee_web_url=_url(env, "CLA_GITEE_URL", "https://gitee.com"),
        manifest=manifest,
        policy=policy,
        env=env,
        log_level=level,
        trusted_proxies=trusted_proxies(env),
        forwarded_header=forwarded_header(env),
        mail=mail_settings(env),
    )


# --- behind a reverse proxy ---------------------------------------------------------------------


def trusted_proxies(env: Mapping[str, str]) -> tuple[Network, ...]:
    """``CLA_TRUSTED_PROXIES``: comma-separated networks (``10.0.0.0/8``, ``2001:db8::/32``, a
    bare address for one host) whose forwarded-for header is believed (see bot/web/clientip.py).
    """
    name = "CLA_TRUSTED_PROXIES"
    networks: list[Network] = []
    for item in env.get(name, "").split(","):
        text = item.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=True))
        except ValueError:
            try:
                hint = f"; did you mean {ipaddress.ip_network(text, strict=False)}?"
            except ValueError:
                hint = ""
            raise SettingsError(
                name, f"{text!r} is not a network like 10.0.0.0/8 or 2001:db8::/32{hint}"
            ) from None
    return tuple(networks)


def forwarded_header(env: Mapping[str, str]) -> str:
    """``CLA_FORWARDED_HEADER``: the header the trusted proxies set (lower case)."""
    value = env.get("CLA_FORWARDED_HEADER", "").strip().lower() or DEFAULT_FORWARDED_HEADER
    if value not in FORWARDED_HEADERS:
        raise SettingsError("CLA_FORWARDED_HEADER", "must be X-Forwarded-For or Forwarded")
    return value


# --- outgoing mail ------------------------------------------------------------------------------

SMTP_PORTS = {"smtp": 587, "smtps": 465}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
Tls = Literal["implicit", "starttls", "when-offered"]


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The SMTP server mail goes through, and who it comes from.

    ``tls``: ``implicit`` (``smtps://``: TLS from the first byte), ``starttls`` (``smtp://``:
    the server must offer STARTTLS, else nothing is sent) or ``when-offered`` (``smtp://`` to a
    relay on this machine, which may offer no TLS: nothing leaves the machine in the clear).
    """

    host: str
    port: int
    tls: Tls
    username: str | None
    password: str | None = field(repr=False)
    sender: str  # the address mail comes from (CLA_MAIL_FROM)
    sender_name: str = ""  # its display name, when CLA_MAIL_FROM gives one


def mail_settings(env: Mapping[str, str]) -> MailSettings | None:
    """``CLA_SMTP_URL`` (``smtp://user:password@host:587`` with STARTTLS, or
    ``smtps://user:password@host:465``) and ``CLA_MAIL_FROM`` (``cla@example.org`` or
    ``CLA bot <cla@example.org>``); ``None`` when no SMTP server is set."""
    name = "CLA_SMTP_URL"
    url = env.get(name, "").strip()
    sender_raw = env.get("CLA_MAIL_FROM", "").strip()
    if not url:
        if sender_raw:
            raise SettingsError("CLA_MAIL_FROM", "is set but CLA_SMTP_URL is not")
        return None
    parts = urlsplit(url)
    if parts.scheme not in SMTP_PORTS:
        raise SettingsError(
            name,
            "must look like smtp://user:password@host:587 (STARTTLS) or "
            "smtps://user:password@host:465",
        )
    host = parts.hostname or ""
    if not host:
        raise SettingsError(name, "names no host")
    try:
        port = parts.port or SMTP_PORTS[parts.scheme]
    except ValueError:
        raise SettingsError(name, "has an invalid port") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(name, "takes no path, query or fragment")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and not password:
        raise SettingsError(name, "has a user but no password")
    tls: Tls = "implicit"
    if parts.scheme == "smtp":
        tls = "when-offered" if host.lower() in LOOPBACK_HOSTS else "starttls"
    if not sender_raw:
        raise SettingsError("CLA_MAIL_FROM", "is not set; mail needs a sender address")
    sender = _one_address(sender_raw)
    if sender is None:
        raise SettingsError(
            "CLA_MAIL_FROM", "is not an address like cla@example.org or 'CLA bot <cla@example.org>'"
        )
    return MailSettings(host, port, tls, username, password, sender[1], sender[0])


def _one_address(text: str) -> tuple[str, str] | None:
    """``(display name, address)`` when ``text`` is exactly one plain mailbox, read by the
    standard library's RFC 5322 parser; ``None`` otherwise."""
    if any(c in text for c in "\r\n"):
        return None
    header = HeaderRegistry()("From", text)
    addresses: tuple[Address, ...] = tuple(getattr(header, "addresses", ()))
    if header.defects or len(addresses) != 1:
        return None
    mailbox = addresses[0]
    if not mailbox.username or "." not in mailbox.domain or not mailbox.domain.isascii():
        return None
    return mailbox.display_name, mailbox.addr_spec
