from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.coverage import Allowlist, ContributorResult, Coverage, Verdict, evaluate
from bot.core.decision import Problem, Report
from bot.core.identity import Contributor, Identity, contributors
from bot.core.messages import (
    MARKER,
    MAX_STATUS_DESCRIPTION,
    TEMPLATE_KEYS,
    Links,
    TemplateError,
    Templates,
    co_author_name,
    company_name,
    display_name,
    emails_settings_url,
    load_templates,
    permission_names,
    render_check_failed,
    render_comment,
    render_merge_group,
    render_missing_permission,
    render_no_cla,
    render_report,
    render_status,
)
from bot.core.model import (
    Account,
    Agreement,
    AgreementVersion,
    CoAuthorPolicy,
    Commit,
    GitPerson,
    Platform,
    Role,
)
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.platforms.registry import FACTS as FORGES
from bot.platforms.registry import forge

GH = GITHUB
GE = GITEE
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "comments"
SHIPPED = {path.stem: path.read_text(encoding="utf-8") for path in TEMPLATE_DIR.glob("*.md")}
TEMPLATES = load_templates(SHIPPED)
LINKS = Links(
    sign_url="https://cla.example/sign/github/o/r/5",
    web_url="https://github.com/",
    me_url="https://cla.example/me",
)
AUTHOR = frozenset({Role.AUTHOR})
SHA = "abc1234" + "f" * 33


def acct(
    login: str, account_id: str = "1", *, bot: bool = False, roles: frozenset[Role] = AUTHOR
) -> Contributor:
    identity = Identity(platform=GH, account_id=account_id, login=login)
    return Contributor(identity, roles, (SHA,), (f"{login}@mail.org",), bot)


def mail(email: str, *shas: str, roles: frozenset[Role] = AUTHOR) -> Contributor:
    return Contributor(Identity.of_email(email), roles, shas or (SHA,), (email,), False)


def result(
    contributor: Contributor, verdict: Verdict, *, blocking: bool | None = None
) -> ContributorResult:
    if blocking is None:
        blocking = verdict not in (Verdict.SIGNED, Verdict.ALLOWLISTED)
    return ContributorResult(contributor, verdict, None, blocking)


def comment(
    coverage: Coverage,
    *,
    platform: Platform = GH,
    templates: Templates = TEMPLATES,
    links: Links = LINKS,
) -> str:
    return render_comment(
        coverage,
        templates=templates,
        forge=forge(platform).facts,
        links=links,
        agreement_title="Example Individual CLA",
    )


def test_shipped_templates_are_exactly_the_needed_keys() -> None:
    from bot.core.replies import REPLY_KEYS

    assert set(SHIPPED) == set(TEMPLATE_KEYS) | set(REPLY_KEYS)


def test_blocked_comment_names_everyone_by_group() -> None:
    coverage = Coverage(
        (
            result(acct("signed-one", "1"), Verdict.SIGNED),
            result(acct("octo", "2"), Verdict.UNSIGNED),
            result(acct("old-signer", "3"), Verdict.RESIGN),
            result(mail("john.doe@example.com", SHA, "1234567890"), Verdict.UNLINKED),
            result(acct("private", "4"), Verdict.RESTRICTED),
            result(acct("some-app[bot]", "5", bot=True), Verdict.UNSIGNED),
            result(
                acct("helper", "6", roles=frozenset({Role.CO_AUTHOR})),
                Verdict.UNSIGNED,
                blocking=False,
            ),
        )
    )
    body = comment(coverage)
    assert body.startswith(MARKER + "\n")
    sections = re.split(r"\n\n(?=\*\*)", body)

    def section_with(text: str) -> str:
        (found,) = [s for s in sections if text in s]
        return found

    assert "@signed-one" not in body
    assert LINKS.sign_url in section_with("Please sign the CLA")
    assert "@octo" in body and "@old-signer" in body
    assert "@old-signer" not in section_with("Please sign the CLA")
    assert "new version" in body and "@old-signer" in body
    assert "`jo***@example.com`: `abc1234`, `1234567`" in body
    assert SHA not in body
    assert "https://github.com/settings/emails" in body
    assert 'git commit --amend --author="Name <email-of-your-account>"' in body
    assert "git push --force-with-lease" in body
    assert "@private" in body and LINKS.me_url in body
    assert "@some-app[bot]" in section_with("allowlist")
    assert "@some-app[bot]" not in section_with("Please sign the CLA")
    assert "@helper" in section_with("co-authors")
    assert "All contributors are covered" not in body
    assert "$" not in body


def test_gitee_links_and_names() -> None:
    body = comment(
        Coverage((result(mail("x.y@example.cn"), Verdict.UNLINKED),)),
        platform=GE,
        links=Links(LINKS.sign_url, "https://gitee.com", LINKS.me_url),
    )
    assert "https://gitee.com/profile/emails" in body
    assert "Gitee account" in body
    assert "GitHub" not in body


def test_covered_comment() -> None:
    body = comment(Coverage((result(acct("octo"), Verdict.SIGNED),)))
    assert body.startswith(MARKER)
    assert "All contributors are covered by the Example Individual CLA" in body
    assert "Please sign" not in body and "@octo" not in body


