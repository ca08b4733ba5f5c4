"""The maintainers' questions, answered for the admin API and the CLI alike.

- *Status* of a platform account, an email or a pull request: covered or not, by which agreement
  and version, individual or corporate, since when — never a name, an email or any contact field.
  A status by login resolves the login to the most recent account the bot recorded with it
  (logins can be renamed and reused: ask by account id to be certain).
- *Signatures* of an agreement (and version), paginated by signature id, and exported as JSON or
  spreadsheet-safe CSV; contact fields only when asked for (the caller checks the right to them),
  and every such read is written to the audit trail, one event per person read.
- *Tokens* for ``/api/v1``: ``cla_`` + 40 URL-safe characters, shown once; only the SHA-256 and a
  short prefix are stored. Scopes ``read`` < ``export`` < ``admin``.
- *Re-checks* of one PR or of every open PR the bot knows in a repository.

Every function takes a session and never commits, like :mod:`bot.storage.repositories`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.coverage import Verdict, counting_versions, evaluate
from bot.core.identity import Contributor, Identity
from bot.core.model import Agreement, CoAuthorPolicy, Platform, Role, SignatureFact
from bot.platforms import registry
from bot.platforms.routing import pr_key
from bot.services import audit
from bot.services.checks import build_allowlist
from bot.services.jobs import NewJob, enqueue
from bot.services.rechecks import enqueue_checks
from bot.settings import Policy
from bot.storage import repositories as store
from bot.storage.crypto import DecryptError, FieldCipher
from bot.storage.models import (
    AgreementRow,
    AgreementVersionRow,
    ApiToken,
    JobKind,
    PrBlocker,
    PrCheck,
    Repository,
    Signature,
    Signer,
    SignerAccount,
    SignerEmail,
    utcnow,
)

PLATFORMS: tuple[str, ...] = registry.NAMES
SCOPES = ("read", "export", "admin")
_SCOPE_RANK = {s: i for i, s in enumerate(SCOPES)}
TOKEN_PREFIX = "cla_"  # noqa: S105 - not a secret: the public prefix of every token
TOKEN_RE = re.compile(r"cla_[A-Za-z0-9_-]{40}")
PREFIX_LEN = 12  # "cla_" + 8 characters: shown in listings, enough to tell tokens apart
LAST_USED_EVERY = timedelta(minutes=1)
MAX_PAGE = 500
MAX_DB_INT = 2**31 - 1

LOGIN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(\[bot\])?")
ACCOUNT_ID_RE = re.compile(r"[0-9]{1,20}")
NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # owner and repository names
AGREEMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,31}")
EMAIL_RE = re.compile(r"[^@\s]{1,200}@[^@\s]{1,253}\.[^@\s]{1,63}")

LOGIN_NOTE = (
    "matched by login: the most recent account the bot recorded with this login; logins can be "
    "renamed and reused, so ask by account id to be certain"
)
UNKNOWN_LOGIN_NOTE = "no account with this login is on record; ask by account id to be certain"
UNLINKED_EMAIL = "email (not linked)"


class AdminError(Exception):
    """A request the admin API and CLI answer with a message (never personal data)."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AdminError):
    status = 404


class Invalid(AdminError):
    status = 422


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def scope_allows(have: str, need: str) -> bool:
    return _SCOPE_RANK.get(have, -1) >= _SCOPE_RANK[need]


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        scope=row.scope,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token_value() -> str:
    """``cla_`` and 40 URL-safe characters (240 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


async def create_token(
    session: AsyncSession, *, name: str, scope: str, now: datetime | None = None
) -> tuple[str, TokenInfo]:
    """A new token: the plain value (show it once, it is not kept) and what is stored."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise Invalid("the token name must be 1 to 100 printable characters")
    if scope not in SCOPES:
        raise Invalid("the scope must be one of: " + ", ".join(SCOPES))
    value = new_token_value()
    row = ApiToken(
        token_hash=token_hash(value),
        prefix=value[:PREFIX_LEN],
        name=name,
        scope=scope,
        created_at=now or utcnow(),
    )
    session.add(row)
    await session.flush()
    return value, _info(row)


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = (await session.scalars(select(ApiToken).order_by(ApiToken.id))).all()
    return [_info(r) for r in rows]


