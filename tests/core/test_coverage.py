from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.coverage import (
    Allowlist,
    Coverage,
    Verdict,
    allowlisted,
    counting_versions,
    evaluate,
    glob_to_regex,
)
from bot.core.identity import BotKind, Contributor, Identity, KnownBot
from bot.core.model import (
    Agreement,
    AgreementVersion,
    AiAgentPolicy,
    CoAuthorPolicy,
    Platform,
    Role,
    SignatureFact,
)
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.platforms.registry import FACTS as FORGES

GH = GITHUB
GE = GITEE
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 6, 1, tzinfo=UTC)

DEPENDABOT = KnownBot.of(
    BotKind.BOT, "Dependabot", platform=GH, account_ids=["49699333"], logins=["dependabot[bot]"]
)
RENOVATE = KnownBot.of(
    BotKind.BOT, "Renovate", platform=GH, account_ids=["29139614"], logins=["renovate[bot]"]
)
SNYK = KnownBot.of(BotKind.BOT, "Snyk", platform=GH, account_ids=["19733683"], logins=["snyk-bot"])
IMGBOT = KnownBot.of(BotKind.BOT, "Imgbot", platform=GH, logins=["imgbot[bot]"])
COPILOT = KnownBot.of(
    BotKind.AI_AGENT,
    "GitHub Copilot coding agent",
    platform=GH,
    account_ids=["198982749"],
    logins=["Copilot"],
)
CLAUDE = KnownBot.of(BotKind.AI_AGENT, "Claude", emails=["noreply@anthropic.com"], forges=FORGES)
KNOWN = (COPILOT, CLAUDE, DEPENDABOT, RENOVATE, SNYK, IMGBOT)
BOTS = Allowlist(known=KNOWN)


@pytest.mark.parametrize(
    ("pattern", "login", "matches"),
    [
        ("dependabot[bot]", "dependabot[bot]", True),
        ("dependabot[bot]", "Dependabot[BOT]", True),
        ("dependabot[bot]", "dependabotb", False),  # fnmatch would read [bot] as a class
        ("dependabot[bot]", "dependabot", False),
        ("dependabot[bot]", "xdependabot[bot]", False),  # anchored at the start
        ("dependabot[bot]", "dependabot[bot]x", False),  # and at the end
        ("*[bot]", "anything[bot]", True),
        ("*[bot]", "anything", False),
        ("renovate?", "renovatex", True),
        ("renovate?", "renovate", False),
        ("a.b", "axb", False),  # regex characters are literal
        ("a+", "aa", False),
        ("ci-*", "ci-", True),
        ("ci-*", "ci", False),
        ("*", "", True),
        ("", "", True),
        ("", "x", False),
    ],
)
def test_glob(pattern: str, login: str, matches: bool) -> None:
    assert (glob_to_regex(pattern).fullmatch(login) is not None) is matches


@given(st.text().filter(lambda t: "*" not in t and "?" not in t), st.text(min_size=1))
def test_glob_without_wildcards_is_literal(login: str, extra: str) -> None:
    assert glob_to_regex(login).fullmatch(login) is not None
    assert glob_to_regex(login).fullmatch(login + extra) is None


@pytest.mark.parametrize(
    ("patterns", "platform", "login", "matches"),
    [
        (("github:dependabot[bot]",), GH, "dependabot[bot]", True),
        (("github:dependabot[bot]",), GE, "dependabot[bot]", False),
        (("GitHub:snyk-bot",), GH, "Snyk-Bot", True),
        (("gitee:ci-*",), GE, "ci-runner", True),
        (("gitee:ci-*",), GH, "ci-runner", False),
        (("ci-*",), GH, "ci-runner", True),  # no scope: every platform
        (("ci-*",), GE, "ci-runner", True),
        ((" ci-* ",), GE, "ci-runner", True),
        (("gitlab:ci",), GH, "ci", False),
        ((), GH, "dependabot[bot]", False),
    ],
)
def test_allowlist_logins(
    patterns: tuple[str, ...], platform: Platform, login: str, matches: bool
) -> None:
    assert Allowlist(logins=patterns).matches_login(platform, login) is matches


