"""Who is covered by what: allowlists, agreement versions, and one verdict per contributor.

The shell looks signatures up (by account id first, then by the contributor's emails) and hands
:func:`evaluate` the union, keyed by :attr:`Identity.key`. Everything else is decided here.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.identity import BotKind, Contributor, KnownBot, normalise_email, recognise
from bot.core.model import (
    Agreement,
    AiAgentPolicy,
    CoAuthorPolicy,
    Platform,
    Role,
    SignatureFact,
)

__all__ = [
    "Allowlist",
    "ContributorResult",
    "Coverage",
    "Verdict",
    "allowlisted",
    "counting_versions",
    "evaluate",
    "glob_to_regex",
]


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """An anchored, case-insensitive regex for a login glob: only ``*`` and ``?`` are wildcards.

    Unlike :mod:`fnmatch`, ``[`` and ``]`` are literal, so ``dependabot[bot]`` matches exactly
    that login and nothing else.
    """
    return _compiled(pattern)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Contributors that need no signature.

    ``logins``: globs over the whole login (``*``, ``?``; case-insensitive), optionally prefixed
    with a platform (``github:dependabot[bot]``) to apply on that platform only.
    ``account_keys``: identity keys such as ``github:123``.
    ``email_domains``: ``example.com`` matches exactly that domain, ``*.example.com`` only its
    subdomains; they cover email-only contributors whose every email is in such a domain.
    ``known``: the well-known bots and AI agents the shell loaded (:class:`KnownBot`); its bots
    are allowlisted (the shell leaves them out when ``cla.allowlist.default_bots`` is false),
    its AI agents are what ``ai_agents`` says.
    """

    logins: tuple[str, ...] = ()
    account_keys: frozenset[str] = frozenset()
    email_domains: tuple[str, ...] = ()
    known: tuple[KnownBot, ...] = ()
    ai_agents: AiAgentPolicy = AiAgentPolicy.ALLOW

    def recognise(self, contributor: Contributor) -> KnownBot | None:
        """The well-known bot or AI agent ``contributor`` is, if any."""
        return recognise(contributor, self.known)

    def matches_login(self, platform: Platform, login: str) -> bool:
        """A login pattern, or a well-known bot's login (:meth:`KnownBot.matches_login`)."""
        if any(
            entry.kind is BotKind.BOT and entry.matches_login(platform, login)
            for entry in self.known
        ):
            return True
        for pattern in self.logins:
            pattern = pattern.strip()
            scope, colon, glob = pattern.partition(":")
            if colon:
                if scope.lower() != platform:
                    continue
            else:
                glob = pattern
            if glob_to_regex(glob).fullmatch(login) is not None:
                return True
        return False

    def matches_domain(self, email: str) -> bool:
        local, at, domain = normalise_email(email).rpartition("@")
        if not at or not local or not domain:
            return False
        for allowed in self.email_domains:
            allowed = allowed.strip().lower()
            if allowed.startswith("*."):
                suffix = allowed[1:]  # ".example.com"
                if len(domain) > len(suffix) and domain.endswith(suffix):
                    return True
            elif allowed and domain == allowed:
                return True
        return False


def allowlisted(contributor: Contributor, allowlist: Allowlist) -> bool:
    """Named by the allowlist, or a well-known bot (an AI agent is not a bot here: whether it
    needs a signature is ``ai_agents``' call)."""
    known = allowlist.recognise(contributor)
    if known is not None and known.kind is BotKind.BOT:
        return True
    identity = contributor.identity
    if identity.is_account:
        if identity.key in allowlist.account_keys:
            return True
        return (
            identity.platform is not None
            and identity.login is not None
            and allowlist.matches_login(identity.platform, identity.login)
        )
    emails = contributor.emails or ((identity.email,) if identity.email is not None else ())
    return bool(emails) and all(allowlist.matches_domain(email) for email in emails)


class EmployeeCoverage(enum.StrEnum):
    """What a company's domain does (``cla.corporate.employees``): ``DOMAIN`` — a proven,
    approved domain covers every address there; ``CONFIRM`` — the domain alone covers nobody,
    only employees who proved their address and a manager enabled."""

    DOMAIN = "domain"
    CONFIRM = "confirm"


class Verdict(enum.StrEnum):
    SIGNED = "signed"
    ALLOWLISTED = "allowlisted"  # also: an AI agent under ``AiAgentPolicy.ALLOW``
    UNSIGNED = "unsigned"  # an account with no valid signature
    UNLINKED = "unlinked"  # an email the forge could not link to an account, not covered
    RESIGN = "resign"  # signed only versions that a later incompatible version superseded
    RESTRICTED = "restricted"  # a valid signature whose owner restricted its processing

    @property
    def covered(self) -> bool:
        return self in (Verdict.SIGNED, Verdict.ALLOWLISTED)


@dataclass(frozen=True, slots=True)
class ContributorResult:
    """``agent``: the name of the AI agent the contributor was recognised as (from the table of
    :class:`KnownBot`), shown instead of the login: an agent is never mentioned, and the account
    the forge linked to an agent's address may be a stranger's."""

    contributor: Contributor
    verdict: Verdict
    signature: SignatureFact | None
    blocking: bool
    agent: str | None = None

    @property
    def covered(self) -> bool:
        return self.verdict.covered