def test_covered_comment_still_notes_warned_co_authors() -> None:
    coverage = Coverage(
        (
            result(acct("octo"), Verdict.SIGNED),
            result(
                mail("ann@x.org", roles=frozenset({Role.CO_AUTHOR})),
                Verdict.UNLINKED,
                blocking=False,
            ),
        )
    )
    body = comment(coverage)
    assert "All contributors are covered" in body
    assert "`an***@x.org`" in body
    assert "without failing the check" in body


def test_many_commits_are_cut() -> None:
    shas = tuple(f"{i:07d}" + "0" * 33 for i in range(13))
    body = comment(Coverage((result(mail("ann@x.org", *shas), Verdict.UNLINKED),)))
    assert "`0000009`" in body and "`0000010`" not in body
    assert "… (+3)" in body


@pytest.mark.parametrize(
    ("contributor", "expected"),
    [
        (acct("octo"), "@octo"),
        (acct("renovate[bot]"), "@renovate[bot]"),
        (acct("evil](http://x)", "9"), "`github:9`"),
        (acct("", "9"), "`github:9`"),
        (acct("a" * 101, "9"), "`github:9`"),  # not a login any forge gives out
        (mail("John.Doe@Example.com"), "`jo***@example.com`"),
        (mail("not an email"), "`***`"),
    ],
)
def test_display_name(contributor: Contributor, expected: str) -> None:
    assert display_name(contributor) == expected


@pytest.mark.parametrize(
    ("platform", "base", "expected"),
    [
        (GH, "https://github.com", "https://github.com/settings/emails"),
        (GH, "https://ghe.example/", "https://ghe.example/settings/emails"),
        (GE, "https://gitee.com", "https://gitee.com/profile/emails"),
    ],
)
def test_emails_settings_url(platform: Platform, base: str, expected: str) -> None:
    assert emails_settings_url(forge(platform).facts, base) == expected


@pytest.mark.parametrize(
    ("blocking", "expected"),
    [
        (0, "All contributors are covered by the CLA"),
        (1, "1 contributor must sign the CLA"),
        (2, "2 contributors must sign the CLA"),
        (250, "250 contributors must sign the CLA"),
    ],
)
def test_status(blocking: int, expected: str) -> None:
    coverage = Coverage(
        (
            result(acct("ok", "0"), Verdict.SIGNED),
            *(result(acct(f"u{i}", str(i + 1)), Verdict.UNSIGNED) for i in range(blocking)),
        )
    )
    assert render_status(coverage, templates=TEMPLATES) == expected


def test_status_is_cut_to_140_characters() -> None:
    long = load_templates({**SHIPPED, "status_blocked_other": "$count " + "word " * 60})
    coverage = Coverage(tuple(result(acct(f"u{i}", str(i)), Verdict.UNSIGNED) for i in range(2)))
    description = render_status(coverage, templates=long)
    assert len(description) == MAX_STATUS_DESCRIPTION
    assert description.startswith("2 word") and description.endswith("…")
    assert "\n" not in description


def test_render_report() -> None:
    coverage = Coverage((result(acct("octo"), Verdict.UNSIGNED),))
    report = render_report(
        coverage, templates=TEMPLATES, forge=forge(GH).facts, links=LINKS, agreement_title="CLA"
    )
    body = comment(coverage).replace("Example Individual CLA", "CLA")
    assert report == Report(
        "1 contributor must sign the CLA",
        body,
        # the check run's summary: the same text, without the comment's marker
        body.removeprefix("<!-- cla-bot -->\n"),
    )
    assert "<!-- cla-bot -->" not in report.summary and "- @octo" in report.summary
    problem = render_report(
        Problem.NO_AGREEMENT,
        templates=TEMPLATES,
        forge=forge(GH).facts,
        links=LINKS,
        agreement_title="CLA",
    )
    assert problem == Report("No CLA is configured for this repository", "")
    for skipped in (Problem.PR_CLOSED, Problem.STALE_HEAD):
        assert (
            render_report(
                skipped,
                templates=TEMPLATES,
                forge=forge(GH).facts,
                links=LINKS,
                agreement_title="CLA",
            )
            is None
        )


def test_other_language_texts() -> None:
    chinese = {
        **SHIPPED,
        "section_sign": "请签署 CLA：$sign_url\n\n$people",
        "status_blocked_one": "$count 位贡献者需要签署 CLA",
    }
    templates = load_templates(chinese)
    coverage = Coverage((result(acct("octo"), Verdict.UNSIGNED),))
    assert "请签署 CLA：https://cla.example/sign/github/o/r/5\n\n- @octo" in comment(
        coverage, templates=templates
    )
    assert render_status(coverage, templates=templates) == "1 位贡献者需要签署 CLA"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"section_sign": None}, "missing templates: section_sign"),
        ({"section_sign": "$people $sign_url $email"}, "section_sign: unknown placeholders email"),
        ({"section_sign": "$people"}, "section_sign: missing placeholders sign_url"),
        ({"section_unlinked": "$commits"}, "section_unlinked: missing placeholders emails_url"),
        ({"status_covered": "costs $ 5"}, "status_covered: malformed placeholder"),
        ({"status_blocked_other": "many must sign"}, "missing placeholders count"),
    ],
)
def test_load_templates_rejects(change: dict[str, str | None], message: str) -> None:
    texts = {k: v for k, v in {**SHIPPED, **change}.items() if v is not None}
    with pytest.raises(TemplateError, match=message):
        load_templates(texts)