@pytest.mark.parametrize(
    ("domains", "email", "matches"),
    [
        (("example.com",), "a@example.com", True),
        (("example.com",), "A@EXAMPLE.COM", True),
        (("example.com",), "a@dev.example.com", False),
        (("example.com",), "a@badexample.com", False),
        (("*.example.com",), "a@dev.example.com", True),
        (("*.example.com",), "a@x.dev.example.com", True),
        (("*.example.com",), "a@example.com", False),
        (("*.example.com",), "a@badexample.com", False),
        (("example.com", "*.example.com"), "a@dev.example.com", True),
        (("example.com",), "example.com", False),
        (("example.com",), "@example.com", False),
        (("",), "a@", False),
    ],
)
def test_allowlist_domains(domains: tuple[str, ...], email: str, matches: bool) -> None:
    assert Allowlist(email_domains=domains).matches_domain(email) is matches


def account(
    account_id: str,
    login: str,
    *,
    platform: Platform = GH,
    bot: bool = False,
    roles: frozenset[Role] = frozenset({Role.AUTHOR}),
) -> Contributor:
    identity = Identity(platform=platform, account_id=account_id, login=login)
    return Contributor(identity, roles, ("a1",), (f"{login}@x.org",), bot)


def email_only(*emails: str, roles: frozenset[Role] = frozenset({Role.AUTHOR})) -> Contributor:
    return Contributor(Identity.of_email(emails[0]), roles, ("a1",), emails, False)


@pytest.mark.parametrize(
    ("contributor", "allowlist", "expected"),
    [
        # the built-in table: by account id, by an App's [bot] login, on its forge only
        (account("49699333", "dependabot[bot]", bot=True), BOTS, True),
        (account("49699333", "renamed-app[bot]", bot=True), BOTS, True),
        (account("49699333", "dependabot[bot]", bot=True), Allowlist(), False),
        (account("1", "dependabot[bot]", bot=True), BOTS, True),  # another id: an Enterprise Server
        (account("1", "dependabot[bot]", platform=GE), BOTS, False),
        (account("49699333", "dependabot[bot]", platform=GE), BOTS, False),
        (account("19733683", "snyk-bot"), BOTS, True),
        (account("2", "snyk-bot"), BOTS, False),  # a user login, with a known id: the id only
        (account("3", "imgbot[bot]", bot=True), BOTS, True),  # no id known: the login
        (account("1", "octo"), BOTS, False),
        # an AI agent is not a bot of the allowlist: `ai_agents` decides about it
        (account("198982749", "Copilot", bot=True), BOTS, False),
        (email_only("noreply@anthropic.com"), BOTS, False),
        (account("1", "octo"), Allowlist(), False),
        (account("1", "octo"), Allowlist(account_keys=frozenset({"github:1"})), True),
        (account("1", "octo"), Allowlist(account_keys=frozenset({"gitee:1"})), False),
        (account("1", "octo"), Allowlist(logins=("oct?",)), True),
        # email domains cover email-only contributors, all of whose emails must match
        (account("1", "octo"), Allowlist(email_domains=("x.org",)), False),
        (email_only("a@x.org"), Allowlist(email_domains=("x.org",)), True),
        (email_only("a@x.org", "A@X.ORG"), Allowlist(email_domains=("x.org",)), True),
        (email_only("a@x.org", "a@y.org"), Allowlist(email_domains=("x.org",)), False),
        (email_only("a@x.org"), Allowlist(logins=("*",)), False),
    ],
)
def test_allowlisted(contributor: Contributor, allowlist: Allowlist, expected: bool) -> None:
    assert allowlisted(contributor, allowlist) is expected