@dataclass(frozen=True, slots=True)
class Coverage:
    results: tuple[ContributorResult, ...]

    @property
    def blocking(self) -> tuple[ContributorResult, ...]:
        return tuple(r for r in self.results if r.blocking)

    @property
    def warnings(self) -> tuple[ContributorResult, ...]:
        """Uncovered contributors that do not fail the check (co-authors under ``WARN``)."""
        return tuple(r for r in self.results if not r.covered and not r.blocking)

    @property
    def passes(self) -> bool:
        """Nobody blocks: the check succeeds."""
        return not any(r.blocking for r in self.results)


def counting_versions(agreement: Agreement) -> frozenset[str]:
    """Versions whose signatures count today: the current one, and earlier ones that no
    ``compatible_with_previous=False`` version published after them superseded."""
    cutoff = 0
    for index, version in enumerate(agreement.versions):
        if index > 0 and not version.compatible_with_previous:
            cutoff = index
    return frozenset(v.version for v in agreement.versions[cutoff:])


def _best(facts: Iterable[SignatureFact], order: Mapping[str, int]) -> SignatureFact | None:
    """The fact of the latest version, then the latest signing time."""
    return max(facts, key=lambda f: (order.get(f.version, -1), f.signed_at), default=None)


def _verdict(
    contributor: Contributor,
    facts: Sequence[SignatureFact],
    *,
    agreement: Agreement,
    counting: frozenset[str],
    order: Mapping[str, int],
    allowlist: Allowlist,
    corporate: Mapping[str, frozenset[str]],
    agent: bool,
    employees: EmployeeCoverage,
) -> tuple[Verdict, SignatureFact | None]:
    if allowlisted(contributor, allowlist):
        return Verdict.ALLOWLISTED, None
    if agent and allowlist.ai_agents is AiAgentPolicy.ALLOW:
        return Verdict.ALLOWLISTED, None
    mine = [f for f in facts if f.agreement_id == agreement.agreement_id]
    valid = [f for f in mine if f.version in counting]
    usable = [f for f in valid if not f.restricted]
    if usable:
        return Verdict.SIGNED, _best(usable, order)
    through_company = [
        f
        for f in facts
        if f.corporate
        and f.version in corporate.get(f.agreement_id, frozenset())
        and not (f.by_domain and employees is EmployeeCoverage.CONFIRM)
    ]
    if through_company:
        return Verdict.SIGNED, max(through_company, key=lambda f: f.signed_at)
    if valid:
        return Verdict.RESTRICTED, _best(valid, order)
    superseded = [f for f in mine if f.version in order and not f.restricted]
    if superseded:
        return Verdict.RESIGN, _best(superseded, order)
    if contributor.identity.is_account:
        return Verdict.UNSIGNED, None
    return Verdict.UNLINKED, None


def evaluate(
    contributors: Iterable[Contributor],
    facts: Mapping[str, Sequence[SignatureFact]],
    *,
    agreement: Agreement,
    allowlist: Allowlist,
    co_authors: CoAuthorPolicy,
    corporate: Sequence[Agreement] = (),
    employees: EmployeeCoverage = EmployeeCoverage.DOMAIN,
) -> Coverage:
    """One :class:`ContributorResult` per contributor, in the contributors' order.

    ``facts`` is keyed by :attr:`Identity.key`. A signature counts when it is for ``agreement``
    and its version is one of :func:`counting_versions`; an unknown version never counts, and a
    restricted signature is never used (it only explains the ``RESTRICTED`` verdict).
    Uncovered contributors block, except those who are only co-authors when the policy is not
    ``REQUIRE``.

    AI agents (``allowlist.known``, kind ``ai-agent``) follow ``allowlist.ai_agents``: under
    ``ALLOW`` they are covered without a signature (``ALLOWLISTED``, with ``agent`` set) — the
    people who asked for their work are contributors of their own (GitHub's Copilot coding agent
    names the person who asked as a co-author of each of its commits), so they still count;
    under ``WARN`` an uncovered agent never blocks; under ``REQUIRE`` it is one more contributor,
    whom only the allowlist covers (no signature counts for an agent).

    ``corporate`` lists the corporate agreements whose facts (``SignatureFact.corporate``, found
    by the shell through a company's list of domains, emails and logins) also cover a
    contributor, when their version counts; an individual signature is preferred when both do.
    With ``employees`` ``CONFIRM``, a fact found through a domain alone (``by_domain``) does not.
    """
    counting = counting_versions(agreement)
    corporate_counting = {a.agreement_id: counting_versions(a) for a in corporate if a.versions}
    order = {v.version: i for i, v in enumerate(agreement.versions)}
    results = []
    for contributor in contributors:
        known = allowlist.recognise(contributor)
        agent = known.name if known is not None and known.kind is BotKind.AI_AGENT else None
        verdict, signature = _verdict(
            contributor,
            # An agent cannot sign: a signature under its key is of whoever the forge linked
            # the agent's address to.
            () if agent is not None else facts.get(contributor.key, ()),
            agreement=agreement,
            counting=counting,
            order=order,
            allowlist=allowlist,
            corporate=corporate_counting,
            agent=agent is not None,
            employees=employees,
        )
        co_author_only = contributor.roles == frozenset({Role.CO_AUTHOR})
        blocking = not verdict.covered and not (
            co_author_only and co_authors is not CoAuthorPolicy.REQUIRE
        )
        if agent is not None and allowlist.ai_agents is AiAgentPolicy.WARN:
            blocking = False
        results.append(ContributorResult(contributor, verdict, signature, blocking, agent))
    return Coverage(tuple(results))
