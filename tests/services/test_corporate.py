"""Corporate CLAs on a real database: a signature covers nobody until an administrator approves
it; what a company may list is checked; account entries match confirmed account ids only;
every change and decision is audited without values and re-checks exactly the PRs it affects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.identity import Contributor, Identity
from bot.core.model import Account, Role, SignatureFact
from bot.platforms.base import RetryableForgeError
from bot.platforms.github.facts import GITHUB
from bot.services import company_domains, corporate
from bot.services.admin.common import Invalid, NotFound
from bot.services.corporate import proofs
from bot.storage.agreements import sync_agreements
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.identity_keys import contributor_keys
from bot.storage.models import AuditEvent, Company, CompanyEntry, Job, JobKind, PrCheck
from bot.storage.pr_checks import replace_contributors
from bot.storage.signatures import signature_facts
from tests.helpers import sign_company
from tests.services.test_company_proofs import MARIA, last_code

Sessions = async_sessionmaker[AsyncSession]
SIGNATORY = {
    "company": "Example Corp",
    "name": "Maria Signatoryname",
    "title": "General Counsel",
    "email": "maria.legal@example.com",
    "address": "1 Corporate Plaza",
}
ADMIN = {"actor": "operator", "via": "cli", "request_id": "test"}


@pytest.fixture
async def db(db_url: str, make_settings: Any) -> AsyncIterator[Sessions]:
    settings = make_settings(db_url)
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        await sync_agreements(s, settings.policy.agreements)
    yield sessions
    await engine.dispose()


@dataclass
class Accounts:
    """The forge's users, as ``user_by_login`` answers (case-insensitive, like both forges)."""

    users: dict[str, Account] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    down: bool = False

    async def user_by_login(self, login: str) -> Account | None:
        self.asked.append(login)
        if self.down:
            raise RetryableForgeError("GET /users/x: HTTP 502", status=502)
        return self.users.get(login.lower())


def person_with_email(email: str) -> Contributor:
    return Contributor(Identity.of_email(email), frozenset({Role.AUTHOR}), ("a" * 40,), (email,))


def person_with_account(account_id: str, login: str, email: str) -> Contributor:
    ident = Identity(platform=GITHUB, account_id=account_id, login=login)
    return Contributor(ident, frozenset({Role.AUTHOR}), ("b" * 40,), (email,))


async def sign(db: Sessions, cipher: FieldCipher, *, domains: tuple[str, ...] = ()) -> Company:
    async with db() as s, s.begin():
        company: Company = await sign_company(
            s, cipher, fields=SIGNATORY, managers=["co-manager"], domains=domains
        )
        return company


async def add(
    db: Sessions,
    cipher: FieldCipher,
    company: Company,
    kind: str,
    raw: str,
    accounts: Accounts | None = None,
) -> int:
    new = await corporate.prepare_entry(
        cipher, kind=kind, raw=raw, platform="github", accounts=accounts
    )
    async with db() as s, s.begin():
        fresh = await s.get(Company, company.id)
        assert fresh is not None
        return await corporate.add_entry(
            s, cipher, fresh, new, actor="github:9", request_id="req-add"
        )


async def covered(
    db: Sessions, cipher: FieldCipher, people: list[Contributor]
) -> dict[str, list[str]]:
    """Identity key → the companies covering that person (empty lists left out)."""
    async with db() as s:
        facts = await signature_facts(s, cipher, people)
    return {k: [_company(f) for f in v] for k, v in facts.items() if v}


def _company(fact: SignatureFact) -> str:
    assert fact.corporate and fact.company is not None
    return fact.company


async def seed_pr(db: Sessions, cipher: FieldCipher, number: int, who: Contributor) -> None:
    """An open PR whose only contributor ``who`` blocks it, recorded as a check records it."""
    async with db() as s, s.begin():
        check = PrCheck(
            platform="github",
            repo_full_name="acme/widgets",
            number=number,
            head_sha=f"{number:040x}",
            installation_id=1,
        )
        s.add(check)
        await s.flush()
        await replace_contributors(s, check, dict.fromkeys(contributor_keys(cipher, who), True))


async def jobs(db: Sessions) -> int:
    """The re-checks queued (mail aside)."""
    async with db() as s:
        query = select(func.count()).select_from(Job).where(Job.kind != JobKind.MAIL)
        return int(await s.scalar(query) or 0)


async def audit_trail(db: Sessions) -> list[tuple[str, str, dict[str, Any]]]:
    async with db() as s:
        rows = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    return [(r.action, r.actor, r.details) for r in rows]


