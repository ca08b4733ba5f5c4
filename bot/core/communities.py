"""Communities: which community's agreements and policy apply to a repository.

A deployment serves several communities; each owns agreements, a policy and links that bind
forge scopes (an owner with all its repositories, or one repository) to it. A scope is written
``<forge>:<owner>`` or ``<forge>:<owner>/<repo>`` (``gitee:mindspore``,
``github:acme/widgets``). :class:`LinkTable` answers which community a repository belongs to: a
repository's own link wins over its owner's; a repository with neither gets the deployment's
default community, or none at all ("no CLA configured").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# The community a file with only a ``cla:`` section describes, and the one existing data
# migrates into.
DEFAULT_COMMUNITY = "default"

Scope = tuple[str, str, str | None]  # (forge, owner, repo or None), owner and repo lower-cased


def parse_scope(text: str) -> tuple[str, str, str | None]:
    """``"<forge>:<owner>"`` or ``"<forge>:<owner>/<repo>"`` as ``(forge, owner, repo)``, the
    parts as written (``repo`` is None for an owner). Raises ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"must be a string like forge:owner or forge:owner/repo, not {text!r}")
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} must be forge:owner or forge:owner/repo without spaces")
    forge, colon, rest = text.partition(":")
    if not colon:
        raise ValueError(f"{text!r} names no forge; write forge:owner or forge:owner/repo")
    if not forge:
        raise ValueError(f"{text!r} has an empty forge name before ':'")
    if ":" in rest:
        raise ValueError(f"{text!r} has more than one ':'")
    if rest.count("/") > 1:
        raise ValueError(f"{text!r} has more than one '/'; a scope is an owner or one repository")
    owner, slash, repo = rest.partition("/")
    if not owner:
        raise ValueError(f"{text!r} has an empty owner")
    if slash and not repo:
        raise ValueError(f"{text!r} has an empty repository name after '/'")
    return forge, owner, repo if slash else None


@dataclass(frozen=True, slots=True)
class Link:
    """``platform``'s owner ``owner`` (all its repositories, ``repo`` None) or its repository
    ``owner/repo`` belongs to ``community``. Owner and repository are stored lower-cased:
    forges compare them without case."""

    platform: str
    owner: str
    repo: str | None
    community: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", self.owner.lower())
        if self.repo is not None:
            object.__setattr__(self, "repo", self.repo.lower())

    @property
    def scope(self) -> Scope:
        return (self.platform, self.owner, self.repo)

    def __str__(self) -> str:
        where = self.owner if self.repo is None else f"{self.owner}/{self.repo}"
        return f"{self.platform}:{where}"


@dataclass(frozen=True, slots=True, init=False)
class LinkTable:
    """Every link of a deployment, and its default community (None: a repository no link
    names has no CLA). Two links of one scope are refused with ValueError."""

    links: tuple[Link, ...]
    default: str | None
    _by_scope: dict[Scope, Link] = field(init=False, repr=False, compare=False)

    def __init__(self, links: Iterable[Link], default: str | None) -> None:
        object.__setattr__(self, "links", tuple(links))
        object.__setattr__(self, "default", default)
        by_scope: dict[Scope, Link] = {}
        for link in self.links:
            first = by_scope.get(link.scope)
            if first is not None:
                raise ValueError(
                    f"{link} is linked twice: to {first.community!r} and to {link.community!r}"
                )
            by_scope[link.scope] = link
        object.__setattr__(self, "_by_scope", by_scope)

    def resolve(self, platform: str, full_name: str) -> str | None:
        """The community of ``platform``'s repository ``full_name`` (``owner/repo``, any case):
        its own link's, else its owner's, else the default; None means no CLA is configured."""
        owner, slash, repo = full_name.lower().partition("/")
        if not owner or not slash or not repo:
            raise ValueError(f"{full_name!r} is not a repository's owner/repo")
        found = self._by_scope.get((platform, owner, repo)) or self._by_scope.get(
            (platform, owner, None)
        )
        return found.community if found is not None else self.default


def sign_path(community: str, agreement: str) -> str:
    """The signing page of ``agreement`` in ``community``: ``/sign/<community>/<agreement>``,
    and ``/sign/<agreement>`` for the default community (the links posted before there were
    communities keep working)."""
    if community == DEFAULT_COMMUNITY:
        return f"/sign/{agreement}"
    return f"/sign/{community}/{agreement}"