def test_load_templates_ignores_extra_keys_and_accepts_escaped_dollars() -> None:
    templates = load_templates({**SHIPPED, "README": "$whatever", "status_covered": "$$0 due"})
    assert "README" not in templates.texts
    assert render_status(Coverage(()), templates=templates) == "$0 due"


def test_missing_values_raise() -> None:
    with pytest.raises(KeyError):
        TEMPLATES.render("section_sign", people="- @octo")


def test_names_from_commits_never_reach_the_comment() -> None:
    commits = [
        Commit(
            "a" * 40,
            GitPerson("Jane Secretname", "jane@corp.example"),
            GitPerson("Jane Secretname", "jane@corp.example"),
            "Fix\n\nCo-authored-by: Rolf Hiddenname <rolf@corp.example>",
        ),
        Commit(
            "b" * 40,
            GitPerson("Otto Private", "otto@x.org"),
            GitPerson("Otto Private", "otto@x.org"),
            "Other",
            author_account=Account(GH, "3", "otto"),
        ),
    ]
    found = contributors(
        commits,
        platform=GH,
        forges=FORGES,
        co_authors=CoAuthorPolicy.WARN,
        check_committers=True,
    )
    agreement = Agreement("icla", "CLA", (AgreementVersion("icla", "1", "0" * 64),))
    coverage = evaluate(
        found, {}, agreement=agreement, allowlist=Allowlist(), co_authors=CoAuthorPolicy.WARN
    )
    body = comment(coverage)
    for secret in (
        "Jane",
        "Secretname",
        "Otto Private",
        "jane@corp.example",
        "rolf@corp.example",
        "otto@x.org",
    ):
        assert secret not in body
    assert "@otto" in body and "`ja***@corp.example`" in body
    # A co-author linked to no account is named as the trailer (in the PR already) names them.
    assert "- Rolf Hiddenname (`ro***@corp.example`)" in body and "@Rolf" not in body


KAT = Account(GH, "77", "katherine")


def coauthored_commit(trailer: str, *linked: tuple[str, Account]) -> Commit:
    return Commit(
        SHA,
        GitPerson("Alan", "alan@example.com"),
        GitPerson("Alan", "alan@example.com"),
        f"Compute\n\nCo-authored-by: {trailer}",
        author_account=Account(GH, "5", "alan"),
        co_author_accounts=linked,
    )


def coauthor_comment(commit: Commit) -> str:
    found = contributors(
        [commit],
        platform=GH,
        forges=FORGES,
        co_authors=CoAuthorPolicy.REQUIRE,
        check_committers=False,
    )
    agreement = Agreement("icla", "CLA", (AgreementVersion("icla", "1", "0" * 64),))
    coverage = evaluate(
        found, {}, agreement=agreement, allowlist=Allowlist(), co_authors=CoAuthorPolicy.REQUIRE
    )
    return comment(coverage)


def test_a_linked_co_author_is_asked_to_sign_as_a_co_author() -> None:
    body = coauthor_comment(
        coauthored_commit("Katherine Johnson <kat@example.com>", ("kat@example.com", KAT))
    )
    sections = re.split(r"\n\n(?=\*\*)", body)
    (co_authors,) = [s for s in sections if "Co-authors who must sign" in s]
    assert "- @katherine" in co_authors and LINKS.sign_url in co_authors
    (authors,) = [s for s in sections if "Please sign the CLA" in s]
    assert "@alan" in authors and "@katherine" not in authors
    assert "not attached to any account" not in body and "--author" not in body
    assert "Katherine" not in body.replace("@katherine", "")


def test_an_unlinked_co_author_is_named_by_the_trailer_with_the_fix_that_fits() -> None:
    body = coauthor_comment(coauthored_commit("Katherine Johnson <kat@example.com>"))
    sections = re.split(r"\n\n(?=\*\*)", body)
    (co_authors,) = [s for s in sections if "Co-authors whose email" in s]
    assert "- Katherine Johnson (`ka***@example.com`): `abc1234`" in co_authors
    assert "https://github.com/settings/emails" in co_authors
    assert "git commit --amend`" in co_authors and "--author" not in body
    assert "kat@example.com" not in body
    assert not [s for s in sections if "could not be linked" in s]  # not an author's problem


@pytest.mark.parametrize(
    ("trailer", "expected"),
    [
        ("@mallory **bold** <m@x.org>", "mallory bold (`m***@x.org`)"),
        ("[click](https://evil.example) <m@x.org>", "clickhttpsevil.example (`m***@x.org`)"),
        ("<m@x.org>", "`m***@x.org`"),
        ("张伟 <zhang@x.org>", "张伟 (`zh***@x.org`)"),
        ("O'Brien-Smith Jr. <obs@x.org>", "O'Brien-Smith Jr. (`ob***@x.org`)"),
    ],
)
def test_co_author_names_are_plain_text(trailer: str, expected: str) -> None:
    (found,) = [
        c
        for c in contributors(
            [coauthored_commit(trailer)],
            platform=GH,
            forges=FORGES,
            co_authors=CoAuthorPolicy.REQUIRE,
            check_committers=False,
        )
        if c.roles == frozenset({Role.CO_AUTHOR})
    ]
    assert co_author_name(found) == expected