DEV = person_with_email("dev@example.com")
LISTED = person_with_email("listed@elsewhere.org")
ALICE = person_with_account("42", "alice", "alice@home.example.net")


async def test_a_signature_covers_nobody_until_approved_and_nobody_after_a_rejection(
    db: Sessions, cipher: FieldCipher
) -> None:
    accounts = Accounts({"alice": Account(GITHUB, "42", "Alice")})
    company = await sign(db, cipher, domains=("example.com",))
    assert company.status == "pending"
    assert await add(db, cipher, company, "email", "Listed@Elsewhere.org") == 0
    assert await add(db, cipher, company, "login", "@alice", accounts) == 0
    people = [DEV, LISTED, ALICE]
    assert await covered(db, cipher, people) == {}

    async with db() as s, s.begin():
        decision = await corporate.approve(s, cipher, company.id, **ADMIN)
    assert (decision.changed, decision.refused) == (True, ())
    assert decision.company.status == "approved"
    assert await covered(db, cipher, people) == {
        "email:dev@example.com": ["Example Corp"],
        "email:listed@elsewhere.org": ["Example Corp"],
        "github:42": ["Example Corp"],
    }

    async with db() as s, s.begin():
        decision = await corporate.reject(
            s, cipher, company.id, reason="not the company's legal signatory", **ADMIN
        )
    assert decision.company.status == "rejected"
    assert decision.company.reason == "not the company's legal signatory"
    assert await covered(db, cipher, people) == {}


REFUSED = [
    ("gmail.com", "gmail.com belongs to a free-mail provider: anyone can have an address there"),
    ("GMail.COM", "gmail.com belongs to a free-mail provider: anyone can have an address there"),
    ("@qq.com", "qq.com belongs to a free-mail provider: anyone can have an address there"),
    ("163.com", "163.com belongs to a free-mail provider: anyone can have an address there"),
    (
        "vip.163.com",
        "vip.163.com belongs to a free-mail provider: anyone can have an address there",
    ),
    (
        "yahoo.co.jp",
        "yahoo.co.jp belongs to a free-mail provider: anyone can have an address there",
    ),
    ("tuta.io", "tuta.io belongs to a free-mail provider: anyone can have an address there"),
    (
        "co.uk",
        "co.uk is a public suffix: names under it belong to many different owners; list your "
        "company's own domain",
    ),
    (
        "github.io",
        "github.io is a public suffix: names under it belong to many different owners; list "
        "your company's own domain",
    ),
    (
        "users.noreply.github.com",
        "users.noreply.github.com is a forge's noreply domain: its addresses stand for accounts",
    ),
    (
        "x.users.noreply.github.com",
        "x.users.noreply.github.com is a forge's noreply domain: its addresses stand for accounts",
    ),
    (
        "user.noreply.gitee.com",
        "user.noreply.gitee.com is a forge's noreply domain: its addresses stand for accounts",
    ),
    ("example.invalid", "example.invalid is not under a known top-level domain"),
    ("not a domain", "not a domain is not a domain name, e.g. example.com"),
    ("example..com", "example..com is not a domain name, e.g. example.com"),
    ("", "that is not a domain name, e.g. example.com"),
]


@pytest.mark.parametrize(("raw", "message"), REFUSED)
async def test_a_domain_nobody_single_can_own_is_refused(
    db: Sessions, cipher: FieldCipher, raw: str, message: str
) -> None:
    with pytest.raises(corporate.EntryError) as refused:
        await corporate.prepare_entry(
            cipher, kind="domain", raw=raw, platform="github", accounts=None
        )
    assert str(refused.value) == message
    if raw and " " not in raw:  # the signing form's list, separated by commas or spaces
        with pytest.raises(corporate.EntryError) as at_signing:
            corporate.parse_domains(f"example.com, {raw}")
        assert str(at_signing.value) == message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("example.com", "example.com"),
        ("@Example.COM.", "example.com"),
        ("example.co.uk", "example.co.uk"),
        ("eng.example.co.uk", "eng.example.co.uk"),
        ("acme.github.io", "acme.github.io"),
        ("example.xn--fiqs8s", "example.xn--fiqs8s"),
    ],
)
async def test_a_registrable_domain_or_one_below_it_is_accepted(
    cipher: FieldCipher, raw: str, stored: str
) -> None:
    assert corporate.check_domain(raw) == stored
    # and still not listed on a manager's word: only a code mailed there proves it
    with pytest.raises(corporate.EntryError, match="only once proven"):
        await corporate.prepare_entry(
            cipher, kind="domain", raw=raw, platform="github", accounts=None
        )


