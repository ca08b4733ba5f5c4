"""The communities ``app.yaml`` declares, validated into frozen dataclasses by
:func:`load_communities`.

A file with only today's ``cla:`` section describes one community, ``default``, whose policy is
exactly what :func:`bot.policy.policy_from_mapping` builds from it. A file with a
``communities:`` list describes each entry: its id, name, languages, privacy notice, admins,
links (``gitee:mindspore``, ``github:acme/widgets``) and any policy key ``cla:`` accepts; a
policy key an entry leaves out is the ``cla:`` section's (shallow: an entry's ``report:``
replaces the whole of ``cla.report``). The deployment-wide keys (:data:`DEPLOYMENT_KEYS`) stay
in ``cla:``. ``default_community:`` names the community of repositories no link names; without
it they have no CLA.

A bad value raises :class:`bot.errors.SettingsError` naming where it is written
(``app.yaml communities[1].links[0]``; ``app.yaml cla.report`` when an entry took that key from
``cla:``). Forges are plain names here: the caller passes those of the registry.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.communities import DEFAULT_COMMUNITY, Link, LinkTable, Scope, parse_scope
from bot.errors import SettingsError
from bot.policy import LANGUAGES, Policy, policy_from_mapping

# The keys of ``cla:`` an entry of ``communities:`` may set for itself ...
POLICY_KEYS = (
    "required_agreement",
    "agreements",
    "report",
    "allowlist",
    "co_authors",
    "ai_agents",
    "check_committers",
    "corporate",
    "privacy_url",
)
# ... and those that hold for the whole deployment, set in ``cla:`` only.
DEPLOYMENT_KEYS = ("worker", "retention", "reconcile", "gitee_timestamp_window_s")
# The keys only an entry has.
COMMUNITY_KEYS = ("id", "name", "languages", "admins", "links")
COMMUNITY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# The signing pages' own paths under /sign/ (bot/web/signing.py), which no community may take.
RESERVED_IDS = frozenset({"login", "oauth", "logout"})
DEFAULT_NAME = "Default"
DEFAULT_LANGUAGES = ("en",)


@dataclass(frozen=True, slots=True)
class Community:
    """One community: its agreements and rules (``policy``), the languages its messages are
    written in (the first first), its privacy notice, the people named as its admins (besides
    the forge's own admins of what it links) and its links."""

    id: str
    name: str
    languages: tuple[str, ...]
    privacy_url: str | None
    admins: tuple[tuple[str, str], ...]  # (forge, login lower-cased)
    links: tuple[Link, ...]
    policy: Policy


@dataclass(frozen=True, slots=True)
class Communities:
    """Every community of the deployment, and the id of the default one (None: a repository no
    link names has no CLA). Ids are unique, the default is one of them and no scope is linked
    twice (ValueError otherwise)."""

    communities: tuple[Community, ...]
    default: str | None
    _table: LinkTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = self.ids()
        if len(set(ids)) != len(ids):
            raise ValueError(f"community ids must be unique: {', '.join(ids)}")
        if self.default is not None and self.default not in ids:
            raise ValueError(f"the default community {self.default!r} is not declared")
        links = [link for c in self.communities for link in c.links]
        for c in self.communities:
            if any(link.community != c.id for link in c.links):
                raise ValueError(f"community {c.id!r} holds another community's link")
        object.__setattr__(self, "_table", LinkTable(links, self.default))

    def get(self, community_id: str) -> Community | None:
        for c in self.communities:
            if c.id == community_id:
                return c
        return None

    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.communities)

    def table(self) -> LinkTable:
        """Every community's links and the default: which community a repository belongs to."""
        return self._table


