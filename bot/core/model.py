"""Core value types. Frozen dataclasses shared by every layer; no I/O, standard library only.

Raw forge payloads stop at ``bot/platforms/*/events.py``; past that boundary only these
types travel.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

Platform = NewType("Platform", str)
"""A forge's name (``bot.platforms.registry`` lists them): a plain string, so that adding a
forge touches no core type."""


@dataclass(frozen=True, slots=True)
class ForgeFacts:
    """What the core may know about one forge, handed to it as data by the forge's adapter.

    ``noreply_domains``: the domains of the forge's private commit addresses
    (``ID+login@<domain>``), whose account id only the forge can confirm.
    ``web_committer_emails`` / ``web_committer_logins``: the committer the forge writes into
    commits made in its web editor (never a contributor); logins count only on this forge.
    ``emails_path``: the path, below the forge's web base, of the page where a user adds an
    email to their account.
    """

    name: Platform
    display_name: str
    noreply_domains: tuple[str, ...] = ()
    web_committer_emails: frozenset[str] = frozenset()
    web_committer_logins: frozenset[str] = frozenset()
    emails_path: str = ""


class Role(enum.StrEnum):
    """How a person took part in a commit."""

    AUTHOR = "author"
    COMMITTER = "committer"
    CO_AUTHOR = "co-author"


class CoAuthorPolicy(enum.StrEnum):
    REQUIRE = "require"  # co-authors must be covered like authors
    WARN = "warn"  # listed in the comment, but do not fail the check
    IGNORE = "ignore"  # trailers are not read


class AiAgentPolicy(enum.StrEnum):
    """Whether AI agents (as commit authors, committers or co-authors) need a signature."""

    ALLOW = "allow"  # they need none; the people who asked for their work still count
    WARN = "warn"  # listed in the comment, never blocking
    REQUIRE = "require"  # covered like anyone (an agent cannot sign: only the allowlist does)


class StatusState(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RepoRef:
    """A repository as API coordinates (``owner/name``) on one platform."""

    platform: Platform
    owner: str
    name: str
    repo_id: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class Account:
    """A platform account. ``account_id`` is the forge's stable numeric id (as a string)."""

    platform: Platform
    account_id: str
    login: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class GitPerson:
    """The name and email written into a commit, as Git recorded them (not normalised)."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit of a pull request, with the forge's attribution of its emails to accounts.

    ``author_account`` / ``committer_account`` are ``None`` when the forge could not link the
    commit's email to an account. ``co_author_accounts`` pairs a normalised email of the
    message's ``Co-authored-by:`` trailers with the account the forge linked to it (GitHub's
    GraphQL ``Commit.authors``), for those it linked and was asked about.
    """

    sha: str
    author: GitPerson
    committer: GitPerson
    message: str
    author_account: Account | None = None
    committer_account: Account | None = None
    co_author_accounts: tuple[tuple[str, Account], ...] = ()


@dataclass(frozen=True, slots=True)
class PullRequest:
    repo: RepoRef
    number: int
    head_sha: str
    base_ref: str
    state: str  # "open" / "closed" / "merged", the forge's word
    author: Account | None
    labels: tuple[str, ...] = ()
    commit_count: int | None = None
    installation_id: int | None = None
    base_sha: str | None = None
    draft: bool = False


@dataclass(frozen=True, slots=True)
class CommentRef:
    comment_id: int
    body: str
    author_login: str
    author_id: str | None = None  # the forge's account id, when the API gave it


@dataclass(frozen=True, slots=True)
class SignatureFact:
    """What storage knows about one valid (not revoked, not erased) signature of a signer.

    The core never sees personal data: it decides from these facts alone.
    """

    signer_id: int
    agreement_id: str
    version: str
    signed_at: datetime
    corporate: bool = False
    company: str | None = None  # company name only, for corporate coverage
    by_domain: bool = False  # corporate, through the email domain alone (not a listed person)
    restricted: bool = False  # the owner restricted processing: stored but not used


@dataclass(frozen=True, slots=True)
class AgreementVersion:
    agreement_id: str
    version: str
    text_sha256: str
    compatible_with_previous: bool = True  # False: earlier signatures stop counting


@dataclass(frozen=True, slots=True)
class Agreement:
    agreement_id: str
    title: str
    versions: tuple[AgreementVersion, ...] = field(default_factory=tuple)

    @property
    def current(self) -> AgreementVersion:
        return self.versions[-1]