def test_the_free_mail_list_holds_the_providers_contributors_use() -> None:
    free = company_domains.free_mail_domains()
    expected = {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "qq.com",
        "163.com",
        "126.com",
        "foxmail.com",
        "yahoo.com",
        "yahoo.co.jp",
        "yahoo.fr",
        "icloud.com",
        "proton.me",
        "protonmail.com",
        "tutanota.com",  # from the extra file
        "sina.com.cn",  # from the extra file
    }
    assert expected <= free
    assert "example.com" not in free


@pytest.mark.parametrize(
    "raw", ["<jane@example.com>", "jane@example.com>", "a" * 201 + "@example.com"]
)
async def test_an_address_outside_the_email_rule_is_refused(raw: str, cipher: FieldCipher) -> None:
    with pytest.raises(corporate.EntryError) as refused:
        await corporate.prepare_entry(
            cipher, kind="email", raw=raw, platform="github", accounts=None
        )
    assert str(refused.value) == "not an email address"


@pytest.mark.parametrize("raw", ["renovate[bot]", "-mona", "a" * 101])
async def test_an_account_entry_names_a_person_by_a_login(raw: str, cipher: FieldCipher) -> None:
    with pytest.raises(corporate.EntryError) as refused:
        await corporate.prepare_entry(
            cipher, kind="login", raw=raw, platform="github", accounts=None
        )
    assert str(refused.value) == f"not a valid account name: {raw}"


async def test_a_noreply_address_is_refused_as_an_email(cipher: FieldCipher) -> None:
    with pytest.raises(corporate.EntryError) as refused:
        await corporate.prepare_entry(
            cipher,
            kind="email",
            raw="583231+octocat@users.noreply.github.com",
            platform="github",
            accounts=None,
        )
    assert str(refused.value) == "a noreply address stands for a forge account: list the account"


async def test_a_domain_added_after_approval_waits_for_its_own_approval(
    db: Sessions, cipher: FieldCipher
) -> None:
    company = await sign(db, cipher, domains=("example.com",))
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
    newcomer = person_with_email("new@example.org")
    await seed_pr(db, cipher, 1, newcomer)
    async with db() as s, s.begin():
        uid = await proofs.start_domain(
            s, cipher, MARIA, company, "it@example.org", lang="en", public_url="u"
        )
    code = (await last_code(db, cipher))[1]["code"]
    async with db() as s, s.begin():
        await proofs.finish_domain(s, cipher, MARIA, company, uid, code, request_id="r")
    assert await jobs(db) == 0  # a proven domain waits: no PR changes yet
    assert await covered(db, cipher, [newcomer]) == {}
    async with db() as s:
        waiting = await corporate.list_companies(s, pending=True)
        everyone = await corporate.list_companies(s)
    assert [(v.id, [(d.domain, d.status) for d in v.domains]) for v in waiting] == [
        (company.id, [("example.com", "approved"), ("example.org", "pending")])
    ]
    assert [v.id for v in everyone] == [company.id]

    async with db() as s, s.begin():
        decision = await corporate.approve(s, cipher, company.id, **ADMIN)
    assert decision.changed and decision.rechecks == 1
    assert await jobs(db) == 1
    assert await covered(db, cipher, [newcomer]) == {"email:new@example.org": ["Example Corp"]}
    async with db() as s:
        assert await corporate.list_companies(s, pending=True) == []


async def test_emails_and_accounts_added_to_an_approved_company_count_at_once(
    db: Sessions, cipher: FieldCipher
) -> None:
    company = await sign(db, cipher)
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
    await seed_pr(db, cipher, 1, LISTED)
    await seed_pr(db, cipher, 2, ALICE)
    accounts = Accounts({"alice": Account(GITHUB, "42", "Alice")})
    assert await add(db, cipher, company, "email", "listed@elsewhere.org") == 1
    assert await add(db, cipher, company, "login", "alice", accounts) == 1
    assert await add(db, cipher, company, "login", "ALICE", accounts) == 0  # listed already
    assert await jobs(db) == 2
    assert await covered(db, cipher, [LISTED, ALICE]) == {
        "email:listed@elsewhere.org": ["Example Corp"],
        "github:42": ["Example Corp"],
    }


