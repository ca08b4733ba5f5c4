"""Who took part in a pull request: emails, noreply addresses, co-author trailers, bots.

Pure functions over :mod:`bot.core.model` values. Everything here that is meant for output
(masked emails, logins) is safe to print; raw emails stay inside :class:`Contributor` for the
shell's lookups and must never be printed as they are (see :func:`mask_email`).

Identity rules (``platforms.md`` §1.4, §4):

* A commit person resolves, in this order, to

  1. the forge account the forge linked to that commit (``Commit.author_account`` /
     ``Commit.committer_account``), or linked to the same email in another commit of the PR;
  2. the account named by a noreply address *of this platform* that carries an account id
     (``ID+login@users.noreply.github.com``, ``ID+login@user.noreply.gitee.com``);
  3. otherwise the (normalised) email itself: an email-only identity.

* A noreply address is written by whoever made the commit, so it proves nothing: anyone can
  commit as ``1+torvalds@users.noreply.github.com``. Its account id still names the identity
  (matching a signature by account id is no weaker than matching it by a commit email, which is
  just as freely written), but its login is never believed. The shell asks the forge about each
  id that :func:`noreply_claims` lists and passes the answers to :func:`contributors` as
  ``confirmed``; an identity gets a login (and with it an ``@mention``, a bot flag and the
  allowlist's login patterns) only from the forge: its link of the commit, an account it linked
  with the same id elsewhere in the PR, or ``confirmed``. An unconfirmed one keeps
  ``login=None``.

* Authors are always contributors; committers only with ``check_committers``, and never the
  forges' web-edit committers (:func:`is_web_committer`); co-authors from ``Co-authored-by``
  trailers unless the policy is ``IGNORE``. A co-author resolves like an author, through the
  account the forge linked to the trailer's email (``Commit.co_author_accounts``: GitHub links
  them in GraphQL only, so the shell asks only when :func:`co_authors_to_link` says so).
* Bots are accounts the forge flags as bots, or whose login ends in ``[bot]``.
* Well-known bots and AI agents (:class:`KnownBot`, a table the shell loads) are recognised by
  :func:`recognise`: by account id on their forge, by an App's ``[bot]`` login, and by the
  exact addresses an AI tool writes into commits and trailers, never by a display name.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bot.core.model import Account, CoAuthorPolicy, Commit, ForgeFacts, GitPerson, Platform, Role

__all__ = [
    "EMAIL",
    "LOGIN",
    "LOGIN_PATTERN",
    "BotKind",
    "Contributor",
    "Identity",
    "KnownBot",
    "NoreplyAddress",
    "co_authors_to_link",
    "contributors",
    "is_bot_login",
    "is_noreply_domain",
    "is_web_committer",
    "mask_email",
    "noreply_claims",
    "normalise_email",
    "parse_coauthors",
    "parse_noreply",
    "recognise",
]

# A login, as every forge the bot serves shapes one: a letter or digit, then up to 99 letters,
# digits, ``-``, ``_`` or ``.``, optionally a GitHub App's ``[bot]`` suffix. The one rule for
# every login the bot reads, looks up or is given (commands, admin API, imports, company lists,
# the bot table, mentions). Lenient on purpose, so that it holds every account the forges
# confirm: GitHub's sign-up rule today (1-39 letters, digits and single hyphens, no hyphen at
# either end) admits a subset, but accounts made before it keep trailing and double hyphens,
# and Enterprise Managed Users carry an ``_shortcode`` suffix; Gitee's personal paths also
# allow ``_`` and ``.``. Nothing outside the class reaches a comment (``@login`` stays plain).
LOGIN_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(?:\[bot\])?"
LOGIN = re.compile(LOGIN_PATTERN)
# An email address as the bot accepts one typed or imported: one ``@``, a dotted domain, no
# whitespace and no angle brackets (a pasted ``<jane@example.com>`` is a mistake, not an
# address), and each part bounded (local part 200, domain 253 plus a label of 63: the host
# name limits of RFC 1035) so that no unbounded value reaches the database.
EMAIL = re.compile(r"[^@\s<>]{1,200}@[^@\s<>]{1,253}\.[^@\s<>]{1,63}")
_NOREPLY_LOCAL = re.compile(rf"(?:(?P<id>[0-9]+)\+)?(?P<login>{LOGIN_PATTERN})")

_COAUTHOR = re.compile(
    r"^co-authored-by:[ \t]*(?P<name>[^<>\n]*?)[ \t]*<(?P<email>[^<>\s@]+@[^<>\s@]+)>[ \t]*$",
    re.IGNORECASE,
)

# Characters of a local part that a masked email may show; anything else is starred out, so a
# masked email can never carry Markdown or HTML into a comment.
_SHOWABLE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._+-")
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def normalise_email(raw: str) -> str:
    """The form emails are compared and indexed in: surrounding whitespace stripped, lower-cased.

    The whole address is lower-cased. RFC 5321 lets a local part be case-sensitive, but no mail
    provider the forges accept relies on it, and the forges themselves match emails
    case-insensitively. Nothing else is rewritten (no dot or ``+tag`` folding): two addresses
    that differ after this step are different identities.
    """
    return raw.strip().lower()


def mask_email(raw: str) -> str:
    """A printable hint of an email: ``john.doe@example.com`` → ``jo***@example.com``.

    Local parts of one or two characters show their first character only; the full local part is
    never shown. Malformed input (no single ``@``, an empty side, whitespace, a domain that is not
    a plain host name) gives ``***``. Shown characters are limited to ``[a-z0-9._+-]``.
    """
    email = normalise_email(raw)
    local, at, domain = email.partition("@")
    if not at or not local or "@" in domain or _DOMAIN.fullmatch(domain) is None:
        return "***"
    if any(ch.isspace() for ch in local):
        return "***"
    shown = local[:1] if len(local) <= 2 else local[:2]
    shown = "".join(ch for ch in shown if ch in _SHOWABLE)  # others are dropped
    if not shown:  # nothing printable to hint with: hide the domain too
        return "***"
    return f"{shown}***@{domain}"


@dataclass(frozen=True, slots=True)
class NoreplyAddress:
    """What a forge's noreply address says: the account id (``None`` in the legacy form)."""

    platform: Platform
    account_id: str | None
    login: str