def test_missing_permission_report() -> None:
    report = render_missing_permission(templates=TEMPLATES, permissions=(("contents", "read"),))
    assert report.description == (
        "The CLA check needs the App permission Contents: read: an owner must accept it"
    )
    assert len(report.description) <= MAX_STATUS_DESCRIPTION
    assert report.body.startswith(MARKER + "\n")
    assert "**Contents: read**" in report.body and "/cla check" in report.body
    assert permission_names((("pull_requests", "write"), ("checks", "read"))) == (
        "Pull requests: write and Checks: read"
    )
    assert permission_names(()) == "a permission it lacks"


@given(
    st.lists(
        st.tuples(
            st.emails(),
            st.sampled_from([Verdict.UNLINKED, Verdict.RESIGN, Verdict.RESTRICTED, Verdict.SIGNED]),
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_render_never_contains_a_full_email(people: list[tuple[str, Verdict]], warn: bool) -> None:
    results = tuple(
        result(
            mail(email, roles=frozenset({Role.CO_AUTHOR}) if warn else AUTHOR),
            verdict,
            blocking=False if warn else None,
        )
        for email, verdict in people
    )
    coverage = Coverage(results)
    body = comment(coverage).lower()
    description = render_status(coverage, templates=TEMPLATES).lower()
    for email, _ in people:
        local, _, domain = email.lower().rpartition("@")
        if not set(local) - {"*"}:
            continue  # a local part of stars is what any masked email shows
        for text in (body, description):
            assert f"{local}@{domain}" not in text


def test_the_comment_names_the_company_only() -> None:
    from datetime import UTC, datetime

    from bot.core.coverage import ContributorResult, Coverage, Verdict
    from bot.core.identity import Contributor, Identity
    from bot.core.model import Role, SignatureFact

    dev = Contributor(
        Identity.of_email("dev@example.com"),
        frozenset({Role.AUTHOR}),
        ("abc1234",),
        ("dev@example.com",),
    )
    fact = SignatureFact(
        0,
        "corporate",
        "1.0",
        datetime(2024, 1, 1, tzinfo=UTC),
        corporate=True,
        company="Example <b>Corp</b> @team",
    )
    body = comment(Coverage((ContributorResult(dev, Verdict.SIGNED, fact, False),)))
    assert "Example bCorpb team" in body and "<b>" not in body and "@team" not in body
    assert "dev@example.com" not in body and "de***@example.com" in body


def unsigned(
    people: int, verdict: Verdict = Verdict.UNSIGNED, first: int = 0
) -> list[ContributorResult]:
    return [result(acct(f"u{i}", str(i)), verdict) for i in range(first, first + people)]


MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")


@pytest.mark.parametrize(
    ("email", "platform", "named", "absent"),
    [
        ("1+torvalds@users.noreply.github.com", GH, "`github:1`", "torvalds"),
        ("583231+victim@users.noreply.github.com", GH, "`github:583231`", "victim"),
        ("88+feng@user.noreply.gitee.com", GE, "`gitee:88`", "feng"),
    ],
)
@pytest.mark.parametrize("role", ["author", "co-author"])
def test_an_unconfirmed_noreply_identity_is_named_without_a_mention(
    email: str, platform: Platform, named: str, absent: str, role: str
) -> None:
    if role == "author":
        commits = [Commit("a" * 40, GitPerson("X", email), GitPerson("X", email), "Change")]
    else:
        me = GitPerson("Me", "me@x.org")
        message = f"Change\n\nCo-authored-by: X <{email}>"
        commits = [Commit("a" * 40, me, me, message, author_account=Account(platform, "5", "me"))]
    found = contributors(
        commits,
        platform=platform,
        forges=FORGES,
        co_authors=CoAuthorPolicy.REQUIRE,
        check_committers=False,
    )
    agreement = Agreement("icla", "CLA", (AgreementVersion("icla", "1", "0" * 64),))
    coverage = evaluate(
        found, {}, agreement=agreement, allowlist=Allowlist(), co_authors=CoAuthorPolicy.REQUIRE
    )
    body = comment(coverage, platform=platform)
    assert named in body
    assert absent not in body
    assert MENTION.findall(body) == (["@m"] if role == "co-author" else [])


@pytest.mark.parametrize(
    ("blocked", "mentioned", "more"),
    [
        (1, 1, None),
        (50, 50, None),
        (51, 50, "and 1 more"),
        (200, 50, "and 150 more"),
    ],
)
def test_at_most_50_people_are_mentioned(blocked: int, mentioned: int, more: str | None) -> None:
    body = comment(Coverage(tuple(unsigned(blocked))))
    assert len(MENTION.findall(body)) == mentioned
    assert [f"@u{i}" for i in range(mentioned)] == re.findall(r"@u\d+", body)
    lines = re.findall(r"^- and \d+ more$", body, flags=re.MULTILINE)
    assert lines == ([f"- {more}"] if more else [])


def test_the_limit_is_shared_by_every_section_in_order() -> None:
    results = [
        *unsigned(30),
        *unsigned(15, Verdict.RESIGN, first=30),
        *[result(mail(f"person{i}@x.org"), Verdict.UNLINKED) for i in range(10)],
        *unsigned(3, Verdict.RESTRICTED, first=45),
    ]
    body = comment(Coverage(tuple(results)))
    assert len(re.findall(r"@u\d+", body)) == 45
    assert len(re.findall(r"^- `pe\*\*\*@x\.org`: `abc1234`$", body, flags=re.MULTILINE)) == 5
    assert re.findall(r"^- and \d+ more$", body, flags=re.MULTILINE) == [
        "- and 5 more",
        "- and 3 more",
    ]
    assert "@u45" not in body and "**Restricted records.**" in body


def test_the_count_comes_from_the_templates() -> None:
    templates = load_templates({**SHIPPED, "people_more": "还有 $count 人"})
    body = comment(Coverage(tuple(unsigned(52))), templates=templates)
    assert body.count("\n- 还有 2 人") == 1
    with pytest.raises(TemplateError, match="people_more: missing placeholders count"):
        load_templates({**SHIPPED, "people_more": "and more"})


# --- AI agents -------------------------------------------------------------------------------

COPILOT_SHA = "c0ffee1" + "0" * 33
COPILOT_AGENT = acct("Copilot", "198982749", bot=True)
REQUESTER = acct("mona", "5", roles=frozenset({Role.CO_AUTHOR}))


def agent(
    contributor: Contributor, verdict: Verdict, name: str, *, blocking: bool = False
) -> ContributorResult:
    return ContributorResult(contributor, verdict, None, blocking, name)


def sections_of(body: str) -> list[str]:
    return re.split(r"\n\n(?=\*\*)", body)


def test_the_comment_says_which_agents_were_ignored_and_never_mentions_one() -> None:
    coverage = Coverage(
        (
            agent(COPILOT_AGENT, Verdict.ALLOWLISTED, "GitHub Copilot coding agent"),
            result(REQUESTER, Verdict.SIGNED),
        )
    )
    body = comment(coverage)
    assert "All contributors are covered" in body
    (note,) = [s for s in sections_of(body) if "AI agents need no signature" in s]
    assert "the person who asked an agent for its work must be covered" in note
    assert "co-author GitHub adds to each of its commits" in note
    assert "- GitHub Copilot coding agent: `abc1234`" in note
    assert "@Copilot" not in body and "@mona" not in body


def test_the_person_who_asked_is_asked_to_sign_beside_the_note() -> None:
    coverage = Coverage(
        (
            agent(COPILOT_AGENT, Verdict.ALLOWLISTED, "GitHub Copilot coding agent"),
            result(REQUESTER, Verdict.UNSIGNED),
        )
    )
    body = comment(coverage)
    sections = sections_of(body)
    (sign,) = [s for s in sections if "Co-authors who must sign the CLA too" in s]
    assert "@mona" in sign and "Copilot" not in sign
    assert any("AI agents need no signature" in s for s in sections)
    assert "Anyone can re-run it with a comment `/cla check` (or `recheck`)." in body
    assert "@Copilot" not in body


def test_agents_the_policy_lists_are_not_called_co_authors() -> None:
    claude = mail("noreply@anthropic.com", roles=frozenset({Role.CO_AUTHOR}))
    coverage = Coverage(
        (
            result(acct("octo"), Verdict.SIGNED),
            agent(claude, Verdict.UNLINKED, "Claude"),
            result(
                mail("ann@x.org", roles=frozenset({Role.CO_AUTHOR})),
                Verdict.UNLINKED,
                blocking=False,
            ),
        )
    )
    body = comment(coverage)
    sections = sections_of(body)
    (listed_agents,) = [s for s in sections if "these AI agents are not covered" in s]
    assert "- Claude: `abc1234`" in listed_agents
    (co_authors,) = [s for s in sections if s.startswith("**Note:** these co-authors")]
    assert "`an***@x.org`" in co_authors and "Claude" not in co_authors and "no***" not in body


def test_agents_the_policy_requires_get_their_own_section() -> None:
    claude_linked = Contributor(
        Identity(platform=GH, account_id="77", login="stranger"),
        frozenset({Role.AUTHOR}),
        ("1234567" + "0" * 33,),
        ("claude-code@anthropic.com",),
    )
    claude_trailer = mail("noreply@anthropic.com", roles=frozenset({Role.CO_AUTHOR}))
    coverage = Coverage(
        (
            agent(COPILOT_AGENT, Verdict.UNSIGNED, "GitHub Copilot coding agent", blocking=True),
            agent(claude_linked, Verdict.UNSIGNED, "Claude", blocking=True),
            agent(claude_trailer, Verdict.UNLINKED, "Claude", blocking=True),
        )
    )
    body = comment(coverage)
    (section,) = sections_of(body)[1:2]
    assert section.startswith("**AI agents.**")
    assert "an AI agent cannot sign it" in section and "allowlist" in section
    # one line per agent, with every commit it took part in
    assert "- GitHub Copilot coding agent: `abc1234`" in section
    assert "- Claude: `1234567`, `abc1234`" in section
    assert "Please sign" not in body and "could not be linked" not in body
    assert "Bots that are not on the allowlist" not in body
    assert "@stranger" not in body and "@Copilot" not in body


def test_render_merge_group() -> None:
    assert render_merge_group(templates=TEMPLATES, number=5, covered=True) == Report(
        "#5: every contributor is covered by the CLA"
    )
    assert render_merge_group(templates=TEMPLATES, number=5, covered=False) == Report(
        "#5: the CLA is not signed by everyone"
    )
    assert render_merge_group(templates=TEMPLATES, number=None, covered=False) == Report(
        "This merge queue entry could not be matched to a pull request"
    )


def test_an_unlinked_email_is_offered_a_proof_by_code_only_where_mail_is_sent() -> None:
    unlinked = Coverage((result(mail("jo@work.example"), Verdict.UNLINKED),))
    prove = "https://cla.example/me#emails-title"
    offered = comment(unlinked, links=Links(LINKS.sign_url, LINKS.web_url, LINKS.me_url, prove))
    assert f"Sign in at {prove} and type the email: the bot sends a code to it" in offered
    assert offered.index("could not be linked") < offered.index(prove)
    assert "$" not in offered
    assert prove not in comment(unlinked)  # no mail configured: no such path
    signed_only = Coverage((result(acct("octo"), Verdict.UNSIGNED),))
    links = Links(LINKS.sign_url, LINKS.web_url, LINKS.me_url, prove)
    assert prove not in comment(signed_only, links=links)  # nobody has an email to prove


# --- languages -------------------------------------------------------------------------------

SHIPPED_ZH = {
    f"zh/{path.stem}": path.read_text(encoding="utf-8")
    for path in (TEMPLATE_DIR / "zh").glob("*.md")
}
BOTH = load_templates({**SHIPPED, **SHIPPED_ZH})
OCTO_UNSIGNED = Coverage((result(acct("octo"), Verdict.UNSIGNED),))
SIGN = "https://cla.example/sign/github/o/r/5"
EN_BLOCKED = f"""### CLA check: action needed

Thank you for your pull request. Before it can be merged, everyone who contributed to it must be \
covered by the Example Individual CLA.

**Please sign the CLA** at {SIGN} (sign in with the account named here):

- @octo

This check runs again by itself after each signature and each push. Anyone can re-run it with a \
comment `/cla check` (or `recheck`)."""
ZH_BLOCKED = f"""### CLA 检查：需要处理

感谢您提交的 Pull Request。合入之前，所有参与贡献的人都须受 Example Individual CLA 覆盖。

**请签署 CLA**，签署地址：{SIGN}（请使用此处列出的账号登录）：

- @octo

每次签署和每次推送之后，本检查都会自动重新运行。任何人都可以评论 `/cla check`（或 `recheck`）重新运行检查。"""
EN_COVERED = """### CLA check: passed

All contributors are covered by the Example Individual CLA. Thank you!"""
ZH_COVERED = """### CLA 检查：通过

所有贡献者均已受 Example Individual CLA 覆盖。感谢您的贡献！"""
EN_CHECK_FAILED = """### CLA check: could not run

The CLA check of this pull request could not run: the bot gave up after repeated errors, and its \
operators can see why in its job list. Until it runs, nothing is known about who is covered.

Anyone can run it again with a comment `/cla check` (or `recheck`)."""
ZH_CHECK_FAILED = """### CLA 检查：未能运行

本 Pull Request 的 CLA 检查未能运行：机器人多次出错后已放弃，运维人员可在其任务列表中查看原因。\
在检查运行之前，无法得知哪些贡献者已受覆盖。

任何人都可以评论 `/cla check`（或 `recheck`）重新运行检查。"""
CONSOLE = "https://cla.example/console"
EN_NO_CLA = f"""### CLA check: no agreement configured

This repository is not linked to any community of this CLA bot, so there is no agreement to check \
this pull request against, and nobody is asked to sign.

A maintainer of the repository or its organisation links it to a community in the \
[maintainers' console]({CONSOLE}); the check then runs again by itself. Until then, comment \
`/cla check` to run it again."""
ZH_NO_CLA = f"""### CLA 检查：未配置协议

本仓库尚未关联到此 CLA 机器人的任何社区，因此没有可用于检查本 Pull Request 的协议，也不会要求任何人签署。

仓库或其所属组织的维护者可在[维护者控制台]({CONSOLE})中将其关联到某个社区，之后检查会自动重新运行。\
在此之前，可评论 `/cla check` 重新运行检查。"""


def in_languages(*parts: str) -> str:
    return MARKER + "\n" + "\n\n---\n\n".join(parts) + "\n"


def comment_in(coverage: Coverage, languages: tuple[str, ...]) -> str:
    return render_comment(
        coverage,
        templates=BOTH,
        forge=forge(GH).facts,
        links=LINKS,
        agreement_title="Example Individual CLA",
        languages=languages,
    )


def test_every_key_has_both_languages_in_the_shipped_templates() -> None:
    from bot.core.replies import REPLY_KEYS

    assert {name.removeprefix("zh/") for name in SHIPPED_ZH} == set(SHIPPED)
    assert set(SHIPPED) == set(TEMPLATE_KEYS) | set(REPLY_KEYS)
    assert BOTH.languages == ("en", "zh")


def test_the_chinese_texts_keep_placeholders_commands_and_structure() -> None:
    """Same placeholders, the same commands and code in backticks, the same lines (headings,
    lists, blank lines) as the English text of each key."""
    for key, english in SHIPPED.items():
        chinese = SHIPPED_ZH[f"zh/{key}"]
        assert set(string.Template(chinese).get_identifiers()) == set(
            string.Template(english).get_identifiers()
        ), key
        assert sorted(re.findall(r"`[^`]+`", chinese)) == sorted(re.findall(r"`[^`]+`", english)), (
            key
        )
        shape = [
            (line[:2] if line[:2] in ("##", "- ") else bool(line)) for line in english.split("\n")
        ]
        assert shape == [
            (line[:2] if line[:2] in ("##", "- ") else bool(line)) for line in chinese.split("\n")
        ], key


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (("en",), in_languages(EN_BLOCKED)),
        (("zh",), in_languages(ZH_BLOCKED)),
        (("zh", "en"), in_languages(ZH_BLOCKED, EN_BLOCKED)),
        (("en", "zh"), in_languages(EN_BLOCKED, ZH_BLOCKED)),
    ],
)
def test_the_blocked_comment_in_one_or_two_languages(
    languages: tuple[str, ...], expected: str
) -> None:
    assert comment_in(OCTO_UNSIGNED, languages) == expected
    assert comment_in(OCTO_UNSIGNED, languages).count(MARKER) == 1


def test_english_by_default_is_the_same_comment_as_before() -> None:
    assert comment(OCTO_UNSIGNED) == in_languages(EN_BLOCKED)
    assert comment_in(OCTO_UNSIGNED, ("en",)) == comment(OCTO_UNSIGNED, templates=BOTH)


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (("zh",), in_languages(ZH_COVERED)),
        (("zh", "en"), in_languages(ZH_COVERED, EN_COVERED)),
        (("en", "zh"), in_languages(EN_COVERED, ZH_COVERED)),
    ],
)
def test_the_covered_comment_in_one_or_two_languages(
    languages: tuple[str, ...], expected: str
) -> None:
    assert comment_in(Coverage((result(acct("octo"), Verdict.SIGNED),)), languages) == expected