@pytest.mark.parametrize(
    ("platform", "login", "matches"),
    [
        (GH, "dependabot[bot]", True),
        (GH, "Dependabot[BOT]", True),
        (GE, "dependabot[bot]", False),  # on Gitee anyone can register a look-alike
        (GH, "snyk-bot", False),  # a user login of an entry with an id: never by login
        (GH, "imgbot[bot]", True),
        (GH, "Copilot", False),  # an AI agent, and a login that is not an App's
    ],
)
def test_matches_login_knows_the_builtin_bots(
    platform: Platform, login: str, matches: bool
) -> None:
    assert BOTS.matches_login(platform, login) is matches


def versions(*spec: tuple[str, bool]) -> Agreement:
    return Agreement(
        "icla", "Individual CLA", tuple(AgreementVersion("icla", v, "0" * 64, c) for v, c in spec)
    )


@pytest.mark.parametrize(
    ("agreement", "expected"),
    [
        (versions(("1", True)), {"1"}),
        (versions(("1", False)), {"1"}),  # the first version has nothing to break
        (versions(("1", True), ("2", True), ("3", True)), {"1", "2", "3"}),
        (versions(("1", True), ("2", False), ("3", True)), {"2", "3"}),
        (versions(("1", True), ("2", True), ("3", False)), {"3"}),
        (versions(), set()),
    ],
)
def test_counting_versions(agreement: Agreement, expected: set[str]) -> None:
    assert counting_versions(agreement) == expected


AGREEMENT = versions(("1.0", True), ("2.0", False), ("2.1", True))


def fact(
    version: str,
    *,
    agreement_id: str = "icla",
    restricted: bool = False,
    at: datetime = T0,
    signer: int = 1,
) -> SignatureFact:
    return SignatureFact(signer, agreement_id, version, at, restricted=restricted)


@pytest.mark.parametrize(
    ("facts", "verdict", "signature"),
    [
        ((), Verdict.UNSIGNED, None),
        ((fact("2.1"),), Verdict.SIGNED, fact("2.1")),
        ((fact("2.0"),), Verdict.SIGNED, fact("2.0")),  # compatible with 2.1
        ((fact("1.0"),), Verdict.RESIGN, fact("1.0")),  # 2.0 broke compatibility
        ((fact("1.0"), fact("2.0")), Verdict.SIGNED, fact("2.0")),
        ((fact("9.9"),), Verdict.UNSIGNED, None),  # unknown version
        ((fact("2.1", agreement_id="ccla"),), Verdict.UNSIGNED, None),
        ((fact("2.1", restricted=True),), Verdict.RESTRICTED, fact("2.1", restricted=True)),
        ((fact("2.1", restricted=True), fact("2.0")), Verdict.SIGNED, fact("2.0")),
        ((fact("1.0", restricted=True),), Verdict.UNSIGNED, None),  # restricted: not used
        (
            (fact("1.0"), fact("2.1", restricted=True)),
            Verdict.RESTRICTED,
            fact("2.1", restricted=True),
        ),
        # the best fact: latest version, then latest signing time
        ((fact("2.0", at=T1), fact("2.1", at=T0)), Verdict.SIGNED, fact("2.1", at=T0)),
        (
            (fact("2.1", at=T0, signer=1), fact("2.1", at=T1, signer=2)),
            Verdict.SIGNED,
            fact("2.1", at=T1, signer=2),
        ),
    ],
)
def test_verdict_of_an_account(
    facts: tuple[SignatureFact, ...], verdict: Verdict, signature: SignatureFact | None
) -> None:
    octo = account("1", "octo")
    coverage = evaluate(
        [octo],
        {"github:1": facts},
        agreement=AGREEMENT,
        allowlist=Allowlist(),
        co_authors=CoAuthorPolicy.REQUIRE,
    )
    (result,) = coverage.results
    assert result.contributor is octo
    assert result.verdict is verdict
    assert result.signature == signature
    assert result.blocking is not verdict.covered


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        ({}, Verdict.UNLINKED),
        ({"email:ann@x.org": (fact("2.1"),)}, Verdict.SIGNED),
        ({"email:ann@x.org": (fact("1.0"),)}, Verdict.RESIGN),
        ({"github:1": (fact("2.1"),)}, Verdict.UNLINKED),  # somebody else's key
    ],
)
def test_verdict_of_an_email(facts: dict[str, tuple[SignatureFact, ...]], verdict: Verdict) -> None:
    coverage = evaluate(
        [email_only("Ann@X.org")],
        facts,
        agreement=AGREEMENT,
        allowlist=Allowlist(),
        co_authors=CoAuthorPolicy.REQUIRE,
    )
    assert coverage.results[0].verdict is verdict


