"""Typed SQLAlchemy models. Every schema change is an Alembic revision in ``migrations/``.

Personal fields (names, emails, addresses, phones, faxes) exist only as ``*_ct`` ciphertext
columns written by :class:`bot.storage.crypto.FieldCipher`, bound to their table, column and the
row's ``uid``; emails are found through the ``email_bidx`` keyed blind index.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.core.model import Platform

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uid() -> str:
    return uuid.uuid4().hex


IntPK = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
BigIntPK = Annotated[
    int,
    mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
Ciphertext = Annotated[str | None, mapped_column(Text, nullable=True)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    IGNORED = "ignored"  # stored for dedupe; nothing to do
    COALESCED = "coalesced"  # satisfied by another job's run for the same PR
    DEAD = "dead"  # gave up after max attempts; kept with its last error


class JobKind(enum.StrEnum):
    CHECK = "check"  # evaluate a PR and report it
    MERGE_GROUP = "merge_group"  # report on a merge queue entry's head commit
    COMMAND = "command"  # comment commands other than a bare re-check
    INSTALLATION = "installation"  # bookkeeping, done at once
    BOOKKEEPING = "bookkeeping"  # e.g. a PR closed: done at once, kept for dedupe
    MAIL = "mail"  # one message to send (bot.services.mail)


def _str_enum(kind: type[enum.StrEnum]) -> SAEnum:
    """A column of ``kind``'s values stored as the VARCHAR(16) it always was (no native enum,
    no CHECK constraint): existing rows stay valid and the DDL does not change; rows read back
    as members of ``kind``."""
    return SAEnum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


# --- forge side -----------------------------------------------------------------------------


class Installation(Base):
    __tablename__ = "installations"
    __table_args__ = (UniqueConstraint("platform", "installation_id"),)

    id: Mapped[IntPK]
    platform: Mapped[str] = mapped_column(String(16))
    installation_id: Mapped[int] = mapped_column(BigInteger)
    account_login: Mapped[str] = mapped_column(String(255))
    suspended_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]  # rate limited: its jobs wait until then
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)


class Repository(Base):
    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("platform", "full_name"),)

    id: Mapped[IntPK]
    platform: Mapped[str] = mapped_column(String(16))
    forge_repo_id: Mapped[int | None] = mapped_column(BigInteger)
    full_name: Mapped[str] = mapped_column(String(255))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    removed_at: Mapped[datetime | None]
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


# --- communities ----------------------------------------------------------------------------


class CommunitySource(enum.StrEnum):
    """Where a community or link was declared: ``app.yaml`` (synced at start-up, the file wins
    for its own rows) or the maintainers' console (the file never touches those)."""

    FILE = "file"
    CONSOLE = "console"


class CommunityRow(Base):
    """A community: it owns agreements (and their versions and signatures), a policy and the
    links that bind forge scopes to it. ``id`` is the stable slug used in URLs."""

    __tablename__ = "communities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[CommunitySource] = mapped_column(_str_enum(CommunitySource))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class CommunityLink(Base):
    """A forge scope bound to one community: an owner (``repo == ""``: all its repositories) or
    one repository. Owner and repository are stored lower-cased; one scope belongs to one
    community."""

    __tablename__ = "community_links"
    __table_args__ = (UniqueConstraint("platform", "owner", "repo"),)

    id: Mapped[IntPK]
    community_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(255))
    repo: Mapped[str] = mapped_column(String(255), default="", server_default="")
    source: Mapped[CommunitySource] = mapped_column(_str_enum(CommunitySource))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


# --- agreements and signers -----------------------------------------------------------------