@pytest.mark.parametrize(
    ("languages", "expected", "description"),
    [
        (("zh",), in_languages(ZH_CHECK_FAILED), "CLA 检查未能运行；评论 /cla check 重试"),
        (
            ("zh", "en"),
            in_languages(ZH_CHECK_FAILED, EN_CHECK_FAILED),
            "CLA 检查未能运行；评论 /cla check 重试",
        ),
        (
            ("en", "zh"),
            in_languages(EN_CHECK_FAILED, ZH_CHECK_FAILED),
            "The CLA check could not run; comment /cla check to retry",
        ),
    ],
)
def test_the_check_failed_report_in_one_or_two_languages(
    languages: tuple[str, ...], expected: str, description: str
) -> None:
    report = render_check_failed(templates=BOTH, languages=languages)
    assert report == Report(description, expected, expected.removeprefix(MARKER + "\n"))


@pytest.mark.parametrize(
    ("languages", "expected", "description"),
    [
        (("zh",), in_languages(ZH_NO_CLA), "本仓库未配置 CLA"),
        (("zh", "en"), in_languages(ZH_NO_CLA, EN_NO_CLA), "本仓库未配置 CLA"),
        (
            ("en", "zh"),
            in_languages(EN_NO_CLA, ZH_NO_CLA),
            "No CLA is configured for this repository",
        ),
    ],
)
def test_the_no_cla_report_in_one_or_two_languages(
    languages: tuple[str, ...], expected: str, description: str
) -> None:
    report = render_no_cla(templates=BOTH, console_url=CONSOLE, languages=languages)
    assert report == Report(description, expected, expected.removeprefix(MARKER + "\n"))