def test_allowlist_wins_over_missing_signature() -> None:
    bot = account("9", "renovate[bot]", bot=True)
    coverage = evaluate(
        [bot], {}, agreement=AGREEMENT, allowlist=BOTS, co_authors=CoAuthorPolicy.REQUIRE
    )
    (result,) = coverage.results
    assert (result.verdict, result.signature, result.blocking) == (Verdict.ALLOWLISTED, None, False)


def test_unallowlisted_bot_blocks() -> None:
    bot = account("9", "some-app[bot]", bot=True)
    coverage = evaluate(
        [bot], {}, agreement=AGREEMENT, allowlist=Allowlist(), co_authors=CoAuthorPolicy.REQUIRE
    )
    assert coverage.results[0].verdict is Verdict.UNSIGNED
    assert coverage.results[0].blocking


CO = frozenset({Role.CO_AUTHOR})
BOTH = frozenset({Role.AUTHOR, Role.CO_AUTHOR})


@pytest.mark.parametrize(
    ("roles", "policy", "blocking"),
    [
        (CO, CoAuthorPolicy.REQUIRE, True),
        (CO, CoAuthorPolicy.WARN, False),
        (CO, CoAuthorPolicy.IGNORE, False),
        (BOTH, CoAuthorPolicy.WARN, True),  # an author too: always counts
        (frozenset({Role.COMMITTER, Role.CO_AUTHOR}), CoAuthorPolicy.WARN, True),
    ],
)
def test_co_author_blocking(roles: frozenset[Role], policy: CoAuthorPolicy, blocking: bool) -> None:
    coverage = evaluate(
        [account("1", "octo", roles=roles)],
        {},
        agreement=AGREEMENT,
        allowlist=Allowlist(),
        co_authors=policy,
    )
    result = coverage.results[0]
    assert result.blocking is blocking
    assert coverage.passes is not blocking
    assert coverage.warnings == (() if blocking else (result,))
    assert not all(r.covered for r in coverage.results)


def test_coverage_summary() -> None:
    signed = account("1", "octo")
    warned = account("2", "ann", roles=CO)
    blocked = account("3", "bob")
    allowed = account("4", "dependabot[bot]", bot=True)
    coverage = evaluate(
        [signed, warned, blocked, allowed],
        {"github:1": (fact("2.1"),)},
        agreement=AGREEMENT,
        allowlist=BOTS,
        co_authors=CoAuthorPolicy.WARN,
    )
    assert [r.contributor for r in coverage.results] == [signed, warned, blocked, allowed]
    assert [r.verdict for r in coverage.results] == [
        Verdict.SIGNED,
        Verdict.UNSIGNED,
        Verdict.UNSIGNED,
        Verdict.ALLOWLISTED,
    ]
    assert [r.contributor for r in coverage.blocking] == [blocked]
    assert [r.contributor for r in coverage.warnings] == [warned]
    assert not coverage.passes
    assert not all(r.covered for r in coverage.results)