class AgreementRow(Base):
    """An agreement of one community: its id is unique within the community only (two
    communities may both have ``individual``)."""

    __tablename__ = "agreements"

    community_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("communities.id"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="individual")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class AgreementVersionRow(Base):
    __tablename__ = "agreement_versions"
    __table_args__ = (
        UniqueConstraint("community_id", "agreement_id", "version"),
        ForeignKeyConstraint(
            ["community_id", "agreement_id"], ["agreements.community_id", "agreements.id"]
        ),
    )

    id: Mapped[IntPK]
    community_id: Mapped[str] = mapped_column(String(64))
    agreement_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)  # order of publication
    text_sha256: Mapped[str] = mapped_column(String(64))
    compatible: Mapped[bool]
    fields: Mapped[dict[str, Any]]
    published_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Signer(Base):
    """One person. Contact fields are ciphertexts bound to (signers, column, uid)."""

    __tablename__ = "signers"

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    name_ct: Mapped[Ciphertext]
    address_ct: Mapped[Ciphertext]
    phone_ct: Mapped[Ciphertext]
    fax_ct: Mapped[Ciphertext]
    restricted_at: Mapped[datetime | None]
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)


class SignerAccount(Base):
    """A platform account linked to a signer. Logins are public handles; ids are stable."""

    __tablename__ = "signer_accounts"
    __table_args__ = (UniqueConstraint("platform", "account_id"),)

    id: Mapped[IntPK]
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(String(64))
    login: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class EmailProvenBy(enum.StrEnum):
    """How the bot knows a signer's address is theirs."""

    FORGE = "forge"  # the forge said the signed-in account has verified it
    CODE = "code"  # the signer typed the code the bot sent to it
    IMPORT = "import"  # an operator's import said so (another CLA service's record)


class SignerEmail(Base):
    """A proven email of a signer: ciphertext plus keyed blind index for lookups, and how and
    when it was proven."""

    __tablename__ = "signer_emails"
    __table_args__ = (UniqueConstraint("signer_id", "email_bidx"),)

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id", ondelete="CASCADE"), index=True)
    email_ct: Mapped[str] = mapped_column(Text)
    email_bidx: Mapped[str] = mapped_column(String(64), index=True)
    verified: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    proven_by: Mapped[EmailProvenBy] = mapped_column(
        _str_enum(EmailProvenBy), default=EmailProvenBy.FORGE
    )
    proven_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Signature(Base):
    __tablename__ = "signatures"

    id: Mapped[IntPK]
    signer_id: Mapped[int | None] = mapped_column(
        ForeignKey("signers.id", ondelete="SET NULL"), index=True
    )
    agreement_version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    source: Mapped[str] = mapped_column(String(16))  # web / import
    signed_at: Mapped[Timestamp]
    revoked_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # The account that signed on the web (the receipt's identity); None for imports by email.
    signed_platform: Mapped[str | None] = mapped_column(String(16))
    signed_account_id: Mapped[str | None] = mapped_column(String(64))
    # Erasure tombstone: a keyed hash of the platform account, no contact data.
    account_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


# --- deliveries = jobs ----------------------------------------------------------------------


class Job(Base):
    """A stored webhook delivery and the work it asks for: the durable queue.

    ``delivery_key`` is the forge's delivery id (or a derived key) and dedupes redeliveries;
    ``pr_key`` (``platform:owner/repo#n``) lets the worker coalesce a burst for one PR.
    ``payload`` holds only the fields the job needs, never a raw body.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("platform", "delivery_key"),
        Index("ix_jobs_claim", "status", "run_after"),
        Index("ix_jobs_pr_key_status", "pr_key", "status"),
    )

    id: Mapped[BigIntPK]
    platform: Mapped[Platform] = mapped_column(String(16))
    delivery_key: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[JobKind] = mapped_column(_str_enum(JobKind))
    pr_key: Mapped[str | None] = mapped_column(String(300))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]]
    status: Mapped[JobStatus] = mapped_column(_str_enum(JobStatus), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[Timestamp] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


# --- PR checks ------------------------------------------------------------------------------


class PrCheck(Base):
    """The bot's record of one PR: what it last reported and who blocks it."""

    __tablename__ = "pr_checks"
    __table_args__ = (UniqueConstraint("platform", "repo_full_name", "number"),)

    id: Mapped[IntPK]
    platform: Mapped[str] = mapped_column(String(16))
    repo_full_name: Mapped[str] = mapped_column(String(255))
    repo_id: Mapped[int | None] = mapped_column(BigInteger)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    number: Mapped[int] = mapped_column(Integer)
    # The community the check ran in (None: no community covers the repository).
    community_id: Mapped[str | None] = mapped_column(String(64))
    head_sha: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    status_state: Mapped[str | None] = mapped_column(String(16))
    status_description: Mapped[str | None] = mapped_column(String(140))
    status_sha: Mapped[str | None] = mapped_column(String(64))
    comment_id: Mapped[int | None] = mapped_column(BigInteger)
    comment_sha256: Mapped[str | None] = mapped_column(String(64))
    # The bot's check run on ``check_run_sha`` and the digest of what it shows.
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    check_run_sha: Mapped[str | None] = mapped_column(String(64))
    check_run_conclusion: Mapped[str | None] = mapped_column(String(32))
    check_run_sha256: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None]
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)