def load_communities(
    raw: Mapping[str, Any], templates_dir: Path, *, forges: Collection[str]
) -> Communities:
    """The communities of ``raw``, the whole parsed ``app.yaml`` (``cla:`` included), with
    agreement texts read from ``templates_dir``; ``forges`` are the names links and admins may
    use. Raises SettingsError naming the first bad value."""
    cla = raw.get("cla")
    declared = raw.get("communities")
    default = raw.get("default_community")
    if default is not None and not isinstance(default, str):
        raise SettingsError("app.yaml default_community", "must be a community id")
    if declared is None:
        if not isinstance(cla, Mapping):
            raise SettingsError("app.yaml cla", "the policy section is missing")
        if default not in (None, DEFAULT_COMMUNITY):
            raise SettingsError(
                "app.yaml default_community",
                f"must be {DEFAULT_COMMUNITY!r} (or left out) when there is no communities: list",
            )
        policy = policy_from_mapping(cla, templates_dir)
        only = Community(
            id=DEFAULT_COMMUNITY,
            name=DEFAULT_NAME,
            languages=DEFAULT_LANGUAGES,
            privacy_url=policy.privacy_url,
            admins=(),
            links=(),
            policy=policy,
        )
        return Communities((only,), DEFAULT_COMMUNITY)
    if cla is None:
        cla = {}
    if not isinstance(cla, Mapping):
        raise SettingsError("app.yaml cla", "must be a mapping")
    if not isinstance(declared, list) or not declared:
        raise SettingsError("app.yaml communities", "must list at least one community")
    out: list[Community] = []
    linked: dict[Scope, str] = {}  # scope -> where it was first linked
    for i, entry in enumerate(declared):
        out.append(_community(entry, i, cla, templates_dir, forges, [c.id for c in out], linked))
    ids = [c.id for c in out]
    if default is not None and default not in ids:
        raise SettingsError(
            "app.yaml default_community",
            f"no community with id {default!r}; declared: {', '.join(ids)}",
        )
    return Communities(tuple(out), default)


def _community(
    entry: object,
    index: int,
    cla: Mapping[str, Any],
    templates_dir: Path,
    forges: Collection[str],
    taken: Collection[str],
    linked: dict[Scope, str],
) -> Community:
    where = f"communities[{index}]"
    if not isinstance(entry, Mapping):
        raise SettingsError(f"app.yaml {where}", "must be a mapping")
    for key in entry:
        if key in DEPLOYMENT_KEYS:
            raise SettingsError(
                f"app.yaml {where}.{key}",
                f"holds for the whole deployment; set it in cla.{key}",
            )
        if key not in COMMUNITY_KEYS and key not in POLICY_KEYS:
            raise SettingsError(
                f"app.yaml {where}.{key}",
                f"unknown key; use {', '.join((*COMMUNITY_KEYS, *POLICY_KEYS))}",
            )
    community_id = entry.get("id")
    if not isinstance(community_id, str) or not COMMUNITY_ID.fullmatch(community_id):
        raise SettingsError(
            f"app.yaml {where}.id",
            "must be a slug of 1 to 63 lower-case letters, digits or -, starting with a "
            "letter or digit",
        )
    if community_id in RESERVED_IDS:
        raise SettingsError(
            f"app.yaml {where}.id",
            f"{community_id!r} names a signing page (/sign/{community_id}/…); pick another id",
        )
    if community_id in taken:
        raise SettingsError(f"app.yaml {where}.id", f"duplicate community id {community_id!r}")
    name = entry.get("name", community_id)
    if not isinstance(name, str) or not name.strip():
        raise SettingsError(f"app.yaml {where}.name", "must be a non-empty string")
    languages = _languages(entry, where)
    admins = _admins(entry, where, forges)
    links = _links(entry, where, community_id, forges, linked)
    policy = _policy(entry, where, cla, templates_dir)
    return Community(
        id=community_id,
        name=name.strip(),
        languages=languages,
        privacy_url=policy.privacy_url,
        admins=admins,
        links=links,
        policy=dataclasses.replace(policy, languages=languages),
    )