async def revoke_token(
    session: AsyncSession, prefix: str, *, now: datetime | None = None
) -> TokenInfo:
    """Revoke the token with this prefix (or this whole value); revoking twice is harmless."""
    prefix = prefix.strip()
    if TOKEN_RE.fullmatch(prefix):
        rows = (
            await session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(prefix)))
        ).all()
    elif prefix.startswith(TOKEN_PREFIX) and prefix.isprintable() and len(prefix) <= 16:
        rows = (await session.scalars(select(ApiToken).where(ApiToken.prefix == prefix))).all()
    else:
        raise Invalid("give the token's prefix as shown by `cla-bot token list` (cla_…)")
    if not rows:
        raise NotFound("no token has this prefix")
    if len(rows) > 1:
        raise Invalid("several tokens share this prefix; give the whole token to revoke it")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
    await session.flush()
    return _info(row)


async def authenticate(
    session: AsyncSession, presented: str, *, now: datetime | None = None
) -> TokenInfo | None:
    """The live token with this value, its ``last_used_at`` moved (at most once a minute)."""
    if not TOKEN_RE.fullmatch(presented):
        return None
    row = (
        await session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(presented)))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
        await session.flush()
    return _info(row)


# --- status ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    """Where one person stands with an agreement: no contact data, ever."""

    subject: str  # what was asked: "github:123", "github:octocat" or "email"
    covered: bool
    verdict: str  # signed / allowlisted / unsigned / resign / restricted
    agreement: str
    version: str | None = None
    kind: str | None = None  # individual / corporate
    company: str | None = None  # corporate coverage: the company name only
    since: datetime | None = None
    account: str | None = None  # the resolved account, "github:123"
    login: str | None = None
    matched_by: str = "account_id"  # account_id / login / email
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "covered": self.covered,
            "verdict": self.verdict,
            "agreement": self.agreement,
            "version": self.version,
            "kind": self.kind,
            "company": self.company,
            "since": iso(self.since),
            "account": self.account,
            "login": self.login,
            "matched_by": self.matched_by,
            "note": self.note,
        }

    def sentence(self) -> str:
        who = self.subject if self.login is None else f"{self.subject} (@{self.login})"
        if self.verdict == Verdict.ALLOWLISTED:
            text = f"{who}: covered (allowlisted)"
        elif self.covered:
            by = f"{self.agreement} {self.version}, {self.kind}"
            if self.company:
                by += f" through {self.company}"
            text = f"{who}: covered by {by} since {iso(self.since)}"
        elif self.verdict == Verdict.RESIGN:
            text = f"{who}: not covered: signed {self.agreement} {self.version}, a later version "
            text += "must be signed"
        elif self.verdict == Verdict.RESTRICTED:
            text = f"{who}: not covered: the signature's processing is restricted"
        else:
            text = f"{who}: not covered: no signature of {self.agreement}"
        return text + (f" ({self.note})" if self.note else "")


async def _agreement(session: AsyncSession, policy: Policy, agreement_id: str | None) -> Agreement:
    agreement_id = agreement_id or policy.required_agreement
    if (
        not AGREEMENT_RE.fullmatch(agreement_id)
        or await session.get(AgreementRow, agreement_id) is None
    ):
        raise NotFound("unknown agreement")
    agreement = await store.load_agreement(session, agreement_id)
    if not agreement.versions:
        raise NotFound("the agreement has no published version")
    return agreement