def test_the_status_is_the_first_languages_and_the_summary_follows_the_body() -> None:
    report = render_report(
        OCTO_UNSIGNED,
        templates=BOTH,
        forge=forge(GH).facts,
        links=LINKS,
        agreement_title="Example Individual CLA",
        languages=("zh", "en"),
    )
    assert report == Report(
        "1 位贡献者需要签署 CLA",
        in_languages(ZH_BLOCKED, EN_BLOCKED),
        ZH_BLOCKED + "\n\n---\n\n" + EN_BLOCKED + "\n",
    )
    two = Coverage(tuple(unsigned(2)))
    assert render_status(two, templates=BOTH, languages=("en", "zh")) == (
        "2 contributors must sign the CLA"
    )
    assert render_status(two, templates=BOTH, languages=("zh", "en")) == "2 位贡献者需要签署 CLA"
    assert render_status(Coverage(()), templates=BOTH, languages=("zh",)) == (
        "所有贡献者均已受 CLA 覆盖"
    )
    problem = render_report(
        Problem.NO_AGREEMENT,
        templates=BOTH,
        forge=forge(GH).facts,
        links=LINKS,
        agreement_title="CLA",
        languages=("zh", "en"),
    )
    assert problem == Report("本仓库未配置 CLA", "")
    assert render_merge_group(templates=BOTH, number=5, covered=False, languages=("zh", "en")) == (
        Report("#5：尚有人未签署 CLA")
    )


