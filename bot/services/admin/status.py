"""Where someone stands: a platform account, an email or a pull request — covered or not, by
which agreement and version, individual or corporate, since when — never a name, an email or
any contact field. A status by login resolves the login to the most recent account the bot
recorded with it (logins can be renamed and reused: ask by account id to be certain). And the
agreements with their versions and how many signed each.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.coverage import Verdict, counting_versions, evaluate
from bot.core.identity import EMAIL, LOGIN, Contributor, Identity
from bot.core.model import Agreement, CoAuthorPolicy, Platform, Role, SignatureFact
from bot.services.admin.common import (
    AGREEMENT_RE,
    PLATFORMS,
    Invalid,
    NotFound,
    find_check_query,
    iso,
    validate_repo,
)
from bot.services.checks import build_allowlist
from bot.settings import Policy
from bot.storage.agreements import (
    agreement_row,
    list_agreement_rows,
    load_agreement,
    version_rows,
)
from bot.storage.crypto import FieldCipher
from bot.storage.models import (
    PrBlocker,
    PrCheck,
    Signature,
    SignerAccount,
)
from bot.storage.signatures import signature_facts

ACCOUNT_ID_RE = re.compile(r"[0-9]{1,20}")

LOGIN_NOTE = (
    "matched by login: the most recent account the bot recorded with this login; logins can be "
    "renamed and reused, so ask by account id to be certain"
)
UNKNOWN_LOGIN_NOTE = "no account with this login is on record; ask by account id to be certain"
UNLINKED_EMAIL = "email (not linked)"


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
        or await agreement_row(session, agreement_id) is None
    ):
        raise NotFound("unknown agreement")
    agreement = await load_agreement(session, agreement_id)
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
    facts = await signature_facts(session, cipher, [contributor])
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
    if not LOGIN.fullmatch(account):
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
    if not EMAIL.fullmatch(email):
        raise Invalid("not an email address")
    contributor = Contributor(
        identity=Identity.of_email(email), roles=frozenset({Role.AUTHOR}), shas=(), emails=(email,)
    )
    verdict, fact, since, agreement = await _status_of(
        session, cipher, policy, contributor, agreement_id
    )
    return _status("email", verdict, fact, since, agreement, matched_by="email")


async def pr_status(
    session: AsyncSession, *, platform: str, owner: str, repo: str, number: int
) -> dict[str, Any]:
    """What the bot last reported on a PR and who blocks it: account keys (with the login when
    known) and ``email (not linked)`` for emails, never an address."""
    validate_repo(platform, owner, repo, number)
    check = (
        await session.scalars(
            find_check_query(platform, owner, repo).where(PrCheck.number == number)
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
    for row in await list_agreement_rows(session):
        model = await load_agreement(session, row.id)
        counting = counting_versions(model) if model.versions else frozenset()
        versions = await version_rows(session, row.id)
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