async def _status_of(
    session: AsyncSession,
    cipher: FieldCipher,
    policy: Policy,
    contributor: Contributor,
    agreement_id: str | None,
) -> tuple[Verdict, SignatureFact | None, datetime | None, str]:
    agreement = await _agreement(session, policy, agreement_id)
    facts = await store.signature_facts(session, cipher, [contributor])
    result = evaluate(
        [contributor],
        facts,
        agreement=agreement,
        allowlist=build_allowlist(policy),
        co_authors=CoAuthorPolicy.REQUIRE,
    ).results[0]
    since = None
    fact = result.signature
    if fact is not None:
        since = min(
            f.signed_at
            for f in facts.get(contributor.key, ())
            if (f.agreement_id, f.version, f.corporate, f.restricted)
            == (fact.agreement_id, fact.version, fact.corporate, fact.restricted)
        )
    return result.verdict, fact, since, agreement.agreement_id


def _status(
    subject: str,
    verdict: Verdict,
    fact: SignatureFact | None,
    since: datetime | None,
    agreement_id: str,
    **extra: Any,
) -> Status:
    if verdict == Verdict.UNLINKED:
        verdict = Verdict.UNSIGNED
    return Status(
        subject=subject,
        covered=verdict.covered,
        verdict=verdict.value,
        agreement=agreement_id,
        version=fact.version if fact else None,
        kind=("corporate" if fact.corporate else "individual") if fact else None,
        company=fact.company if fact else None,
        since=since,
        **extra,
    )


def parse_subject(text: str) -> tuple[str, str]:
    """``github:123`` / ``github:octocat`` → (platform, account); raises :class:`Invalid`."""
    platform, colon, account = text.strip().partition(":")
    if not colon or platform.lower() not in PLATFORMS or not account:
        raise Invalid(
            f"give an account as platform:id or platform:login, e.g. {PLATFORMS[0]}:octocat"
        )
    return platform.lower(), account


async def account_status(
    session: AsyncSession,
    cipher: FieldCipher,
    policy: Policy,
    *,
    platform: str,
    account: str,
    by: str = "auto",
    agreement_id: str | None = None,
) -> Status:
    """Status of ``platform:account``: an account id when all digits (or ``by="id"``), else a
    login, resolved to the most recent account recorded with it (``by="login"``)."""
    if platform not in PLATFORMS:
        raise NotFound("unknown platform")
    if by not in ("auto", "id", "login"):
        raise Invalid("by must be auto, id or login")
    as_id = by == "id" or (by == "auto" and account.isdigit())
    if as_id:
        if not ACCOUNT_ID_RE.fullmatch(account):
            raise Invalid("an account id is a number")
        row = (
            await session.scalars(
                select(SignerAccount)
                .where(SignerAccount.platform == platform, SignerAccount.account_id == account)
                .order_by(SignerAccount.id.desc())
            )
        ).first()
        login = row.login if row else None
        contributor = _account_contributor(platform, account, login)
        verdict, fact, since, agreement = await _status_of(
            session, cipher, policy, contributor, agreement_id
        )
        return _status(
            f"{platform}:{account}",
            verdict,
            fact,
            since,
            agreement,
            account=f"{platform}:{account}",
            login=login,
            matched_by="account_id",
        )
    if not LOGIN_RE.fullmatch(account):
        raise Invalid("not a valid login")
    row = (
        await session.scalars(
            select(SignerAccount)
            .where(
                SignerAccount.platform == platform,
                func.lower(SignerAccount.login) == account.lower(),
            )
            .order_by(SignerAccount.created_at.desc(), SignerAccount.id.desc())
        )
    ).first()
    if row is None:
        agreement = (await _agreement(session, policy, agreement_id)).agreement_id
        allow = build_allowlist(policy).matches_login(Platform(platform), account)
        return Status(
            subject=f"{platform}:{account}",
            covered=allow,
            verdict=(Verdict.ALLOWLISTED if allow else Verdict.UNSIGNED).value,
            agreement=agreement,
            login=account,
            matched_by="login",
            note=None if allow else UNKNOWN_LOGIN_NOTE,
        )
    contributor = _account_contributor(platform, row.account_id, row.login or account)
    verdict, fact, since, agreement = await _status_of(
        session, cipher, policy, contributor, agreement_id
    )
    return _status(
        f"{platform}:{account}",
        verdict,
        fact,
        since,
        agreement,
        account=f"{platform}:{row.account_id}",
        login=row.login or account,
        matched_by="login",
        note=LOGIN_NOTE,
    )