class PrBlocker(Base):
    """A contributor of a PR: ``github:123`` / ``gitee:45`` or ``email:<blind index>``, and
    whether they block it. Never a plain email. Signing looks up the blocking ones to re-check
    every PR the signer blocked; erasure looks up all of them to re-check the person's PRs.
    Purged when the PR closes or after the retention period.
    """

    __tablename__ = "pr_blockers"
    __table_args__ = (UniqueConstraint("pr_check_id", "identity_key"),)

    id: Mapped[IntPK]
    pr_check_id: Mapped[int] = mapped_column(ForeignKey("pr_checks.id", ondelete="CASCADE"))
    identity_key: Mapped[str] = mapped_column(String(100), index=True)
    blocking: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


# --- web sessions and OAuth -----------------------------------------------------------------


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, and the
    session's data (account, verified emails, CSRF token) is encrypted, bound to that hash.
    ``account_hash`` (a keyed hash of the signed-in account) lets an erasure end every session
    of that person without decrypting every row."""

    __tablename__ = "web_sessions"

    id: Mapped[IntPK]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    data_ct: Mapped[str] = mapped_column(Text)
    account_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[Timestamp] = mapped_column(index=True)


class ErasureRequest(Base):
    """A pending ``/cla delete-my-data``: who asked, as a keyed hash of their forge account
    (never the id), and until when a ``/cla delete-my-data confirm`` from the same account
    carries it out. Removed by that erasure, or replaced by a newer request."""

    __tablename__ = "erasure_requests"

    id: Mapped[IntPK]
    account_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[Timestamp]
    expires_at: Mapped[Timestamp] = mapped_column(index=True)


class EmailProof(Base):
    """A code sent to prove an address for one purpose. Only a keyed hash of the code is kept,
    bound to this row, the purpose, the person who asked and the address; the address itself is
    encrypted, to be recorded once the code is given. ``uid`` names the proof in the page's
    address (it says nothing about anyone)."""

    __tablename__ = "email_proofs"

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    purpose: Mapped[str] = mapped_column(String(16))
    account_hash: Mapped[str] = mapped_column(String(64), index=True)
    email_bidx: Mapped[str] = mapped_column(String(64), index=True)
    email_ct: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None]
    # what waits for the code: a corporate signature's form, the company a domain is proven
    # for (JSON, encrypted; dropped once the code is used)
    payload_ct: Mapped[Ciphertext]


class OAuthState(Base):
    """One OAuth login attempt: single use, short-lived, bound to the pre-login cookie."""

    __tablename__ = "oauth_states"

    id: Mapped[IntPK]
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prelogin_hash: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[Timestamp] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


# --- audit ----------------------------------------------------------------------------------


class AuditEvent(Base):
    """Who did what to personal data, when: never the data itself.

    ``actor`` is ``platform:account_id`` (replaced by a keyed hash when that person's data is
    erased); ``details`` holds only non-personal facts (agreement, version, field names,
    counts)."""

    __tablename__ = "audit_events"

    id: Mapped[IntPK]
    at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100), index=True)
    via: Mapped[str] = mapped_column(String(32))  # web / comment / cli / api / import
    request_id: Mapped[str] = mapped_column(String(64))
    signer_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]]


# --- maintainers' API -----------------------------------------------------------------------


class ApiToken(Base):
    """A bearer token for ``/api/v1``: only its SHA-256 is stored. Scopes: ``read`` (status,
    lists without contact data), ``export`` (adds contact fields; every such read is audited),
    ``admin`` (everything, including re-checks)."""

    __tablename__ = "api_tokens"

    id: Mapped[IntPK]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings, e.g. "cla_ab12cd"
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# --- corporate CLAs -------------------------------------------------------------------------


class CompanyStatus(enum.StrEnum):
    """Where a corporate signature stands with the community's administrators."""

    PENDING = "pending"  # signed, not decided yet: covers nobody
    APPROVED = "approved"  # its approved entries cover people
    REJECTED = "rejected"  # covers nobody; ``decision_reason`` says why