def parse_noreply(
    raw: str, forges: Iterable[ForgeFacts], *, platform: Platform | None = None
) -> NoreplyAddress | None:
    """Parse a noreply address of one of ``forges``; ``None`` when ``raw`` is not one (of
    ``platform``, if given).

    GitHub: ``ID+login@users.noreply.github.com`` (accounts since 2017-07-18) and the legacy
    ``login@users.noreply.github.com``. Gitee: ``ID+login@user.noreply.gitee.com`` (and the same
    without ``ID+``, parsed alike). The login keeps the case written in the address.
    """
    local, at, domain = raw.strip().rpartition("@")
    if not at:
        return None
    domain = domain.lower()
    for forge in forges:
        if platform is not None and forge.name != platform:
            continue
        if domain not in forge.noreply_domains:
            continue
        match = _NOREPLY_LOCAL.fullmatch(local)
        if match is None:
            return None
        return NoreplyAddress(forge.name, match.group("id"), match.group("login"))
    return None


def is_noreply_domain(domain: str, forges: Iterable[ForgeFacts]) -> bool:
    """``True`` for a noreply domain of one of ``forges`` or a name below one: its addresses
    stand for forge accounts, so no company can own them."""
    domain = domain.strip().lower().rstrip(".")
    return any(
        domain == noreply or domain.endswith("." + noreply)
        for forge in forges
        for noreply in forge.noreply_domains
    )


def parse_coauthors(message: str) -> tuple[GitPerson, ...]:
    """``Co-authored-by: Name <email>`` trailers of a commit message, in order, without repeats.

    Only the trailer block is read: the last paragraph of the message, and never the first
    paragraph (the subject), as ``git interpret-trailers`` does. The key is case-insensitive;
    lines that are not a well-formed trailer are skipped. Repeats (same normalised email) are
    dropped.
    """
    paragraphs: list[list[str]] = [[]]
    for line in message.strip().splitlines():
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    if len(paragraphs) < 2:
        return ()
    people: list[GitPerson] = []
    seen: set[str] = set()
    for line in paragraphs[-1]:
        match = _COAUTHOR.match(line.strip())
        if match is None:
            continue
        email = match.group("email")
        if normalise_email(email) in seen:
            continue
        seen.add(normalise_email(email))
        people.append(GitPerson(name=match.group("name"), email=email))
    return tuple(people)


def is_bot_login(login: str) -> bool:
    """``True`` for GitHub App bot logins (``something[bot]``)."""
    return login.lower().endswith("[bot]")