def _account_contributor(platform: str, account_id: str, login: str | None) -> Contributor:
    identity = Identity(platform=Platform(platform), account_id=account_id, login=login or None)
    return Contributor(identity=identity, roles=frozenset({Role.AUTHOR}), shas=(), emails=())


async def email_status(
    session: AsyncSession,
    cipher: FieldCipher,
    policy: Policy,
    *,
    email: str,
    agreement_id: str | None = None,
) -> Status:
    """Status of an email (blind index, candidates decrypted and compared, any case). The answer
    never repeats the address."""
    email = email.strip()
    if not EMAIL_RE.fullmatch(email):
        raise Invalid("not an email address")
    contributor = Contributor(
        identity=Identity.of_email(email), roles=frozenset({Role.AUTHOR}), shas=(), emails=(email,)
    )
    verdict, fact, since, agreement = await _status_of(
        session, cipher, policy, contributor, agreement_id
    )
    return _status("email", verdict, fact, since, agreement, matched_by="email")


# --- pull requests --------------------------------------------------------------------------


def _find_check_query(platform: str, owner: str, repo: str) -> Any:
    return select(PrCheck).where(
        PrCheck.platform == platform,
        func.lower(PrCheck.repo_full_name) == f"{owner}/{repo}".lower(),
    )


async def _find_check(
    session: AsyncSession, platform: str, owner: str, repo: str, number: int
) -> PrCheck | None:
    q = _find_check_query(platform, owner, repo).where(PrCheck.number == number)
    return (await session.scalars(q)).first()


def validate_repo(platform: str, owner: str, repo: str, number: int | None = None) -> None:
    if platform not in PLATFORMS:
        raise NotFound("unknown platform")
    if not NAME_RE.fullmatch(owner) or not NAME_RE.fullmatch(repo):
        raise Invalid("not a valid owner or repository name")
    if number is not None and not 1 <= number <= MAX_DB_INT:
        raise Invalid("not a valid pull request number")


async def pr_status(
    session: AsyncSession, *, platform: str, owner: str, repo: str, number: int
) -> dict[str, Any]:
    """What the bot last reported on a PR and who blocks it: account keys (with the login when
    known) and ``email (not linked)`` for emails, never an address."""
    validate_repo(platform, owner, repo, number)
    check = (
        await session.scalars(
            _find_check_query(platform, owner, repo).where(PrCheck.number == number)
        )
    ).first()
    if check is None:
        raise NotFound("the bot has no record of this pull request")
    blockers = (
        await session.scalars(
            select(PrBlocker).where(PrBlocker.pr_check_id == check.id).order_by(PrBlocker.id)
        )
    ).all()
    logins = await _logins(session, [b.identity_key for b in blockers])
    contributors = []
    for b in blockers:
        if b.identity_key.startswith("email:"):
            contributors.append({"identity": UNLINKED_EMAIL, "login": None, "blocking": b.blocking})
        else:
            contributors.append(
                {
                    "identity": b.identity_key,
                    "login": logins.get(b.identity_key),
                    "blocking": b.blocking,
                }
            )
    return {
        "platform": check.platform,
        "repository": check.repo_full_name,
        "number": check.number,
        "state": check.state,
        "outcome": check.outcome,
        "head_sha": check.head_sha,
        "status": {
            "state": check.status_state,
            "description": check.status_description,
            "sha": check.status_sha,
        },
        "checked_at": iso(check.checked_at),
        "blocking": sum(1 for b in blockers if b.blocking),
        "contributors": contributors,
    }


