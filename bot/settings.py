"""Settings: the only module that reads ``os.environ`` and ``app.yaml``.

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

import yaml

from bot.errors import SettingsError

MIN_WEBHOOK_SECRET_BYTES = 16
SIGNING_FIELDS = ("company", "name", "title", "address", "email", "phone", "fax")
FIELD_LEVELS = ("required", "optional", "off")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/cla.db"
LANGUAGES = ("en", "zh")
GITHUB_APP_ENV_FILE = "github-app.env"  # under CLA_VAR_DIR; written by /setup
GITHUB_APP_ENV_EXTRA = ("CLA_PUBLIC_URL",)  # allowed in that file besides CLA_GITHUB_*
_PRIVATE_KEY_VARS = ("CLA_GITHUB_PRIVATE_KEY", "CLA_GITHUB_PRIVATE_KEY_PATH")
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")  # what CLA_FORWARDED_HEADER may name
DEFAULT_FORWARDED_HEADER = "x-forwarded-for"


@dataclass(frozen=True, slots=True)
class VersionSettings:
    version: str
    text_path: str  # relative to the templates directory
    text: str
    compatible: bool  # False: a re-sign version
    fields: Mapping[str, str]  # field -> required/optional/off
    translations: Mapping[str, str] = field(default_factory=dict)  # language -> text


@dataclass(frozen=True, slots=True)
class AgreementSettings:
    agreement_id: str
    title: str
    kind: str  # individual / corporate
    versions: tuple[VersionSettings, ...]


@dataclass(frozen=True, slots=True)
class AllowlistSettings:
    logins: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    default_bots: bool = True


@dataclass(frozen=True, slots=True)
class ReportSettings:
    status_context: str = "cla"
    label_covered: str = "cla/yes"
    label_missing: str = "cla/no"
    comment_when_covered: str = "edit-only"
    github: str = "both"  # status | check | both: commit status, check run, or both
    check_failure_conclusion: str = "action_required"  # or failure

    @property
    def statuses(self) -> bool:
        """GitHub gets a commit status (branch protection rules name it)."""
        return self.github in ("status", "both")

    @property
    def check_runs(self) -> bool:
        """GitHub gets a check run (needs the App permission ``checks: write``)."""
        return self.github in ("check", "both")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_attempts: int = 8
    lease_s: float = 120.0
    concurrency: int = 4
    poll_s: float = 1.0


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    pending_days: int = 90  # contributor records of PRs left unchecked this long
    jobs_days: int = 35  # finished job rows (GitHub redelivers up to 30 days back)
    interval_s: int = 3600  # how often the worker runs the purge


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    redeliver_interval_s: int = 600  # GitHub: redeliver deliveries that never succeeded
    redeliver_lookback_h: float = 24.0  # how far back each pass looks
    sweep_interval_s: int = 3600  # both platforms: re-check stale open PRs
    stale_after_s: int = 86400  # a PR unchecked this long counts as stale


@dataclass(frozen=True, slots=True)
class Policy:
    required_agreement: str
    agreements: tuple[AgreementSettings, ...]
    report: ReportSettings
    co_authors: str
    check_committers: bool
    allowlist: AllowlistSettings
    worker: WorkerSettings
    gitee_timestamp_window_s: int
    privacy_url: str | None = None
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    ai_agents: str = "allow"  # allow | warn | require

    def agreement(self, agreement_id: str) -> AgreementSettings:
        for a in self.agreements:
            if a.agreement_id == agreement_id:
                return a
        raise KeyError(agreement_id)


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


# --- app.yaml -------------------------------------------------------------------------------


def _get(
    d: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], default: Any
) -> Any:
    value = d.get(key, default)
    if not isinstance(value, kind):
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SettingsError(f"app.yaml {path}.{key}", f"must be a {want}")
    return value


def _str_list(d: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = _get(d, key, path, list, [])
    for i, item in enumerate(value):
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise SettingsError(f"app.yaml {path}.{key}[{i}]", "must be a string")
    return tuple(str(v) for v in value)


def _agreements(cla: Mapping[str, Any], templates_dir: Path) -> tuple[AgreementSettings, ...]:
    raw = _get(cla, "agreements", "cla", list, [])
    if not raw:
        raise SettingsError("app.yaml cla.agreements", "must list at least one agreement")
    seen: set[str] = set()
    out: list[AgreementSettings] = []
    for i, a in enumerate(raw):
        path = f"cla.agreements[{i}]"
        if not isinstance(a, dict):
            raise SettingsError(f"app.yaml {path}", "must be a mapping")
        aid = _get(a, "id", path, str, "")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", aid):
            raise SettingsError(f"app.yaml {path}.id", "must be lower-case letters, digits, - or _")
        if aid in seen:
            raise SettingsError(f"app.yaml {path}.id", f"duplicate agreement id {aid!r}")
        seen.add(aid)
        title = _get(a, "title", path, str, "")
        if not title:
            raise SettingsError(f"app.yaml {path}.title", "is required")
        kind = _get(a, "kind", path, str, "individual")
        if kind not in ("individual", "corporate"):
            raise SettingsError(f"app.yaml {path}.kind", "must be individual or corporate")
        versions: list[VersionSettings] = []
        raw_versions = _get(a, "versions", path, list, [])
        if not raw_versions:
            raise SettingsError(f"app.yaml {path}.versions", "must list at least one version")
        for j, v in enumerate(raw_versions):
            vpath = f"{path}.versions[{j}]"
            if not isinstance(v, dict):
                raise SettingsError(f"app.yaml {vpath}", "must be a mapping")
            version = str(_get(v, "version", vpath, (str, int, float), ""))
            if not version or version in {x.version for x in versions}:
                raise SettingsError(f"app.yaml {vpath}.version", "must be set and unique")
            text_path = _get(v, "text", vpath, str, "")
            full = (templates_dir / text_path).resolve()
            if not text_path or templates_dir.resolve() not in full.parents:
                raise SettingsError(f"app.yaml {vpath}.text", "must name a file under templates/")
            try:
                text = full.read_text(encoding="utf-8")
            except OSError:
                raise SettingsError(f"app.yaml {vpath}.text", f"cannot read {text_path}") from None
            compat = _get(v, "compatibility", vpath, str, "compatible")
            if compat not in ("compatible", "re-sign"):
                raise SettingsError(
                    f"app.yaml {vpath}.compatibility", "must be compatible or re-sign"
                )
            fields_raw = _get(v, "fields", vpath, dict, {"name": "required", "email": "required"})
            fields: dict[str, str] = {}
            for fname, level in fields_raw.items():
                if fname not in SIGNING_FIELDS:
                    raise SettingsError(
                        f"app.yaml {vpath}.fields.{fname}",
                        f"unknown field; use {', '.join(SIGNING_FIELDS)}",
                    )
                if level not in FIELD_LEVELS:
                    raise SettingsError(
                        f"app.yaml {vpath}.fields.{fname}", "must be required, optional or off"
                    )
                fields[fname] = level
            translations: dict[str, str] = {}
            for lang, tpath in _get(v, "translations", vpath, dict, {}).items():
                where = f"app.yaml {vpath}.translations.{lang}"
                if lang not in LANGUAGES:
                    raise SettingsError(where, f"language must be one of {', '.join(LANGUAGES)}")
                tfull = (templates_dir / str(tpath)).resolve()
                if templates_dir.resolve() not in tfull.parents:
                    raise SettingsError(where, "must name a file under templates/")
                try:
                    translations[lang] = tfull.read_text(encoding="utf-8")
                except OSError:
                    raise SettingsError(where, f"cannot read {tpath}") from None
            if fields.get("email", "required") == "off":
                raise SettingsError(
                    f"app.yaml {vpath}.fields.email", "the email field cannot be off"
                )
            versions.append(
                VersionSettings(
                    version=version,
                    text_path=text_path,
                    text=text,
                    compatible=compat == "compatible",
                    fields=fields,
                    translations=translations,
                )
            )
        out.append(AgreementSettings(aid, title, kind, tuple(versions)))
    return tuple(out)


def _policy(cla: Mapping[str, Any], templates_dir: Path) -> Policy:
    agreements = _agreements(cla, templates_dir)
    required = _get(cla, "required_agreement", "cla", str, agreements[0].agreement_id)
    if required not in {a.agreement_id for a in agreements}:
        raise SettingsError("app.yaml cla.required_agreement", f"no agreement with id {required!r}")
    rep = _get(cla, "report", "cla", dict, {})
    report = ReportSettings(
        status_context=_get(rep, "status_context", "cla.report", str, "cla"),
        label_covered=_get(rep, "label_covered", "cla.report", str, "cla/yes"),
        label_missing=_get(rep, "label_missing", "cla.report", str, "cla/no"),
        comment_when_covered=_get(rep, "comment_when_covered", "cla.report", str, "edit-only"),
        github=_get(rep, "github", "cla.report", str, "both"),
        check_failure_conclusion=_get(
            rep, "check_failure_conclusion", "cla.report", str, "action_required"
        ),
    )
    if report.github not in ("status", "check", "both"):
        raise SettingsError("app.yaml cla.report.github", "must be status, check or both")
    if report.check_failure_conclusion not in ("action_required", "failure"):
        raise SettingsError(
            "app.yaml cla.report.check_failure_conclusion", "must be action_required or failure"
        )
    if report.comment_when_covered not in ("edit-only", "always"):
        raise SettingsError(
            "app.yaml cla.report.comment_when_covered", "must be edit-only or always"
        )
    for key in ("status_context", "label_covered", "label_missing"):
        value = getattr(report, key)
        if not value or len(value) > 50:
            raise SettingsError(f"app.yaml cla.report.{key}", "must be 1 to 50 characters")
    if report.label_covered == report.label_missing:
        raise SettingsError("app.yaml cla.report.label_missing", "must differ from label_covered")
    co = _get(cla, "co_authors", "cla", str, "require")
    if co not in ("require", "warn", "ignore"):
        raise SettingsError("app.yaml cla.co_authors", "must be require, warn or ignore")
    ai_agents = _get(cla, "ai_agents", "cla", str, "allow")
    if ai_agents not in ("allow", "warn", "require"):
        raise SettingsError("app.yaml cla.ai_agents", "must be allow, warn or require")
    al = _get(cla, "allowlist", "cla", dict, {})
    allowlist = AllowlistSettings(
        logins=_str_list(al, "logins", "cla.allowlist"),
        account_ids=_str_list(al, "account_ids", "cla.allowlist"),
        email_domains=_str_list(al, "email_domains", "cla.allowlist"),
        default_bots=_get(al, "default_bots", "cla.allowlist", bool, True),
    )
    for i, acc in enumerate(allowlist.account_ids):
        if not re.fullmatch(r"(github|gitee):\d+", acc):
            raise SettingsError(
                f"app.yaml cla.allowlist.account_ids[{i}]", "must look like github:123 or gitee:123"
            )
    for i, dom in enumerate(allowlist.email_domains):
        if not re.fullmatch(r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", dom):
            raise SettingsError(
                f"app.yaml cla.allowlist.email_domains[{i}]",
                "must be a domain like example.com or *.example.com",
            )
    wk = _get(cla, "worker", "cla", dict, {})
    worker = WorkerSettings(
        max_attempts=_get(wk, "max_attempts", "cla.worker", int, 8),
        lease_s=float(_get(wk, "lease_s", "cla.worker", (int, float), 120)),
        concurrency=_get(wk, "concurrency", "cla.worker", int, 4),
        poll_s=float(_get(wk, "poll_s", "cla.worker", (int, float), 1.0)),
    )
    if not 1 <= worker.max_attempts <= 100:
        raise SettingsError("app.yaml cla.worker.max_attempts", "must be between 1 and 100")
    if not 5 <= worker.lease_s <= 3600:
        raise SettingsError("app.yaml cla.worker.lease_s", "must be between 5 and 3600 seconds")
    if not 1 <= worker.concurrency <= 64:
        raise SettingsError("app.yaml cla.worker.concurrency", "must be between 1 and 64")
    privacy_url = _get(cla, "privacy_url", "cla", (str, type(None)), None)
    if privacy_url is not None:
        parts = urlsplit(privacy_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError("app.yaml cla.privacy_url", "must be an absolute http(s) URL")
    window = _get(cla, "gitee_timestamp_window_s", "cla", int, 3600)
    if not 60 <= window <= 86400:
        raise SettingsError("app.yaml cla.gitee_timestamp_window_s", "must be 60 to 86400")
    rt = _get(cla, "retention", "cla", dict, {})
    retention = RetentionSettings(
        pending_days=_get(rt, "pending_days", "cla.retention", int, 90),
        jobs_days=_get(rt, "jobs_days", "cla.retention", int, 35),
        interval_s=_get(rt, "interval_s", "cla.retention", int, 3600),
    )
    if not 1 <= retention.pending_days <= 3650:
        raise SettingsError("app.yaml cla.retention.pending_days", "must be 1 to 3650 days")
    if not 31 <= retention.jobs_days <= 3650:
        raise SettingsError(
            "app.yaml cla.retention.jobs_days",
            "must be 31 to 3650 days (GitHub redelivers up to 30 days back)",
        )
    if not 60 <= retention.interval_s <= 86400:
        raise SettingsError("app.yaml cla.retention.interval_s", "must be 60 to 86400 seconds")
    rc = _get(cla, "reconcile", "cla", dict, {})
    reconcile = ReconcileSettings(
        redeliver_interval_s=_get(rc, "redeliver_interval_s", "cla.reconcile", int, 600),
        redeliver_lookback_h=float(
            _get(rc, "redeliver_lookback_h", "cla.reconcile", (int, float), 24)
        ),
        sweep_interval_s=_get(rc, "sweep_interval_s", "cla.reconcile", int, 3600),
        stale_after_s=_get(rc, "stale_after_s", "cla.reconcile", int, 86400),
    )
    for key, low, high in (
        ("redeliver_interval_s", 60, 86400),
        ("sweep_interval_s", 60, 7 * 86400),
        ("stale_after_s", 300, 90 * 86400),
    ):
        if not low <= getattr(reconcile, key) <= high:
            raise SettingsError(f"app.yaml cla.reconcile.{key}", f"must be {low} to {high} seconds")
    if not 1 <= reconcile.redeliver_lookback_h <= 720:
        raise SettingsError(
            "app.yaml cla.reconcile.redeliver_lookback_h", "must be 1 to 720 hours (30 days)"
        )
    return Policy(
        reconcile=reconcile,
        retention=retention,
        required_agreement=required,
        agreements=agreements,
        report=report,
        co_authors=co,
        ai_agents=ai_agents,
        check_committers=_get(cla, "check_committers", "cla", bool, False),
        allowlist=allowlist,
        worker=worker,
        gitee_timestamp_window_s=window,
        privacy_url=privacy_url,
    )


def load_config_file(path: Path, templates_dir: Path) -> tuple[dict[str, Any], Policy]:
    """Parse app.yaml into the GitHub App manifest (every key but ``cla``) and the policy."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError("CLA_CONFIG", f"no such file: {path}") from None
    except OSError as exc:
        raise SettingsError("CLA_CONFIG", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError("CLA_CONFIG", f"{path} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise SettingsError("CLA_CONFIG", f"{path} must be a mapping")
    cla = raw.get("cla")
    if not isinstance(cla, dict):
        raise SettingsError("app.yaml cla", "the policy section is missing")
    manifest = {k: v for k, v in raw.items() if k != "cla"}
    return manifest, _policy(cla, templates_dir)


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