class BotKind(enum.StrEnum):
    BOT = "bot"
    AI_AGENT = "ai-agent"


@dataclass(frozen=True, slots=True)
class KnownBot:
    """A well-known bot or AI agent: one entry of the table in ``bot/platforms/bots.toml``.

    ``account_ids`` and ``logins`` are of ``platform`` and match nowhere else. ``emails`` are
    normalised and hold no forge noreply address: such an address resolves to its account id,
    which is what identifies the account (build with :meth:`of`).
    """

    kind: BotKind
    name: str
    platform: Platform | None = None
    account_ids: frozenset[str] = frozenset()
    logins: tuple[str, ...] = ()
    emails: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        kind: BotKind,
        name: str,
        *,
        platform: Platform | None = None,
        account_ids: Iterable[str] = (),
        logins: Iterable[str] = (),
        emails: Iterable[str] = (),
        forges: Sequence[ForgeFacts] = (),
    ) -> KnownBot:
        """``emails`` lose the noreply addresses of ``forges`` (they resolve to account ids)."""
        return cls(
            kind,
            name,
            platform,
            frozenset(account_ids),
            tuple(logins),
            frozenset(normalise_email(e) for e in emails if parse_noreply(e, forges) is None),
        )

    def matches_login(self, platform: Platform, login: str) -> bool:
        """``login`` (given by the forge) is this entry's on ``platform``.

        An App's ``…[bot]`` login always counts: GitHub reserves it for the App of that name (on
        GitHub Enterprise Server the same App has another id). Any other login counts only in an
        entry without account ids: a user account can be renamed and its login taken by someone
        else, an id cannot.
        """
        if platform != self.platform:
            return False
        wanted = login.lower()
        return any(
            known.lower() == wanted and (is_bot_login(known) or not self.account_ids)
            for known in self.logins
        )

    def matches(self, contributor: Contributor) -> bool:
        """By account id or login on this entry's forge; else when every email the contributor
        appears with is one of this entry's, even if the forge linked it to an account (people
        have added AI tools' addresses to their own accounts, and the forge then credits them
        with every commit that tool makes)."""
        identity = contributor.identity
        if identity.platform is not None and identity.platform == self.platform:
            if identity.account_id in self.account_ids:
                return True
            if identity.login is not None and self.matches_login(identity.platform, identity.login):
                return True
        emails = {normalise_email(e) for e in contributor.emails}
        if identity.email is not None:
            emails.add(identity.email)
        return bool(emails) and emails <= self.emails


def recognise(contributor: Contributor, known: Iterable[KnownBot]) -> KnownBot | None:
    """The first entry of ``known`` that ``contributor`` is, if any."""
    return next((entry for entry in known if entry.matches(contributor)), None)


def is_web_committer(
    platform: Platform, person: GitPerson, account: Account | None, forges: Iterable[ForgeFacts]
) -> bool:
    """The committer a forge writes into commits made in its web editor (never a contributor).

    Any of ``forges``' web-committer emails (``ForgeFacts.web_committer_emails``), or, on
    ``platform``, an account of ``platform`` with one of its web-committer logins. A forge
    whose web-edit committer's login is not documented lists none: exempting a login that a
    person could register would open a hole.
    """
    email = normalise_email(person.email)
    forges = tuple(forges)
    if any(email in forge.web_committer_emails for forge in forges):
        return True
    return (
        account is not None
        and account.platform == platform
        and any(
            forge.name == platform and account.login.lower() in forge.web_committer_logins
            for forge in forges
        )
    )


@dataclass(frozen=True, slots=True)
class Identity:
    """A forge account (``platform`` + ``account_id``, with its login) or a bare email.

    Exactly one of the two kinds: an account identity has no ``email``; an email identity has
    only ``email`` (normalised). Construct with :meth:`of_account` / :meth:`of_email`.
    """

    platform: Platform | None = None
    account_id: str | None = None
    login: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        is_account = self.platform is not None and self.account_id is not None
        is_email = (
            self.email is not None
            and self.platform is None
            and self.account_id is None
            and self.login is None
        )
        if is_account == is_email or (is_account and self.email is not None):
            raise ValueError("an Identity is either an account (platform, account_id) or an email")

    @classmethod
    def of_account(cls, account: Account) -> Identity:
        return cls(platform=account.platform, account_id=account.account_id, login=account.login)

    @classmethod
    def of_email(cls, raw: str) -> Identity:
        return cls(email=normalise_email(raw))

    @property
    def is_account(self) -> bool:
        return self.account_id is not None

    @property
    def key(self) -> str:
        """``github:123`` / ``gitee:456`` for accounts, ``email:foo@example.com`` for emails.

        An email key holds the email: the shell blind-indexes it before storing; never print it.
        """
        if self.platform is not None and self.account_id is not None:
            return f"{self.platform}:{self.account_id}"
        return f"email:{self.email}"