# A pull request of the Copilot coding agent: its commits are authored by the agent's account,
# with the person who asked as a co-author; a Claude trailer on a commit of that person's.
AGENT = account("198982749", "Copilot", bot=True)
ASKER = account("5", "mona", roles=CO)
CLAUDE_TRAILER = email_only("noreply@anthropic.com", roles=CO)
ASKED = (AGENT, ASKER, CLAUDE_TRAILER)


@pytest.mark.parametrize(
    ("policy", "asker_signed", "verdicts", "blocking", "passes"),
    [
        (
            AiAgentPolicy.ALLOW,
            True,
            (Verdict.ALLOWLISTED, Verdict.SIGNED, Verdict.ALLOWLISTED),
            (False, False, False),
            True,
        ),
        # the agents need no signature, the person who asked does
        (
            AiAgentPolicy.ALLOW,
            False,
            (Verdict.ALLOWLISTED, Verdict.UNSIGNED, Verdict.ALLOWLISTED),
            (False, True, False),
            False,
        ),
        (
            AiAgentPolicy.WARN,
            True,
            (Verdict.UNSIGNED, Verdict.SIGNED, Verdict.UNLINKED),
            (False, False, False),
            True,
        ),
        (
            AiAgentPolicy.REQUIRE,
            True,
            (Verdict.UNSIGNED, Verdict.SIGNED, Verdict.UNLINKED),
            (True, False, True),
            False,
        ),
    ],
)
def test_ai_agents_follow_the_policy(
    policy: AiAgentPolicy,
    asker_signed: bool,
    verdicts: tuple[Verdict, ...],
    blocking: tuple[bool, ...],
    passes: bool,
) -> None:
    coverage = evaluate(
        ASKED,
        {"github:5": (fact("2.1"),)} if asker_signed else {},
        agreement=AGREEMENT,
        allowlist=Allowlist(known=KNOWN, ai_agents=policy),
        co_authors=CoAuthorPolicy.REQUIRE,
    )
    assert tuple(r.verdict for r in coverage.results) == verdicts
    assert tuple(r.blocking for r in coverage.results) == blocking
    assert tuple(r.agent for r in coverage.results) == (
        "GitHub Copilot coding agent",
        None,
        "Claude",
    )
    assert coverage.passes is passes


def test_an_ai_agent_is_not_recognised_without_the_table() -> None:
    coverage = evaluate(
        [AGENT], {}, agreement=AGREEMENT, allowlist=Allowlist(), co_authors=CoAuthorPolicy.REQUIRE
    )
    (result,) = coverage.results
    assert (result.verdict, result.blocking, result.agent) == (Verdict.UNSIGNED, True, None)


def test_the_allowlist_covers_an_ai_agent_the_policy_requires() -> None:
    allowlist = Allowlist(
        known=KNOWN, ai_agents=AiAgentPolicy.REQUIRE, account_keys=frozenset({"github:198982749"})
    )
    coverage = evaluate(
        [AGENT], {}, agreement=AGREEMENT, allowlist=allowlist, co_authors=CoAuthorPolicy.REQUIRE
    )
    (result,) = coverage.results
    assert (result.verdict, result.blocking, result.agent) == (
        Verdict.ALLOWLISTED,
        False,
        "GitHub Copilot coding agent",
    )


def test_no_signature_counts_for_an_ai_agent() -> None:
    """The forge linked Claude's address to somebody's account, and that account signed: the
    signature is that person's, not the agent's."""
    linked = Contributor(
        Identity(platform=GH, account_id="77", login="stranger"),
        CO,
        ("a1",),
        ("noreply@anthropic.com",),
    )
    coverage = evaluate(
        [linked],
        {"github:77": (fact("2.1"),)},
        agreement=AGREEMENT,
        allowlist=Allowlist(known=KNOWN, ai_agents=AiAgentPolicy.REQUIRE),
        co_authors=CoAuthorPolicy.REQUIRE,
    )
    (result,) = coverage.results
    assert (result.verdict, result.signature, result.agent) == (Verdict.UNSIGNED, None, "Claude")
    assert result.blocking


