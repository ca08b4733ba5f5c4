"""The policy: ``app.yaml``'s ``cla`` section (agreements and their versions, what the PR
shows, the allowlist, the worker, retention and reconciliation), validated into frozen
dataclasses by :func:`load_config_file`. A bad value raises :class:`bot.errors.SettingsError`
naming it (``app.yaml cla.…``). :mod:`bot.settings` reads the environment and calls it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.errors import SettingsError

SIGNING_FIELDS = ("company", "name", "title", "address", "email", "phone", "fax")
FIELD_LEVELS = ("required", "optional", "off")
LANGUAGES = ("en", "zh")


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
    # The languages its PR texts are written in (the first, then the second below it); set from
    # the community's ``languages`` (bot.communities).
    languages: tuple[str, ...] = ("en",)
    # corporate CLAs: a proven, approved domain covers its addresses (domain), or only employees
    # who proved their work address and a manager enabled (confirm)
    corporate_employees: str = "domain"

    def agreement(self, agreement_id: str) -> AgreementSettings:
        for a in self.agreements:
            if a.agreement_id == agreement_id:
                return a
        raise KeyError(agreement_id)


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


# Paths of the signing pages (bot/web/signing.py, company_sign.py) an agreement id would clash
# with: /sign/login/…, /sign/<agreement>/done, /sign/<agreement>/confirm.
RESERVED_AGREEMENT_IDS = frozenset({"login", "oauth", "logout", "done", "confirm"})


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
        if aid in RESERVED_AGREEMENT_IDS:
            raise SettingsError(
                f"app.yaml {path}.id",
                f"{aid!r} names a signing page (/sign/…/{aid}); pick another id",
            )
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
    corp = _get(cla, "corporate", "cla", dict, {})
    employees = _get(corp, "employees", "cla.corporate", str, "domain")
    if employees not in ("domain", "confirm"):
        raise SettingsError("app.yaml cla.corporate.employees", "must be domain or confirm")
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
        corporate_employees=employees,
        check_committers=_get(cla, "check_committers", "cla", bool, False),
        allowlist=allowlist,
        worker=worker,
        gitee_timestamp_window_s=window,
        privacy_url=privacy_url,
    )


def policy_from_mapping(cla: Mapping[str, Any], templates_dir: Path) -> Policy:
    """The policy a mapping shaped as ``app.yaml``'s ``cla`` section describes (agreement texts
    read from ``templates_dir``). A bad value raises SettingsError naming ``app.yaml cla.…``."""
    return _policy(cla, templates_dir)


# The sections of app.yaml that are the bot's own; every other key is the GitHub App manifest.
POLICY_SECTIONS = frozenset({"cla", "communities", "default_community"})


def read_config_file(path: Path) -> dict[str, Any]:
    """app.yaml as parsed YAML (a mapping); a missing, unreadable or malformed file raises
    SettingsError naming CLA_CONFIG."""
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
    return raw


def manifest_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The GitHub App manifest part of a parsed app.yaml: every key but the policy's."""
    return {k: v for k, v in raw.items() if k not in POLICY_SECTIONS}


def load_config_file(path: Path, templates_dir: Path) -> tuple[dict[str, Any], Policy]:
    """Parse a file with a ``cla:`` section into the GitHub App manifest and that policy."""
    raw = read_config_file(path)
    cla = raw.get("cla")
    if not isinstance(cla, dict):
        raise SettingsError("app.yaml cla", "the policy section is missing")
    return manifest_of(raw), _policy(cla, templates_dir)