async def _logins(session: AsyncSession, keys: Iterable[str]) -> dict[str, str]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        platform, _, account_id = key.partition(":")
        if platform in PLATFORMS and account_id:
            wanted[platform].add(account_id)
    out: dict[str, str] = {}
    for platform, ids in wanted.items():
        rows = (
            await session.scalars(
                select(SignerAccount).where(
                    SignerAccount.platform == platform, SignerAccount.account_id.in_(ids)
                )
            )
        ).all()
        for r in rows:
            if r.login:
                out[f"{platform}:{r.account_id}"] = r.login
    return out


@dataclass(frozen=True, slots=True)
class Recheck:
    queued: int
    known: bool  # the bot had a record of the PR (or of open PRs in the repository)


async def recheck_pr(
    session: AsyncSession, *, platform: str, owner: str, repo: str, number: int
) -> Recheck:
    """Queue a check of one PR; one the bot has no record of is queued too, when the bot knows
    how to reach the repository (its installation)."""
    validate_repo(platform, owner, repo, number)
    check = (
        await session.scalars(
            _find_check_query(platform, owner, repo).where(PrCheck.number == number)
        )
    ).first()
    if check is not None:
        return Recheck(await enqueue_checks(session, [check], "api"), True)
    repo_row = (
        await session.scalars(
            select(Repository).where(
                Repository.platform == platform,
                func.lower(Repository.full_name) == f"{owner}/{repo}".lower(),
                Repository.removed_at.is_(None),
            )
        )
    ).first()
    other = (await session.scalars(_find_check_query(platform, owner, repo).limit(1))).first()
    installation_id = (repo_row.installation_id if repo_row is not None else None) or (
        other.installation_id if other is not None else None
    )
    repo_id = (repo_row.forge_repo_id if repo_row is not None else None) or (
        other.repo_id if other is not None else None
    )
    if registry.forge(platform).installations and installation_id is None:
        raise NotFound("the bot is not installed on this repository (no installation on record)")
    if repo_row is not None:
        owner, _, repo = repo_row.full_name.partition("/")
    elif other is not None:
        owner, _, repo = other.repo_full_name.partition("/")
    await enqueue(
        session,
        NewJob(
            platform=platform,
            delivery_key=f"recheck:{uuid.uuid4().hex}",
            event="recheck",
            action="api",
            kind=JobKind.CHECK,
            payload={
                "repo": {"owner": owner, "name": repo, "id": repo_id},
                "number": number,
                "trigger": "api",
            },
            pr_key=pr_key(platform, owner, repo, number),
            installation_id=installation_id,
        ),
    )
    return Recheck(1, False)


async def recheck_repo(session: AsyncSession, *, platform: str, owner: str, repo: str) -> Recheck:
    """Queue a check of every open PR the bot has a record of in this repository."""
    validate_repo(platform, owner, repo)
    checks = (
        await session.scalars(
            _find_check_query(platform, owner, repo)
            .where(PrCheck.state == "open")
            .order_by(PrCheck.number)
        )
    ).all()
    if not checks:
        known = (
            await session.scalars(
                select(Repository.id).where(
                    Repository.platform == platform,
                    func.lower(Repository.full_name) == f"{owner}/{repo}".lower(),
                )
            )
        ).first() is not None or (
            await session.scalars(_find_check_query(platform, owner, repo).limit(1))
        ).first() is not None
        if not known:
            raise NotFound("the bot has no record of this repository")
        return Recheck(0, True)
    return Recheck(await enqueue_checks(session, checks, "api"), True)


# --- agreements -----------------------------------------------------------------------------