def test_each_language_names_the_same_people_and_the_cap_counts_people_once() -> None:
    body = comment_in(Coverage(tuple(unsigned(60))), ("zh", "en"))
    chinese, english = body.removeprefix(MARKER + "\n").split("\n\n---\n\n")
    shown = [f"@u{i}" for i in range(50)]
    assert re.findall(r"@u\d+", chinese) == shown == re.findall(r"@u\d+", english)
    assert re.findall(r"^- 以及另外 \d+ 人$", chinese, flags=re.MULTILINE) == ["- 以及另外 10 人"]
    assert re.findall(r"^- and \d+ more$", english, flags=re.MULTILINE) == ["- and 10 more"]
    assert SIGN in chinese and SIGN in english


def test_masked_emails_commits_and_links_are_the_same_in_both_parts() -> None:
    coverage = Coverage(
        (
            result(mail("john.doe@example.com", SHA, "1234567890"), Verdict.UNLINKED),
            result(acct("private", "4"), Verdict.RESTRICTED),
        )
    )
    chinese, english = comment_in(coverage, ("zh", "en")).split("\n\n---\n\n")
    for same in (
        "- `jo***@example.com`: `abc1234`, `1234567`",
        "https://github.com/settings/emails",
        LINKS.me_url,
        "- @private",
        'git commit --amend --author="Name <email-of-your-account>"',
    ):
        assert same in chinese and same in english
    assert "john.doe" not in chinese + english