class EntryStatus(enum.StrEnum):
    """One list entry's state. Domains wait for an administrator; emails and accounts that
    managers add count at once (while the company is approved)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    UNCONFIRMED = "unconfirmed"  # an account listed by login before ids were confirmed


class Company(Base):
    """A company's corporate CLA signature. The company name is not encrypted: it is shown in
    the PR comments of everyone the company covers, and to administrators deciding on it; the
    signatory's details are ciphertexts bound to (companies, column, uid). It covers nobody
    until an administrator approves it (``status``)."""

    __tablename__ = "companies"

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    name: Mapped[str] = mapped_column(String(200))
    agreement_version_id: Mapped[int] = mapped_column(ForeignKey("agreement_versions.id"))
    signatory_name_ct: Mapped[Ciphertext]
    signatory_title_ct: Mapped[Ciphertext]
    address_ct: Mapped[Ciphertext]
    email_ct: Mapped[Ciphertext]
    phone_ct: Mapped[Ciphertext]
    fax_ct: Mapped[Ciphertext]
    signed_platform: Mapped[str] = mapped_column(String(16))
    signed_account_id: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[Timestamp]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(
        String(16), default=CompanyStatus.PENDING, server_default=CompanyStatus.PENDING.value
    )
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))  # "operator", "token:cla_…"
    decision_reason: Mapped[str | None] = mapped_column(String(500))  # shown to its managers


class CompanyManager(Base):
    """Who may edit a company's list: a platform account (id known once they sign in)."""

    __tablename__ = "company_managers"
    __table_args__ = (UniqueConstraint("company_id", "platform", "login"),)

    id: Mapped[IntPK]
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    login: Mapped[str] = mapped_column(String(255))  # lower-case
    account_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class CompanyEntry(Base):
    """Who a corporate CLA covers: an email domain, an email (blind index + ciphertext) or a
    platform account (``github:583231``: the id the forge confirmed for the login a manager
    typed, which is kept in ``login`` for display)."""

    __tablename__ = "company_entries"
    __table_args__ = (UniqueConstraint("company_id", "kind", "value"),)

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # domain / email / login
    value: Mapped[str] = mapped_column(
        String(300), index=True
    )  # domain, email bidx, platform:account_id
    value_ct: Mapped[Ciphertext]  # the email itself, for its managers
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(
        String(16), default=EntryStatus.PENDING, server_default=EntryStatus.PENDING.value
    )
    login: Mapped[str | None] = mapped_column(String(255))  # accounts: the login, as listed
    decision_reason: Mapped[str | None] = mapped_column(String(500))  # a rejected domain
    proven_by: Mapped[str | None] = mapped_column(String(16))  # a domain: "code"; None: unproven
    proven_at: Mapped[datetime | None]


class CompanyInvitation(Base):
    """A manager's invitation by email: only a keyed hash of the link's token is kept; the
    address (to show the managers who was invited) is dropped once it is used or cancelled."""

    __tablename__ = "company_invitations"

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    email_ct: Mapped[Ciphertext]
    invited_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class CompanyEmployee(Base):
    """An employee who proved a work address at one of a company's approved domains (by code);
    with ``cla.corporate.employees: confirm``, covered once a manager enables them."""

    __tablename__ = "company_employees"
    __table_args__ = (UniqueConstraint("company_id", "email_bidx"),)

    id: Mapped[IntPK]
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_uid)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    email_bidx: Mapped[str] = mapped_column(String(64), index=True)
    email_ct: Mapped[Ciphertext]
    account_hash: Mapped[str] = mapped_column(String(64), index=True)  # who proved it
    proven_at: Mapped[Timestamp]
    enabled_at: Mapped[datetime | None]
    enabled_by: Mapped[str | None] = mapped_column(String(100))