async def agreements(session: AsyncSession, policy: Policy) -> dict[str, Any]:
    counts: dict[int, int] = dict(
        (
            await session.execute(
                select(Signature.agreement_version_id, func.count())
                .where(
                    Signature.revoked_at.is_(None),
                    Signature.erased_at.is_(None),
                    Signature.signer_id.is_not(None),
                )
                .group_by(Signature.agreement_version_id)
            )
        ).all()
    )
    out = []
    for row in (await session.scalars(select(AgreementRow).order_by(AgreementRow.id))).all():
        model = await store.load_agreement(session, row.id)
        counting = counting_versions(model) if model.versions else frozenset()
        versions = (
            await session.scalars(
                select(AgreementVersionRow)
                .where(AgreementVersionRow.agreement_id == row.id)
                .order_by(AgreementVersionRow.position)
            )
        ).all()
        out.append(
            {
                "id": row.id,
                "title": row.title,
                "kind": row.kind,
                "required": row.id == policy.required_agreement,
                "versions": [
                    {
                        "version": v.version,
                        "position": v.position,
                        "text_sha256": v.text_sha256,
                        "compatible": v.compatible,
                        "counting": v.version in counting,
                        "published_at": iso(v.published_at),
                        "signatures": counts.get(v.id, 0),
                    }
                    for v in versions
                ],
            }
        )
    return {"required": policy.required_agreement, "agreements": out}


# --- signatures -----------------------------------------------------------------------------

CONTACT_COLUMNS = ("name", "address", "phone", "fax")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: int | None
    signer_ids: frozenset[int] = field(default_factory=frozenset)  # whose contact was read


async def _check_filter(
    session: AsyncSession, agreement_id: str | None, version: str | None
) -> None:
    if version is not None and agreement_id is None:
        raise Invalid("a version needs its agreement")
    if agreement_id is not None:
        if (
            not AGREEMENT_RE.fullmatch(agreement_id)
            or await session.get(AgreementRow, agreement_id) is None
        ):
            raise NotFound("unknown agreement")
        if version is not None and (
            not VERSION_RE.fullmatch(version)
            or await store.version_row(session, agreement_id, version) is None
        ):
            raise NotFound("unknown agreement version")