def test_a_company_without_a_name_and_permissions_are_said_in_the_language() -> None:
    assert company_name(None, lang="zh") == "其所在公司"
    assert company_name(None) == "their company"
    assert permission_names((("contents", "read"), ("checks", "read")), lang="zh") == (
        "Contents: read 和 Checks: read"
    )
    assert permission_names((), lang="zh") == "所缺少的权限"
    report = render_missing_permission(
        templates=BOTH, permissions=(("contents", "read"),), languages=("zh", "en")
    )
    assert report.description == "CLA 检查需要 App 权限 Contents: read：须由所有者接受"
    assert report.body.count("**Contents: read**") == 2


def test_a_third_language_or_a_repeated_one_is_not_written() -> None:
    assert comment_in(OCTO_UNSIGNED, ("zh", "zh")) == in_languages(ZH_BLOCKED)
    assert comment_in(OCTO_UNSIGNED, ("en", "zh", "en")) == in_languages(EN_BLOCKED, ZH_BLOCKED)
    assert comment_in(OCTO_UNSIGNED, ()) == in_languages(EN_BLOCKED)


def test_a_language_without_texts_is_refused_by_name() -> None:
    with pytest.raises(TemplateError, match="no comment templates in language 'fr'"):
        comment_in(OCTO_UNSIGNED, ("fr",))
    with pytest.raises(TemplateError, match="no comment templates in language 'zh'"):
        render_check_failed(templates=TEMPLATES, languages=("en", "zh"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"zh/section_sign": None}, "zh: missing templates: zh/section_sign"),
        ({"zh/section_sign": "$people $sign_url $"}, "zh/section_sign: malformed placeholder"),
        ({"zh/section_sign": "$people"}, "zh/section_sign: missing placeholders sign_url"),
        ({"zh/people_more": "$count $who"}, "zh/people_more: unknown placeholders who"),
        ({"en/section_sign": "$people $sign_url"}, "en/: not a language folder"),
        ({"Zh_CN/section_sign": "$people $sign_url"}, "Zh_CN/: not a language folder"),
    ],
)
def test_each_languages_texts_are_checked_and_a_problem_names_the_language(
    change: dict[str, str | None], message: str
) -> None:
    texts = {k: v for k, v in {**SHIPPED, **SHIPPED_ZH, **change}.items() if v is not None}
    with pytest.raises(TemplateError, match=message):
        load_templates(texts)


def test_another_language_needs_every_text() -> None:
    with pytest.raises(TemplateError) as caught:
        load_templates({**SHIPPED, "fr/section_sign": "Signez : $sign_url\n\n$people"})
    assert str(caught.value).startswith("fr: missing templates: fr/comment_blocked, ")
    assert "fr/section_sign" not in str(caught.value)


@given(
    st.lists(
        st.tuples(
            st.emails(),
            st.sampled_from([Verdict.UNLINKED, Verdict.RESIGN, Verdict.RESTRICTED, Verdict.SIGNED]),
        ),
        max_size=5,
    ),
    st.sampled_from([("zh",), ("zh", "en"), ("en", "zh")]),
)
def test_no_language_shows_a_full_email_and_each_names_the_same_people(
    people: list[tuple[str, Verdict]], languages: tuple[str, ...]
) -> None:
    coverage = Coverage(tuple(result(mail(email), verdict) for email, verdict in people))
    body = comment_in(coverage, languages)
    for email, _ in people:
        local, _, domain = email.lower().rpartition("@")
        if set(local) - {"*"}:
            assert f"{local}@{domain}" not in body.lower()
    parts = body.removeprefix(MARKER + "\n").split("\n\n---\n\n")
    assert len(parts) == len(languages)
    named = [sorted(re.findall(r"^- (`[^`]+`)", part, flags=re.MULTILINE)) for part in parts]
    assert all(names == named[0] for names in named)