def _str_items(entry: Mapping[str, Any], key: str, where: str) -> list[tuple[str, str]]:
    """``entry[key]``, a list of strings, each with its path."""
    value = entry.get(key, [])
    if not isinstance(value, list):
        raise SettingsError(f"app.yaml {where}.{key}", "must be a list")
    items: list[tuple[str, str]] = []
    for j, item in enumerate(value):
        if not isinstance(item, str):
            raise SettingsError(f"app.yaml {where}.{key}[{j}]", "must be a string")
        items.append((f"app.yaml {where}.{key}[{j}]", item))
    return items


def _languages(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    if "languages" not in entry:
        return DEFAULT_LANGUAGES
    items = _str_items(entry, "languages", where)
    if not items:
        raise SettingsError(f"app.yaml {where}.languages", "must list at least one language")
    out: list[str] = []
    for path, lang in items:
        if lang not in LANGUAGES:
            raise SettingsError(path, f"unknown language {lang!r}; use {', '.join(LANGUAGES)}")
        if lang in out:
            raise SettingsError(path, f"{lang!r} is listed twice")
        out.append(lang)
    return tuple(out)


def _scope(path: str, text: str, forges: Collection[str]) -> tuple[str, str, str | None]:
    try:
        forge, owner, repo = parse_scope(text)
    except ValueError as exc:
        raise SettingsError(path, str(exc)) from None
    if forge not in forges:
        raise SettingsError(path, f"unknown forge {forge!r}; use {', '.join(sorted(forges))}")
    return forge, owner, repo


def _admins(
    entry: Mapping[str, Any], where: str, forges: Collection[str]
) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for path, text in _str_items(entry, "admins", where):
        forge, login, repo = _scope(path, text, forges)
        if repo is not None:
            raise SettingsError(path, f"{text!r} must be forge:login, without '/'")
        admin = (forge, login.lower())
        if admin in out:
            raise SettingsError(path, f"{text!r} is listed twice")
        out.append(admin)
    return tuple(out)


def _links(
    entry: Mapping[str, Any],
    where: str,
    community_id: str,
    forges: Collection[str],
    linked: dict[Scope, str],
) -> tuple[Link, ...]:
    out: list[Link] = []
    for path, text in _str_items(entry, "links", where):
        link = Link(*_scope(path, text, forges), community_id)
        first = linked.get(link.scope)
        if first is not None:
            raise SettingsError(path, f"{link} is already linked at {first}")
        linked[link.scope] = path.removeprefix("app.yaml ")
        out.append(link)
    return tuple(out)


def _policy(
    entry: Mapping[str, Any], where: str, cla: Mapping[str, Any], templates_dir: Path
) -> Policy:
    """The entry's policy: its own policy keys, else ``cla:``'s, and ``cla:``'s deployment-wide
    keys. An error names the entry's key when the value is the entry's (or nobody's), and the
    ``cla:`` key when the entry took it from there."""
    merged = {key: cla[key] for key in DEPLOYMENT_KEYS if key in cla}
    for key in POLICY_KEYS:
        if key in entry:
            merged[key] = entry[key]
        elif key in cla:
            merged[key] = cla[key]
    try:
        return policy_from_mapping(merged, templates_dir)
    except SettingsError as exc:
        raise _moved(exc, where, entry, cla) from None


def _moved(
    exc: SettingsError, where: str, entry: Mapping[str, Any], cla: Mapping[str, Any]
) -> SettingsError:
    """``exc``, raised for ``app.yaml cla.<key>…``, renamed to the entry's ``<key>`` unless
    the entry took that key from ``cla:``."""
    prefix = "app.yaml cla."
    if not exc.name.startswith(prefix):
        return exc
    rest = exc.name.removeprefix(prefix)
    key = re.match(r"[a-z_]*", rest)
    top = key.group(0) if key else ""
    problem = exc.problem
    if top == "required_agreement" and top not in entry and top in cla and "agreements" in entry:
        # cla.required_agreement names no agreement of this community's own
        problem = f"{problem} (taken from cla.required_agreement; set one for this community)"
    elif top not in entry and top in cla:
        return exc
    return SettingsError(f"app.yaml {where}.{rest}", problem, hint=exc.hint)