async def list_signatures(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    agreement_id: str | None = None,
    version: str | None = None,
    limit: int = 100,
    cursor: int = 0,
    include_contact: bool = False,
) -> Page:
    """Valid signatures (not revoked, not erased) in id order, after ``cursor``. Contact fields
    only with ``include_contact`` — and never of a person who restricted processing. The caller
    records the read (:func:`audit_contact_read`)."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    if not 0 <= cursor <= MAX_DB_INT:
        raise Invalid("not a valid cursor")
    await _check_filter(session, agreement_id, version)
    q = (
        select(Signature, AgreementVersionRow, AgreementRow, Signer)
        .join(AgreementVersionRow, Signature.agreement_version_id == AgreementVersionRow.id)
        .join(AgreementRow, AgreementVersionRow.agreement_id == AgreementRow.id)
        .join(Signer, Signature.signer_id == Signer.id)
        .where(
            Signature.id > cursor,
            Signature.revoked_at.is_(None),
            Signature.erased_at.is_(None),
        )
        .order_by(Signature.id)
        .limit(limit + 1)
    )
    if agreement_id is not None:
        q = q.where(AgreementVersionRow.agreement_id == agreement_id)
    if version is not None:
        q = q.where(AgreementVersionRow.version == version)
    rows = (await session.execute(q)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    signer_ids = {signer.id for _, _, _, signer in rows}
    accounts: dict[int, list[SignerAccount]] = defaultdict(list)
    if signer_ids:
        for acc in (
            await session.scalars(
                select(SignerAccount)
                .where(SignerAccount.signer_id.in_(signer_ids))
                .order_by(SignerAccount.id)
            )
        ).all():
            accounts[acc.signer_id].append(acc)
    emails: dict[int, list[str]] = defaultdict(list)
    read: set[int] = set()
    if include_contact:
        readable = {signer.id for *_, signer in rows if signer.restricted_at is None}
        if readable:
            for em in (
                await session.scalars(
                    select(SignerEmail)
                    .where(SignerEmail.signer_id.in_(readable))
                    .order_by(SignerEmail.id)
                )
            ).all():
                plain = _decrypt(cipher, em.email_ct, "signer_emails", "email", em.uid)
                if plain is not None:
                    emails[em.signer_id].append(plain)
        read = readable
    items = []
    for sig, ver, agr, signer in rows:
        item: dict[str, Any] = {
            "id": sig.id,
            "agreement": ver.agreement_id,
            "version": ver.version,
            "kind": agr.kind,
            "signed_at": iso(sig.signed_at),
            "source": sig.source,
            "signer": signer.id,
            "signed_by": (
                f"{sig.signed_platform}:{sig.signed_account_id}"
                if sig.signed_platform and sig.signed_account_id
                else None
            ),
            "accounts": [
                {"platform": a.platform, "account_id": a.account_id, "login": a.login}
                for a in accounts.get(signer.id, [])
            ],
            "restricted": signer.restricted_at is not None,
        }
        if include_contact:
            if signer.id in read:
                contact: dict[str, Any] | None = {
                    column: _decrypt(
                        cipher, getattr(signer, f"{column}_ct"), "signers", column, signer.uid
                    )
                    for column in CONTACT_COLUMNS
                }
                assert contact is not None
                contact["emails"] = emails.get(signer.id, [])
            else:
                contact = None
            item["contact"] = contact
        items.append(item)
    next_cursor = rows[-1][0].id if more and rows else None
    return Page(items, next_cursor, frozenset(read))


def _decrypt(
    cipher: FieldCipher, token: str | None, table: str, column: str, row: str
) -> str | None:
    if token is None:
        return None
    try:
        return cipher.decrypt(token, table=table, column=column, row=row)
    except DecryptError:
        return None


async def audit_contact_read(
    session: AsyncSession,
    signer_ids: Iterable[int],
    *,
    actor: str,
    via: str,
    request_id: str,
    details: Mapping[str, Any],
) -> None:
    """One ``read-contact`` event per person whose contact fields were read."""
    for signer_id in sorted(set(signer_ids)):
        await audit.record(
            session,
            action="read-contact",
            actor=actor,
            via=via,
            request_id=request_id,
            signer_id=signer_id,
            details=dict(details),
        )


async def all_signatures(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    agreement_id: str | None,
    version: str | None,
    include_contact: bool,
) -> Page:
    """Every page at once (exports)."""
    items: list[dict[str, Any]] = []
    read: set[int] = set()
    cursor = 0
    while True:
        page = await list_signatures(
            session,
            cipher,
            agreement_id=agreement_id,
            version=version,
            limit=MAX_PAGE,
            cursor=cursor,
            include_contact=include_contact,
        )
        items.extend(page.items)
        read.update(page.signer_ids)
        if page.next_cursor is None:
            return Page(items, None, frozenset(read))
        cursor = page.next_cursor


# --- CSV ------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "signature_id",
    "agreement",
    "version",
    "kind",
    "signed_at",
    "source",
    "signed_by",
    "accounts",
    "logins",
    "restricted",
)
CSV_CONTACT_COLUMNS = ("name", "email", "other_emails", "address", "phone", "fax")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(items: Sequence[Mapping[str, Any]], *, include_contact: bool) -> str:
    """UTF-8 text with a BOM and CRLF line ends, every cell formula-safe."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    header = CSV_COLUMNS + (CSV_CONTACT_COLUMNS if include_contact else ())
    writer.writerow(header)
    for item in items:
        accounts = item.get("accounts") or []
        row: list[str] = [
            str(item["id"]),
            item["agreement"],
            item["version"],
            item["kind"],
            item["signed_at"] or "",
            item["source"],
            item.get("signed_by") or "",
            ";".join(f"{a['platform']}:{a['account_id']}" for a in accounts),
            ";".join(a["login"] or "" for a in accounts),
            "yes" if item.get("restricted") else "no",
        ]
        if include_contact:
            contact = item.get("contact") or {}
            mails = list(contact.get("emails") or [])
            row += [
                contact.get("name") or "",
                mails[0] if mails else "",
                ";".join(mails[1:]),
                contact.get("address") or "",
                contact.get("phone") or "",
                contact.get("fax") or "",
            ]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buf.getvalue()
