"""Settings: the only module that reads ``os.environ`` (``app.yaml``'s policy is parsed by
:mod:`bot.policy`, which :func:`load` calls).

Everything is validated once, at start-up, into frozen dataclasses. A bad value raises
:class:`bot.errors.SettingsError` whose message is one line naming the setting.

A forge's variables are read by its adapter (``settings_from_env``, in
``bot/platforms/<forge>/settings.py``): :func:`load` asks every forge of the registry and keeps
the answers in :attr:`Settings.forges`. A forge whose setup page saves settings under
``CLA_VAR_DIR`` (GitHub's ``var/github-app.env``) completes the environment first
(``Forge.saved_env``; the environment wins), so that a saved ``CLA_PUBLIC_URL`` counts too.
The parsing helpers every part shares live in :mod:`bot.config`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address, HeaderRegistry
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from bot.communities import Communities, load_communities
from bot.config import MIN_WEBHOOK_SECRET_BYTES as MIN_WEBHOOK_SECRET_BYTES
from bot.config import is_loopback_url as is_loopback_url
from bot.config import url_setting
from bot.core.model import Platform
from bot.errors import SettingsError
from bot.platforms import registry
from bot.platforms.base import ForgeConfig, ForgeSettings
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
from bot.policy import manifest_of, read_config_file

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/cla.db"
# The files the forges' setup pages save settings in (under CLA_VAR_DIR), for the pages that
# mention them.
SAVED_ENV_FILES = tuple(f.saved_env.file_name for f in registry.FORGES if f.saved_env)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")  # what CLA_FORWARDED_HEADER may name
DEFAULT_FORWARDED_HEADER = "x-forwarded-for"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    host: str
    port: int
    public_url: str
    config_path: Path
    var_dir: Path
    templates_dir: Path
    # Every forge of the registry: its bases, and its settings when it is configured.
    forges: Mapping[Platform, ForgeConfig]
    manifest: Mapping[str, Any]
    policy: Policy  # the deployment's: its default community's, else its first community's
    communities: Communities
    env: Mapping[str, str] = field(repr=False)
    log_level: str = "INFO"
    trusted_proxies: tuple[Network, ...] = ()  # whose forwarded-for header is believed
    forwarded_header: str = DEFAULT_FORWARDED_HEADER  # the one header those proxies set
    mail: MailSettings | None = None  # outgoing mail; None: features needing it say so

    @property
    def home_community(self) -> str:
        """The community whose policy :attr:`policy` is (the default, else the first)."""
        return self.communities.default or self.communities.communities[0].id

    def community_policy(self, community: str) -> Policy | None:
        """The policy of ``community`` (its agreements, report, privacy notice); ``None`` for
        a community this deployment does not have."""
        found = self.communities.get(community)
        return found.policy if found is not None else None

    def configured(self, name: str) -> ForgeSettings | None:
        """The settings of the forge called ``name`` when it is configured, else ``None``."""
        found = self.forges.get(Platform(name))
        return found.settings if found else None


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def bundled(name: str) -> Path:
    """``templates`` or ``app.yaml`` as shipped with the bot: inside the package in an
    installed wheel (setup.py puts them there), at the top of the checkout otherwise."""
    inside = Path(__file__).resolve().parent / name
    return inside if inside.exists() else _project_root() / name


def _saved_env(env: dict[str, str], var_dir: Path) -> dict[str, str]:
    """``env`` completed by what each forge's setup page saved under ``var_dir``."""
    for forge in registry.FORGES:
        if forge.saved_env is not None:
            env = forge.saved_env.merge(env, var_dir)
    return env


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
    env = _saved_env(env, var_dir)
    public_url = url_setting(env, "CLA_PUBLIC_URL", f"http://127.0.0.1:{port_raw}")
    config_path = Path(env.get("CLA_CONFIG", "").strip() or cwd / "app.yaml")
    if not config_path.is_absolute():
        config_path = cwd / config_path
    if not env.get("CLA_CONFIG", "").strip() and not config_path.exists():
        config_path = bundled("app.yaml")  # the stock policy, until the operator writes one
    templates_dir = Path(env.get("CLA_TEMPLATES_DIR", "").strip() or bundled("templates"))
    if not templates_dir.is_dir():
        raise SettingsError("CLA_TEMPLATES_DIR", f"no such directory: {templates_dir}")
    raw = read_config_file(config_path)
    communities = load_communities(raw, templates_dir, forges=[f.name for f in registry.FORGES])
    # The deployment's policy: its default community's, else its first community's (the keys
    # that hold for the whole deployment — worker, retention, reconcile — are the same in all).
    primary = communities.get(communities.default or "") or communities.communities[0]
    forges = {forge.name: forge.settings_from_env(env) for forge in registry.FORGES}
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
        forges=MappingProxyType(forges),
        manifest=manifest_of(raw),
        policy=primary.policy,
        communities=communities,
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