@dataclass(frozen=True, slots=True)
class Contributor:
    """One person of a pull request, merged over every commit and role they appear in."""

    identity: Identity
    roles: frozenset[Role]
    shas: tuple[str, ...]  # commit order, unique
    emails: tuple[str, ...]  # raw commit emails, unique by normalised form; never print
    is_bot: bool = False
    # The name written in the first Co-authored-by trailer of a co-author (else ""): the PR's
    # own commit messages show it, and it names a co-author the forge linked to no account.
    co_author_name: str = ""

    @property
    def key(self) -> str:
        return self.identity.key

    @property
    def login(self) -> str | None:
        return self.identity.login


@dataclass(slots=True)
class _Builder:
    identity: Identity
    linked: bool  # the identity came from the forge's own attribution
    roles: set[Role]
    shas: dict[str, None]  # an ordered set
    emails: dict[str, str]  # normalised → first raw
    is_bot: bool
    co_author_name: str = ""


_NOTHING_CONFIRMED: Mapping[str, Account] = MappingProxyType({})

# (sha, role, what Git recorded, the account the forge linked to it)
_Person = tuple[str, Role, GitPerson, Account | None]


@dataclass(frozen=True, slots=True)
class _Persons:
    """Every commit person the policy counts, with what the forge linked across the PR."""

    persons: tuple[_Person, ...]
    by_email: Mapping[str, Account]  # normalised email → the account the forge linked to it
    by_id: Mapping[str, Account]  # account id → an account the forge linked in this PR


def _gather(
    commits: Iterable[Commit],
    *,
    platform: Platform,
    forges: Sequence[ForgeFacts],
    co_authors: CoAuthorPolicy,
    check_committers: bool,
) -> _Persons:
    persons: list[_Person] = []
    for commit in commits:
        persons.append((commit.sha, Role.AUTHOR, commit.author, commit.author_account))
        if check_committers and not is_web_committer(
            platform, commit.committer, commit.committer_account, forges
        ):
            persons.append((commit.sha, Role.COMMITTER, commit.committer, commit.committer_account))
        if co_authors is not CoAuthorPolicy.IGNORE:
            linked = dict(commit.co_author_accounts)
            persons.extend(
                (commit.sha, Role.CO_AUTHOR, person, linked.get(normalise_email(person.email)))
                for person in parse_coauthors(commit.message)
            )
    by_email: dict[str, Account] = {}
    by_id: dict[str, Account] = {}
    for _sha, _role, person, account in persons:
        if account is not None:
            by_email.setdefault(normalise_email(person.email), account)
            if account.platform == platform:
                by_id.setdefault(account.account_id, account)
    return _Persons(tuple(persons), by_email, by_id)


def _claim(
    person: GitPerson,
    account: Account | None,
    *,
    platform: Platform,
    forges: Sequence[ForgeFacts],
    found: _Persons,
) -> NoreplyAddress | None:
    """The noreply address (with an id) a person resolves through, if the forge linked none."""
    if account is not None or normalise_email(person.email) in found.by_email:
        return None
    noreply = parse_noreply(person.email, forges, platform=platform)
    if noreply is None or noreply.account_id is None:
        return None
    return noreply


def noreply_claims(
    commits: Iterable[Commit],
    *,
    platform: Platform,
    forges: Sequence[ForgeFacts],
    co_authors: CoAuthorPolicy,
    check_committers: bool,
) -> tuple[NoreplyAddress, ...]:
    """The noreply addresses of ``commits`` whose account id only the forge can confirm.

    One per account id (the first address written for it, whose login is only a hint: Gitee can
    look an account up by login alone), in first-seen order, counting the people
    :func:`contributors` counts with the same arguments. An id the forge linked anywhere in the
    PR, and an address the forge linked in another commit, need no question. ``forges`` are
    the facts of every forge the bot knows (their web-edit committers and noreply domains).
    """
    found = _gather(
        commits,
        platform=platform,
        forges=forges,
        co_authors=co_authors,
        check_committers=check_committers,
    )
    claims: dict[str, NoreplyAddress] = {}
    for _sha, _role, person, account in found.persons:
        claim = _claim(person, account, platform=platform, forges=forges, found=found)
        if claim is not None and claim.account_id and claim.account_id not in found.by_id:
            claims.setdefault(claim.account_id, claim)
    return tuple(claims.values())