async def test_an_account_entry_matches_the_confirmed_account_id_only(
    db: Sessions, cipher: FieldCipher
) -> None:
    accounts = Accounts({"alice": Account(GITHUB, "42", "Alice")})
    company = await sign(db, cipher)
    await add(db, cipher, company, "login", "alice", accounts)
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
        listed = await corporate.entries(s, cipher, company)
        rows = (await s.scalars(select(CompanyEntry))).all()
    assert accounts.asked == ["alice"]
    assert [(r.kind, r.value, r.login, r.status) for r in rows] == [
        ("login", "github:42", "Alice", "approved")
    ]
    assert [(e.kind, e.shown, e.status) for e in listed] == [("login", "github:Alice", "approved")]
    renamed = person_with_account("42", "alice-renamed", "a@x.example.net")
    # whoever writes ``666+alice@users.noreply.github.com`` into a commit claims the login
    impostor = Contributor(
        Identity(platform=GITHUB, account_id="666", login="alice"),
        frozenset({Role.AUTHOR}),
        ("c" * 40,),
        ("666+alice@users.noreply.github.com",),
    )
    assert await covered(db, cipher, [renamed, impostor]) == {"github:42": ["Example Corp"]}


async def test_a_login_the_forge_does_not_confirm_is_refused(cipher: FieldCipher) -> None:
    cases: list[tuple[Accounts | None, str]] = [
        (Accounts(), "GitHub has no user account named ghost"),
        (Accounts(down=True), "GitHub did not answer about ghost: try again later"),
        (
            None,
            "GitHub accounts cannot be confirmed yet (the bot is not installed on any GitHub "
            "repository): try again later",
        ),
    ]
    for accounts, message in cases:
        with pytest.raises(corporate.EntryError) as refused:
            await corporate.prepare_entry(
                cipher, kind="login", raw="@ghost", platform="github", accounts=accounts
            )
        assert str(refused.value) == message


async def test_an_unconfirmed_login_matches_nobody_and_adding_it_again_replaces_it(
    db: Sessions, cipher: FieldCipher
) -> None:
    """As migrated: a login listed before ids were confirmed."""
    company = await sign(db, cipher)
    async with db() as s, s.begin():
        s.add(
            CompanyEntry(
                company_id=company.id,
                kind="login",
                value="login:github:alice",
                login="alice",
                status="unconfirmed",
                created_by="github:9",
            )
        )
        await corporate.approve(s, cipher, company.id, **ADMIN)
    assert await covered(db, cipher, [ALICE]) == {}
    async with db() as s:
        listed = await corporate.entries(s, cipher, company)
    assert [(e.shown, e.status, e.login) for e in listed] == [
        ("github:alice", "unconfirmed", "alice")
    ]
    accounts = Accounts({"alice": Account(GITHUB, "42", "alice")})
    await add(db, cipher, company, "login", "alice", accounts)
    async with db() as s:
        rows = (await s.scalars(select(CompanyEntry))).all()
    assert [(r.value, r.status) for r in rows] == [("github:42", "approved")]
    assert await covered(db, cipher, [ALICE]) == {"github:42": ["Example Corp"]}


async def test_approval_rejects_a_waiting_domain_the_rules_refuse(
    db: Sessions, cipher: FieldCipher
) -> None:
    """A domain listed before the rules existed (as migrated) is not approved with them."""
    company = await sign(db, cipher, domains=("example.com",))
    async with db() as s, s.begin():
        s.add(
            CompanyEntry(
                company_id=company.id, kind="domain", value="gmail.com", created_by="github:9"
            )
        )
    async with db() as s, s.begin():
        decision = await corporate.approve(s, cipher, company.id, **ADMIN)
    assert decision.refused == ("gmail.com",)
    assert [(d.domain, d.status, d.reason) for d in decision.company.domains] == [
        ("example.com", "approved", None),
        (
            "gmail.com",
            "rejected",
            "gmail.com belongs to a free-mail provider: anyone can have an address there",
        ),
    ]
    assert await covered(db, cipher, [person_with_email("x@gmail.com"), DEV]) == {
        "email:dev@example.com": ["Example Corp"]
    }


async def test_one_domain_can_be_rejected_and_its_prs_are_checked_again(
    db: Sessions, cipher: FieldCipher
) -> None:
    company = await sign(db, cipher, domains=("example.com", "example.net"))
    async with db() as s, s.begin():
        await corporate.approve(s, cipher, company.id, **ADMIN)
    await seed_pr(db, cipher, 1, DEV)
    async with db() as s, s.begin():
        decision = await corporate.reject(
            s, cipher, company.id, reason="owned by another firm", domain="Example.COM", **ADMIN
        )
    assert (decision.changed, decision.rechecks, decision.company.status) == (True, 1, "approved")
    assert [(d.domain, d.status, d.reason) for d in decision.company.domains] == [
        ("example.com", "rejected", "owned by another firm"),
        ("example.net", "approved", None),
    ]
    assert await jobs(db) == 1
    other = person_with_email("dev@example.net")
    assert await covered(db, cipher, [DEV, other]) == {"email:dev@example.net": ["Example Corp"]}