def test_empty_coverage_passes() -> None:
    coverage = Coverage(())
    assert coverage.passes and coverage.blocking == () and coverage.warnings == ()
    assert coverage.blocking == () and coverage.warnings == ()


def test_a_company_covers_its_people_through_an_accepted_corporate_agreement() -> None:
    from datetime import UTC, datetime

    from bot.core.coverage import Allowlist, Verdict, evaluate
    from bot.core.identity import Contributor, Identity
    from bot.core.model import Agreement, AgreementVersion, CoAuthorPolicy, Role, SignatureFact

    individual = Agreement("individual", "ICLA", (AgreementVersion("individual", "1.0", "a"),))
    corporate = Agreement("corporate", "CCLA", (AgreementVersion("corporate", "1.0", "b"),))
    dev = Contributor(
        Identity.of_email("dev@example.com"),
        frozenset({Role.AUTHOR}),
        ("abc",),
        ("dev@example.com",),
    )
    when = datetime(2024, 1, 1, tzinfo=UTC)
    company = SignatureFact(0, "corporate", "1.0", when, corporate=True, company="Example Corp")
    facts = {dev.key: [company]}
    covered = evaluate(
        [dev],
        facts,
        agreement=individual,
        allowlist=Allowlist(),
        co_authors=CoAuthorPolicy.REQUIRE,
        corporate=[corporate],
    )
    assert covered.results[0].verdict is Verdict.SIGNED and covered.results[0].signature == company
    not_accepted = evaluate(
        [dev], facts, agreement=individual, allowlist=Allowlist(), co_authors=CoAuthorPolicy.REQUIRE
    )
    assert not_accepted.results[0].verdict is Verdict.UNLINKED
    own = SignatureFact(7, "individual", "1.0", when)
    both = evaluate(
        [dev],
        {dev.key: [company, own]},
        agreement=individual,
        allowlist=Allowlist(),
        co_authors=CoAuthorPolicy.REQUIRE,
        corporate=[corporate],
    )
    assert both.results[0].signature == own  # an individual signature is preferred


def test_with_employee_confirmation_a_domain_alone_covers_nobody() -> None:
    from datetime import UTC, datetime

    from bot.core.coverage import Allowlist, EmployeeCoverage, Verdict, evaluate
    from bot.core.identity import Contributor, Identity
    from bot.core.model import Agreement, AgreementVersion, CoAuthorPolicy, Role, SignatureFact

    individual = Agreement("individual", "ICLA", (AgreementVersion("individual", "1.0", "a"),))
    corporate = Agreement("corporate", "CCLA", (AgreementVersion("corporate", "1.0", "b"),))
    dev = Contributor(
        Identity.of_email("dev@example.com"),
        frozenset({Role.AUTHOR}),
        ("abc",),
        ("dev@example.com",),
    )
    when = datetime(2024, 1, 1, tzinfo=UTC)
    by_domain = SignatureFact(0, "corporate", "1.0", when, corporate=True, by_domain=True)
    enabled = SignatureFact(0, "corporate", "1.0", when, corporate=True)

    def verdict(facts: list[SignatureFact], mode: EmployeeCoverage) -> Verdict:
        coverage = evaluate(
            [dev],
            {dev.key: facts},
            agreement=individual,
            allowlist=Allowlist(),
            co_authors=CoAuthorPolicy.REQUIRE,
            corporate=[corporate],
            employees=mode,
        )
        return coverage.results[0].verdict

    assert verdict([by_domain], EmployeeCoverage.DOMAIN) is Verdict.SIGNED
    assert verdict([by_domain], EmployeeCoverage.CONFIRM) is Verdict.UNLINKED
    assert verdict([by_domain, enabled], EmployeeCoverage.CONFIRM) is Verdict.SIGNED