def _resolve(
    person: GitPerson,
    account: Account | None,
    *,
    platform: Platform,
    forges: Sequence[ForgeFacts],
    found: _Persons,
    confirmed: Mapping[str, Account],
) -> tuple[Identity, bool, bool]:
    """(identity, linked by the forge, is a bot) of one commit person."""
    if account is None:
        account = found.by_email.get(normalise_email(person.email))
    if account is not None:
        return Identity.of_account(account), True, account.is_bot or is_bot_login(account.login)
    claim = _claim(person, None, platform=platform, forges=forges, found=found)
    if claim is not None and claim.account_id is not None:
        account = found.by_id.get(claim.account_id) or confirmed.get(claim.account_id)
        if (
            account is not None
            and account.platform == platform
            and account.account_id == claim.account_id
        ):
            bot = account.is_bot or is_bot_login(account.login)
            return Identity.of_account(account), False, bot
        return Identity(platform=platform, account_id=claim.account_id), False, False
    return Identity.of_email(person.email), False, False


def contributors(
    commits: Iterable[Commit],
    *,
    platform: Platform,
    forges: Sequence[ForgeFacts],
    co_authors: CoAuthorPolicy,
    check_committers: bool,
    confirmed: Mapping[str, Account] = _NOTHING_CONFIRMED,
) -> tuple[Contributor, ...]:
    """Everyone who must be covered for ``commits``, merged by identity key, first-seen order.

    A person whose commit the forge did not link still resolves to an account when the forge
    linked the same (normalised) email in another commit of this PR. When one person appears
    both through a noreply address and through the forge's link, the forge's login wins.

    ``confirmed`` maps the account ids of :func:`noreply_claims` to what the forge answered
    for them (an id it does not know, or could not be asked about, is absent): a noreply
    identity takes its login and bot flag from there only, and has none otherwise.
    """
    found = _gather(
        commits,
        platform=platform,
        forges=forges,
        co_authors=co_authors,
        check_committers=check_committers,
    )
    builders: dict[str, _Builder] = {}
    for sha, role, person, account in found.persons:
        identity, linked, bot = _resolve(
            person, account, platform=platform, forges=forges, found=found, confirmed=confirmed
        )
        builder = builders.get(identity.key)
        if builder is None:
            builder = _Builder(identity, linked, set(), {}, {}, False)
            builders[identity.key] = builder
        elif linked and not builder.linked:
            builder.identity, builder.linked = identity, True
        builder.roles.add(role)
        builder.shas.setdefault(sha)
        builder.emails.setdefault(normalise_email(person.email), person.email)
        builder.is_bot = builder.is_bot or bot
        if role is Role.CO_AUTHOR and not builder.co_author_name:
            builder.co_author_name = person.name

    return tuple(
        Contributor(
            identity=b.identity,
            roles=frozenset(b.roles),
            shas=tuple(b.shas),
            emails=tuple(b.emails.values()),
            is_bot=b.is_bot,
            co_author_name=b.co_author_name,
        )
        for b in builders.values()
    )


def co_authors_to_link(commits: Iterable[Commit], *, forge: ForgeFacts) -> bool:
    """Whether some ``Co-authored-by:`` email of ``commits`` is one only the forge's link of
    co-authors could resolve to an account: linked to none in these commits (as an author's or
    committer's email, or a co-author's already), and not a noreply address with an account
    id of ``forge`` (those are confirmed by id, see :func:`noreply_claims`).

    False for a PR without trailers, so that the common case costs no extra request.
    """
    commits = tuple(commits)
    linked: set[str] = set()
    for commit in commits:
        if commit.author_account is not None:
            linked.add(normalise_email(commit.author.email))
        if commit.committer_account is not None:
            linked.add(normalise_email(commit.committer.email))
        linked.update(email for email, _account in commit.co_author_accounts)
    for commit in commits:
        for person in parse_coauthors(commit.message):
            email = normalise_email(person.email)
            if email in linked:
                continue
            noreply = parse_noreply(email, (forge,))
            if noreply is None or noreply.account_id is None:
                return True
    return False