async def test_bad_decisions_are_refused_and_write_nothing(
    db: Sessions, cipher: FieldCipher
) -> None:
    company = await sign(db, cipher, domains=("example.com",))
    before = await audit_trail(db)
    async with db() as s, s.begin():
        with pytest.raises(NotFound, match="no such company"):
            await corporate.approve(s, cipher, company.id + 1, **ADMIN)
        with pytest.raises(NotFound, match="no such company"):
            await corporate.show_company(s, 0)
        with pytest.raises(Invalid, match="a reason is required"):
            await corporate.reject(s, cipher, company.id, reason="  ", **ADMIN)
        with pytest.raises(Invalid, match="a reason is required"):
            await corporate.reject(s, cipher, company.id, reason="x" * 501, **ADMIN)
        with pytest.raises(NotFound, match="that domain is not in this company's list"):
            await corporate.reject(s, cipher, company.id, reason="no", domain="other.com", **ADMIN)
    assert await audit_trail(db) == before
    async with db() as s:
        view = await corporate.show_company(s, company.id)
    assert view.status == "pending" and view.decided_at is None


async def test_every_change_and_decision_is_audited_without_values(
    db: Sessions, cipher: FieldCipher
) -> None:
    accounts = Accounts({"alice": Account(GITHUB, "42", "alice")})
    company = await sign(db, cipher, domains=("example.com",))
    await add(db, cipher, company, "email", "listed@elsewhere.org")
    await add(db, cipher, company, "login", "alice", accounts)
    async with db() as s, s.begin():
        first = await corporate.approve(s, cipher, company.id, **ADMIN)
        again = await corporate.approve(s, cipher, company.id, **ADMIN)  # nothing to decide
    assert (first.changed, again.changed) == (True, False)
    async with db() as s, s.begin():
        entry = next(e for e in await corporate.entries(s, cipher, company) if e.kind == "email")
        fresh = await s.get(Company, company.id)
        assert fresh is not None
        await corporate.remove_entry(
            s, cipher, fresh, entry.uid, actor="github:9", request_id="req-remove"
        )
        await corporate.reject(s, cipher, company.id, reason="withdrawn", **ADMIN)
    uid = company.uid
    assert await audit_trail(db) == [
        (
            "sign",
            "github:9",
            {"agreement": "corporate", "version": "1.0", "company": uid, "domains": 1},
        ),
        ("company-entry-add", "github:9", {"company": uid, "kind": "email"}),
        ("company-entry-add", "github:9", {"company": uid, "kind": "login"}),
        ("company-approve", "operator", {"company": uid, "domains": 1, "refused": 0}),
        ("company-entry-remove", "github:9", {"company": uid, "kind": "email"}),
        ("company-reject", "operator", {"company": uid, "scope": "company"}),
    ]
    trail = json.dumps(await audit_trail(db)).lower()
    for value in ("example corp", "example.com", "listed@elsewhere.org", "alice", "maria"):
        assert value not in trail


async def test_what_administrators_see_holds_no_contact_data(
    db: Sessions, cipher: FieldCipher
) -> None:
    company = await sign(db, cipher, domains=("example.com",))
    await add(db, cipher, company, "email", "listed@elsewhere.org")
    async with db() as s:
        [summary] = await corporate.list_companies(s)
        view = await corporate.show_company(s, company.id)
    assert summary.as_summary() == {
        "id": company.id,
        "name": "Example Corp",
        "status": "pending",
        "signed_at": summary.as_summary()["signed_at"],
        "domains": [
            {"domain": "example.com", "status": "pending", "reason": None, "proven": False}
        ],
    }
    assert view.as_dict() == {
        **summary.as_summary(),
        "agreement": "corporate",
        "version": "1.0",
        "emails": 1,
        "accounts": 0,
        "managers": ["github:maria", "github:co-manager"],
        "decided_at": None,
        "decided_by": None,
        "reason": None,
    }
    shown = json.dumps(view.as_dict()).lower()
    for value in ("signatoryname", "general counsel", "corporate plaza", "maria.legal", "listed@"):
        assert value not in shown
