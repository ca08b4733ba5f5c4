from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.identity import (
    EMAIL,
    LOGIN,
    BotKind,
    Contributor,
    Identity,
    KnownBot,
    NoreplyAddress,
    co_authors_to_link,
    contributors,
    is_noreply_domain,
    is_web_committer,
    mask_email,
    noreply_claims,
    normalise_email,
    parse_coauthors,
    parse_noreply,
    recognise,
)
from bot.core.model import Account, CoAuthorPolicy, Commit, GitPerson, Platform, Role
from bot.platforms.gitee.facts import GITEE
from bot.platforms.github.facts import GITHUB
from bot.platforms.registry import FACTS as FORGES
from bot.platforms.registry import forge

GH = GITHUB
GE = GITEE

LONGEST = "a" * 100


# One login rule for every place that reads a login. Sources of the accepted shapes:
#  * GitHub's sign-up form today: 1-39 letters, digits and single hyphens, no hyphen at either
#    end ("octocat", "mona-lisa", 39 characters);
#  * GitHub accounts from before that rule keep trailing and double hyphens ("a-", "a--b"),
#    and Enterprise Managed Users have an ``_shortcode`` suffix ("mona_acme");
#  * GitHub Apps act as ``slug[bot]``;
#  * Gitee's personal paths take letters, digits, "_", "-" and "." ("open.euler_bot-1").
# Rejected: what no forge hands out, and anything that could break out of an ``@mention``.
@pytest.mark.parametrize(
    ("login", "accepted"),
    [
        ("octocat", True),
        ("mona-lisa", True),
        ("a", True),
        ("9", True),
        ("a" * 39, True),
        ("a-", True),  # legacy GitHub
        ("a--b", True),  # legacy GitHub
        ("mona_acme", True),  # GitHub Enterprise Managed User
        ("renovate[bot]", True),
        ("open.euler_bot-1", True),  # Gitee
        (LONGEST, True),
        (LONGEST + "[bot]", True),
        # before one rule, the bot table, mentions and noreply parsing took any length:
        (LONGEST + "a", False),
        ("", False),
        ("-mona", False),
        (".mona", False),
        ("_mona", False),
        ("[bot]", False),
        ("mona[bot]x", False),
        ("mona lisa", False),
        ("@mona", False),
        ("mona](http://x)", False),
        ("mona<b>", False),
        ("mona/lisa", False),
        ("mona\n", False),
        ("möna", False),
    ],
)
def test_one_login_rule(login: str, accepted: bool) -> None:
    assert (LOGIN.fullmatch(login) is not None) is accepted


# One email rule for every address typed or imported (company lists, CSV and cla-assistant
# imports, the admin API, the bot table).
@pytest.mark.parametrize(
    ("email", "accepted"),
    [
        ("jane@example.com", True),
        ("Jane.Doe+cla@Example.CO.UK", True),
        ("1+octocat@users.noreply.github.com", True),
        ("jane@b\u00fccher.de", True),  # an internationalised domain, as typed
        ("x@example.123", True),  # before one rule, the bot table wanted a letters-only label
        ("a" * 200 + "@example.com", True),
        ("jane@" + "d" * 253 + ".com", True),
        # before one rule, company lists and imports took these:
        ("<jane@example.com>", False),
        ("jane<@example.com", False),
        ("a" * 201 + "@example.com", False),
        ("jane@example." + "c" * 64, False),
        # refused everywhere before and after:
        ("jane", False),
        ("jane@example", False),
        ("@example.com", False),
        ("jane@@example.com", False),
        ("jane@exa@mple.com", False),
        ("jane doe@example.com", False),
        ("jane@example.com\n", False),
        ("", False),
    ],
)
def test_one_email_rule(email: str, accepted: bool) -> None:
    assert (EMAIL.fullmatch(email) is not None) is accepted


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("foo@example.com", "foo@example.com"),
        ("  Foo.Bar@Example.COM\n", "foo.bar@example.com"),
        ("", ""),
        ("Foo+Tag@x.org", "foo+tag@x.org"),  # no +tag folding
    ],
)
def test_normalise_email(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("john.doe@example.com", "jo***@example.com"),
        ("  John.Doe@Example.COM ", "jo***@example.com"),
        ("abc@x.org", "ab***@x.org"),
        ("ab@x.org", "a***@x.org"),
        ("a@x.org", "a***@x.org"),
        ("123+octo@users.noreply.github.com", "12***@users.noreply.github.com"),
        ("<b>x@evil.com", "b***@evil.com"),  # markup is never shown
        ("<<<@evil.com", "***"),
        ("", "***"),
        ("no-at-sign", "***"),
        ("@example.com", "***"),
        ("foo@", "***"),
        ("a@b@c.com", "***"),
        ("a b@c.com", "***"),
        ("ab@exa mple.com", "***"),
        ("ab@[127.0.0.1]", "***"),
        ("ab@<script>.com", "***"),
    ],
)
def test_mask_email(raw: str, expected: str) -> None:
    assert mask_email(raw) == expected


@given(st.emails())
def test_mask_email_never_shows_a_whole_local_part(email: str) -> None:
    local = normalise_email(email).rpartition("@")[0]
    assume(set(local) - {"*"})
    masked = mask_email(email)
    assert normalise_email(email) not in masked
    assert local + "@" not in masked
    shown = masked.partition("***")[0]
    assert len(shown) <= 2
    assert len(shown) < len(local) or len(local) == 1


@given(st.text())
def test_mask_email_total_on_any_text(text: str) -> None:
    masked = mask_email(text)
    shown, stars, domain = masked.partition("***")
    assert stars == "***"
    assert len(shown) <= 2
    assert domain == "" or (domain.startswith("@") and domain.count("@") == 1)


@pytest.mark.parametrize(
    ("raw", "platform", "expected"),
    [
        ("123+octo@users.noreply.github.com", None, NoreplyAddress(GH, "123", "octo")),
        ("octo@users.noreply.github.com", None, NoreplyAddress(GH, None, "octo")),
        ("123+Octo@Users.Noreply.GitHub.com", GH, NoreplyAddress(GH, "123", "Octo")),
        (
            "49699333+dependabot[bot]@users.noreply.github.com",
            GH,
            NoreplyAddress(GH, "49699333", "dependabot[bot]"),
        ),
        ("11593811+feng@user.noreply.gitee.com", None, NoreplyAddress(GE, "11593811", "feng")),
        ("feng@user.noreply.gitee.com", GE, NoreplyAddress(GE, None, "feng")),
        ("123+octo@users.noreply.github.com", GE, None),  # another platform's noreply
        ("11593811+feng@user.noreply.gitee.com", GH, None),
        ("noreply@github.com", None, None),
        ("octo@github.com", None, None),
        ("+octo@users.noreply.github.com", None, None),
        ("12+@users.noreply.github.com", None, None),
        ("a b@users.noreply.github.com", None, None),
        ("users.noreply.github.com", None, None),
        (f"1+{LONGEST}a@users.noreply.github.com", None, None),  # no forge has such a login
    ],
)
def test_parse_noreply(
    raw: str, platform: Platform | None, expected: NoreplyAddress | None
) -> None:
    assert parse_noreply(raw, FORGES, platform=platform) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Fix it\n\nBody text.\n\nCo-authored-by: Ann Smith <ann@example.com>\n",
            (GitPerson("Ann Smith", "ann@example.com"),),
        ),
        (
            "Fix\n\nco-AUTHORED-BY:   Bob <Bob@X.org>  \nSigned-off-by: Z <z@z.org>\n"
            "Co-authored-by: Cy <cy@y.org>",
            (GitPerson("Bob", "Bob@X.org"), GitPerson("Cy", "cy@y.org")),
        ),
        ("Fix\r\n\r\nCo-authored-by: Ann <ann@x.org>\r\n\r\n", (GitPerson("Ann", "ann@x.org"),)),
        # not in the last paragraph
        ("Fix\n\nCo-authored-by: Ann <ann@x.org>\n\nMore text.", ()),
        # the subject is never a trailer
        ("Co-authored-by: Ann <ann@x.org>", ()),
        # malformed lines are skipped, good ones kept
        (
            "Fix\n\nCo-authored-by: NoEmail\nCo-authored-by: Bad <not-an-email>\n"
            "Co-authored-by: Two <a@b.c> <d@e.f>\nCo-authored-by <x@y.z>\n"
            "Co-authored-by: Ok <ok@x.org>",
            (GitPerson("Ok", "ok@x.org"),),
        ),
        # repeats collapse by normalised email
        (
            "Fix\n\nCo-authored-by: Ann <ann@x.org>\nCo-authored-by: ANN <ANN@x.org>",
            (GitPerson("Ann", "ann@x.org"),),
        ),
        ("Fix\n\nCo-authored-by: <anon@x.org>", (GitPerson("", "anon@x.org"),)),
        ("", ()),
    ],
)
def test_parse_coauthors(message: str, expected: tuple[GitPerson, ...]) -> None:
    assert parse_coauthors(message) == expected


@given(st.text())
def test_parse_coauthors_never_raises(message: str) -> None:
    for person in parse_coauthors(message):
        assert "@" in person.email


def test_identity_keys() -> None:
    account = Account(GH, "123", "octo")
    assert Identity.of_account(account).key == "github:123"
    assert Identity.of_account(Account(GE, "456", "feng")).key == "gitee:456"
    email = Identity.of_email("  Foo@Example.COM ")
    assert email.key == "email:foo@example.com"
    assert email.email == "foo@example.com"
    assert not email.is_account
    assert Identity.of_account(account).is_account


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"platform": GH},
        {"account_id": "1"},
        {"platform": GH, "account_id": "1", "email": "a@b.c"},
        {"login": "x", "email": "a@b.c"},
        {"platform": GH, "email": "a@b.c"},
    ],
)
def test_identity_rejects_mixed_kinds(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Identity(**kwargs)  # type: ignore[arg-type]


def person(email: str, name: str = "Some Name") -> GitPerson:
    return GitPerson(name, email)


def commit(
    sha: str,
    author: str,
    *,
    author_account: Account | None = None,
    committer: str | None = None,
    committer_account: Account | None = None,
    message: str = "Change",
) -> Commit:
    return Commit(
        sha=sha,
        author=person(author),
        committer=person(committer if committer is not None else author),
        message=message,
        author_account=author_account,
        committer_account=committer_account if committer is not None else author_account,
    )


OCTO = Account(GH, "1", "octo")
HUBOT = Account(GH, "2", "hubot")
WEB_FLOW = Account(GH, "19864447", "web-flow")


def keys(found: tuple[Contributor, ...]) -> list[str]:
    return [c.key for c in found]


def run(
    commits: list[Commit],
    *,
    platform: Platform = GH,
    co_authors: CoAuthorPolicy = CoAuthorPolicy.REQUIRE,
    check_committers: bool = False,
    confirmed: Mapping[str, Account] | None = None,
) -> tuple[Contributor, ...]:
    if confirmed is None:
        return contributors(
            commits,
            platform=platform,
            forges=FORGES,
            co_authors=co_authors,
            check_committers=check_committers,
        )
    return contributors(
        commits,
        platform=platform,
        forges=FORGES,
        co_authors=co_authors,
        check_committers=check_committers,
        confirmed=confirmed,
    )


def test_linked_author_is_the_account() -> None:
    (only,) = run([commit("a1", "octo@example.com", author_account=OCTO)])
    assert only.identity == Identity(platform=GH, account_id="1", login="octo")
    assert only.roles == {Role.AUTHOR}
    assert only.shas == ("a1",)
    assert only.emails == ("octo@example.com",)
    assert not only.is_bot


FORGE_77 = {"77": Account(GH, "77", "octo")}
RENAMED_77 = {"77": Account(GH, "77", "the-real-owner")}
GITEE_88 = {"88": Account(GE, "88", "feng")}


@pytest.mark.parametrize(
    ("email", "platform", "confirmed", "key", "login"),
    [
        # a noreply address names an account id; only the forge may say whose it is
        ("77+octo@users.noreply.github.com", GH, None, "github:77", None),
        ("77+octo@users.noreply.github.com", GH, {}, "github:77", None),
        ("77+octo@users.noreply.github.com", GH, FORGE_77, "github:77", "octo"),
        ("77+victim@users.noreply.github.com", GH, RENAMED_77, "github:77", "the-real-owner"),
        # an answer about another id, or another forge's account, confirms nothing
        ("77+octo@users.noreply.github.com", GH, {"77": Account(GH, "78", "x")}, "github:77", None),
        ("88+feng@user.noreply.gitee.com", GE, {"88": Account(GH, "88", "x")}, "gitee:88", None),
        (
            "77+octo@users.noreply.github.com",
            GE,
            FORGE_77,
            "email:77+octo@users.noreply.github.com",
            None,
        ),
        ("88+feng@user.noreply.gitee.com", GE, None, "gitee:88", None),
        ("88+feng@user.noreply.gitee.com", GE, GITEE_88, "gitee:88", "feng"),
        ("octo@users.noreply.github.com", GH, None, "email:octo@users.noreply.github.com", None),
        ("Someone@Example.com", GH, FORGE_77, "email:someone@example.com", None),
    ],
)
def test_unlinked_author_resolution(
    email: str,
    platform: Platform,
    confirmed: Mapping[str, Account] | None,
    key: str,
    login: str | None,
) -> None:
    (only,) = run([commit("a1", email)], platform=platform, confirmed=confirmed)
    assert only.key == key
    assert only.login == login
    assert only.emails == (email,)


def test_an_unconfirmed_co_author_has_no_login() -> None:
    message = "Fix\n\nCo-authored-by: T <1+torvalds@users.noreply.github.com>"
    found = run([commit("a1", "octo@x.org", author_account=OCTO, message=message)])
    assert [(c.key, c.login) for c in found] == [("github:1", "octo")]
    found = run([commit("a1", "ann@x.org", message=message)])
    assert [(c.key, c.login) for c in found] == [("email:ann@x.org", None), ("github:1", None)]
    found = run(
        [commit("a1", "ann@x.org", message=message)],
        confirmed={"1": Account(GH, "1", "mojombo")},
    )
    assert [(c.key, c.login) for c in found] == [
        ("email:ann@x.org", None),
        ("github:1", "mojombo"),
    ]


KAT = Account(GH, "77", "katherine")


def test_a_co_author_the_forge_linked_is_that_account() -> None:
    message = "Fix\n\nCo-authored-by: Katherine J <Kat@Example.com>"
    linked = Commit(
        "a1",
        person("alan@x.org"),
        person("alan@x.org"),
        message,
        author_account=OCTO,
        co_author_accounts=(("kat@example.com", KAT),),
    )
    found = run([linked])
    assert [(c.key, c.login, c.roles) for c in found] == [
        ("github:1", "octo", frozenset({Role.AUTHOR})),
        ("github:77", "katherine", frozenset({Role.CO_AUTHOR})),
    ]
    assert found[1].emails == ("Kat@Example.com",) and found[1].co_author_name == "Katherine J"
    assert found[0].co_author_name == ""
    # ignored co-authors stay ignored, linked or not
    assert keys(run([linked], co_authors=CoAuthorPolicy.IGNORE)) == ["github:1"]
    # the same email unlinked in another commit resolves through the link
    other = commit("b2", "alan@x.org", author_account=OCTO, message=message)
    assert keys(run([other, linked])) == ["github:1", "github:77"]


@pytest.mark.parametrize(
    ("message", "linked", "expected"),
    [
        ("No trailers", (), False),
        ("Fix\n\nCo-authored-by: K <kat@example.com>", (), True),
        ("Fix\n\nCo-authored-by: K <kat@example.com>", (("kat@example.com", KAT),), False),
        ("Fix\n\nCo-authored-by: Me <OCTO@x.org>", (), False),  # REST linked it (the author)
        ("Fix\n\nCo-authored-by: B <1+b@users.noreply.github.com>", (), False),  # by id
        ("Fix\n\nCo-authored-by: B <b@users.noreply.github.com>", (), True),  # legacy: no id
        ("Fix\n\nCo-authored-by: G <1+g@user.noreply.gitee.com>", (), True),  # not GitHub's
    ],
)
def test_co_authors_to_link(
    message: str, linked: tuple[tuple[str, Account], ...], expected: bool
) -> None:
    the_commit = Commit(
        "a1",
        person("octo@x.org"),
        person("octo@x.org"),
        message,
        author_account=OCTO,
        co_author_accounts=linked,
    )
    assert co_authors_to_link([the_commit], forge=forge(GH).facts) is expected


def test_a_noreply_id_the_forge_linked_elsewhere_in_the_pr_is_confirmed() -> None:
    found = run(
        [
            commit("a1", "1+someone-else@users.noreply.github.com"),
            commit("a2", "octo@x.org", author_account=OCTO),
        ]
    )
    assert [(c.key, c.login, c.shas) for c in found] == [("github:1", "octo", ("a1", "a2"))]


NOREPLY_1 = "1+octo@users.noreply.github.com"
WITH_NOREPLY_CO_AUTHOR = commit(
    "a1",
    "a@x.org",
    author_account=OCTO,
    message="F\n\nCo-authored-by: V <9+v@users.noreply.github.com>",
)


@pytest.mark.parametrize(
    ("commits", "platform", "co_authors", "check_committers", "expected"),
    [
        ([], GH, CoAuthorPolicy.REQUIRE, False, []),
        # the forge linked the author: nothing to ask
        ([commit("a1", NOREPLY_1, author_account=OCTO)], GH, CoAuthorPolicy.REQUIRE, False, []),
        ([commit("a1", NOREPLY_1)], GH, CoAuthorPolicy.REQUIRE, False, [("1", "octo")]),
        # one question per account id, with the first login written for it
        (
            [
                commit("a1", "5+first@users.noreply.github.com"),
                commit("a2", "5+second@users.noreply.github.com"),
                commit("a3", "6+other@users.noreply.github.com"),
            ],
            GH,
            CoAuthorPolicy.REQUIRE,
            False,
            [("5", "first"), ("6", "other")],
        ),
        # the id of an account the forge linked anywhere in the PR needs no question
        (
            [commit("a1", NOREPLY_1), commit("a2", "x@y.org", author_account=OCTO)],
            GH,
            CoAuthorPolicy.REQUIRE,
            False,
            [],
        ),
        # nor does an email the forge linked in another commit
        (
            [commit("a1", NOREPLY_1), commit("a2", NOREPLY_1, author_account=HUBOT)],
            GH,
            CoAuthorPolicy.REQUIRE,
            False,
            [],
        ),
        # legacy addresses carry no id; another forge's addresses are plain emails
        ([commit("a1", "octo@users.noreply.github.com")], GH, CoAuthorPolicy.REQUIRE, False, []),
        ([commit("a1", NOREPLY_1)], GE, CoAuthorPolicy.REQUIRE, False, []),
        (
            [commit("a1", "88+feng@user.noreply.gitee.com")],
            GE,
            CoAuthorPolicy.REQUIRE,
            False,
            [("88", "feng")],
        ),
        # co-authors unless ignored
        (
            [WITH_NOREPLY_CO_AUTHOR],
            GH,
            CoAuthorPolicy.WARN,
            False,
            [("9", "v")],
        ),
        (
            [WITH_NOREPLY_CO_AUTHOR],
            GH,
            CoAuthorPolicy.IGNORE,
            False,
            [],
        ),
        # committers only when they are checked
        (
            [
                commit(
                    "a1", "a@x.org", author_account=OCTO, committer="3+c@users.noreply.github.com"
                )
            ],
            GH,
            CoAuthorPolicy.REQUIRE,
            False,
            [],
        ),
        (
            [
                commit(
                    "a1", "a@x.org", author_account=OCTO, committer="3+c@users.noreply.github.com"
                )
            ],
            GH,
            CoAuthorPolicy.REQUIRE,
            True,
            [("3", "c")],
        ),
    ],
)
def test_noreply_claims(
    commits: list[Commit],
    platform: Platform,
    co_authors: CoAuthorPolicy,
    check_committers: bool,
    expected: list[tuple[str, str]],
) -> None:
    claims = noreply_claims(
        commits,
        platform=platform,
        forges=FORGES,
        co_authors=co_authors,
        check_committers=check_committers,
    )
    assert [(c.account_id, c.login) for c in claims] == expected
    assert all(c.platform is platform for c in claims)


def test_committers_only_when_asked_and_never_web_committers() -> None:
    commits = [
        commit(
            "a1",
            "octo@x.org",
            author_account=OCTO,
            committer="hubot@x.org",
            committer_account=HUBOT,
        ),
        commit("a2", "octo@x.org", author_account=OCTO, committer="noreply@github.com"),
        commit(
            "a3",
            "octo@x.org",
            author_account=OCTO,
            committer="other@x.org",
            committer_account=WEB_FLOW,
        ),
        commit("a4", "octo@x.org", author_account=OCTO, committer="NoReply@Gitee.com"),
    ]
    assert keys(run(commits)) == ["github:1"]
    found = run(commits, check_committers=True)
    assert keys(found) == ["github:1", "github:2"]
    assert found[1].roles == {Role.COMMITTER}
    assert found[1].shas == ("a1",)


def test_committer_same_as_author_adds_a_role() -> None:
    (only,) = run([commit("a1", "octo@x.org", author_account=OCTO)], check_committers=True)
    assert only.roles == {Role.AUTHOR, Role.COMMITTER}


@pytest.mark.parametrize(
    ("platform", "email", "account", "expected"),
    [
        (GH, "noreply@github.com", None, True),
        (GH, "x@y.org", WEB_FLOW, True),
        (GE, "noreply@gitee.com", None, True),
        (GE, "x@y.org", Account(GE, "5", "web-flow"), False),
        (GH, "x@y.org", Account(GE, "5", "web-flow"), False),
        (GH, "x@y.org", OCTO, False),
        (GE, "x@y.org", Account(GE, "6", "gitee"), False),
    ],
)
def test_is_web_committer(
    platform: Platform, email: str, account: Account | None, expected: bool
) -> None:
    assert is_web_committer(platform, person(email), account, FORGES) is expected


TRAILERS = "Change\n\nCo-authored-by: Ann <ann@x.org>\nCo-authored-by: O <OCTO@x.org>"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (CoAuthorPolicy.REQUIRE, ["github:1", "email:ann@x.org"]),
        (CoAuthorPolicy.WARN, ["github:1", "email:ann@x.org"]),
        (CoAuthorPolicy.IGNORE, ["github:1"]),
    ],
)
def test_coauthors_by_policy(policy: CoAuthorPolicy, expected: list[str]) -> None:
    found = run(
        [commit("a1", "octo@x.org", author_account=OCTO, message=TRAILERS)], co_authors=policy
    )
    assert keys(found) == expected
    if policy is not CoAuthorPolicy.IGNORE:
        # octo's trailer email is the one the forge linked to octo: one person, two roles
        assert found[0].roles == {Role.AUTHOR, Role.CO_AUTHOR}
        assert found[1].roles == {Role.CO_AUTHOR}


def test_merge_keeps_first_seen_order_unique_shas_and_emails() -> None:
    found = run(
        [
            commit("a1", "ann@x.org"),
            commit("a2", "octo@x.org", author_account=OCTO),
            commit("a3", "ANN@x.org "),
            commit("a4", "octo@work.org", author_account=OCTO),
            commit("a5", "ann@x.org", message="Fix\n\nCo-authored-by: A <ann@x.org>"),
        ]
    )
    assert keys(found) == ["email:ann@x.org", "github:1"]
    ann, octo = found
    assert ann.shas == ("a1", "a3", "a5")
    assert ann.emails == ("ann@x.org",)
    assert ann.roles == {Role.AUTHOR, Role.CO_AUTHOR}
    assert octo.shas == ("a2", "a4")
    assert octo.emails == ("octo@x.org", "octo@work.org")


def test_unlinked_commit_resolves_through_an_email_the_forge_linked_elsewhere() -> None:
    found = run([commit("a1", "octo@x.org"), commit("a2", "Octo@X.org", author_account=OCTO)])
    assert keys(found) == ["github:1"]
    assert found[0].shas == ("a1", "a2")


def test_forge_login_wins_over_noreply_login() -> None:
    renamed = Account(GH, "77", "new-name")
    found = run(
        [
            commit("a1", "77+old-name@users.noreply.github.com"),
            commit("a2", "new@x.org", author_account=renamed),
        ]
    )
    assert keys(found) == ["github:77"]
    assert found[0].login == "new-name"


DEPENDABOT = Account(GH, "49699333", "dependabot[bot]", is_bot=True)


@pytest.mark.parametrize(
    ("the_commit", "confirmed", "is_bot"),
    [
        (
            commit("a1", "b@x.org", author_account=Account(GH, "9", "some-app", is_bot=True)),
            {},
            True,
        ),
        (commit("a1", "b@x.org", author_account=Account(GH, "9", "renovate[bot]")), {}, True),
        # a bot's noreply address is a bot only when the forge says that id is one
        (commit("a1", "49699333+dependabot[bot]@users.noreply.github.com"), {}, False),
        (
            commit("a1", "49699333+dependabot[bot]@users.noreply.github.com"),
            {"49699333": DEPENDABOT},
            True,
        ),
        (commit("a1", "1+renovate[bot]@users.noreply.github.com"), {"1": OCTO}, False),
        (commit("a1", "dependabot[bot]@users.noreply.github.com"), {}, False),  # email only
        (commit("a1", "b@x.org", author_account=Account(GH, "9", "botanist")), {}, False),
    ],
)
def test_bots(the_commit: Commit, confirmed: Mapping[str, Account], is_bot: bool) -> None:
    (only,) = run([the_commit], confirmed=confirmed)
    assert only.is_bot is is_bot


def test_no_commits() -> None:
    assert run([]) == ()


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("users.noreply.github.com", True),
        ("Users.NoReply.GitHub.com.", True),
        ("x.users.noreply.github.com", True),
        ("user.noreply.gitee.com", True),
        ("noreply.github.com", False),
        ("github.com", False),
        ("evilusers.noreply.github.com", False),
        ("example.com", False),
    ],
)
def test_is_noreply_domain(domain: str, expected: bool) -> None:
    assert is_noreply_domain(domain, FORGES) is expected


# --- well-known bots and AI agents -----------------------------------------------------------

CODING_AGENT = KnownBot.of(
    BotKind.AI_AGENT,
    "GitHub Copilot coding agent",
    platform=GH,
    account_ids=["198982749"],
    logins=["Copilot"],
    emails=["198982749+Copilot@users.noreply.github.com"],
    forges=FORGES,
)
COPILOT = KnownBot.of(
    BotKind.AI_AGENT,
    "GitHub Copilot",
    platform=GH,
    account_ids=["175728472"],
    logins=["copilot[bot]"],
    emails=["copilot@github.com", "175728472+Copilot@users.noreply.github.com"],
    forges=FORGES,
)
CLAUDE = KnownBot.of(
    BotKind.AI_AGENT,
    "Claude",
    emails=["noreply@anthropic.com", "Claude-Code@Anthropic.com"],
    forges=FORGES,
)
SWEEP = KnownBot.of(BotKind.AI_AGENT, "Sweep", platform=GH, logins=["sweep-ai[bot]"])
TABLE = (CODING_AGENT, COPILOT, CLAUDE, SWEEP)
COPILOT_ACCOUNT = Account(GH, "198982749", "Copilot", is_bot=True)


def test_noreply_addresses_of_an_entry_are_left_to_their_account_id() -> None:
    assert CODING_AGENT.emails == frozenset()
    assert COPILOT.emails == {"copilot@github.com"}
    assert CLAUDE.emails == {"noreply@anthropic.com", "claude-code@anthropic.com"}


@pytest.mark.parametrize(
    ("the_commit", "platform", "expected"),
    [
        # the Copilot coding agent's commit: its account, with the person who asked as co-author
        (
            commit(
                "a1",
                "198982749+Copilot@users.noreply.github.com",
                author_account=COPILOT_ACCOUNT,
                message="Fix the parser\n\nCo-authored-by: mona <5+mona@users.noreply.github.com>",
            ),
            GH,
            ["GitHub Copilot coding agent", None],
        ),
        # its noreply address, not linked: the account id is enough
        (
            commit("a1", "198982749+Copilot@users.noreply.github.com"),
            GH,
            ["GitHub Copilot coding agent"],
        ),
        (
            commit("a1", "198982749+someone@users.noreply.github.com"),
            GH,
            ["GitHub Copilot coding agent"],
        ),
        # the trailers Copilot's suggestions leave
        (
            commit(
                "a1",
                "ann@x.org",
                message="Apply suggestion\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
            ),
            GH,
            [None, "GitHub Copilot"],
        ),
        (
            commit(
                "a1", "ann@x.org", message="Fix\n\nCo-authored-by: Copilot <copilot@github.com>"
            ),
            GH,
            [None, "GitHub Copilot"],
        ),
        # Claude's address, linked by the forge to a stranger's account: still Claude
        (
            commit("a1", "claude-code@anthropic.com", author_account=Account(GH, "77", "stranger")),
            GH,
            ["Claude"],
        ),
        (
            commit(
                "a1",
                "ann@x.org",
                message="Fix\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>",
            ),
            GH,
            [None, "Claude"],
        ),
        # a name is not an identity
        (
            commit("a1", "ann@x.org", message="Fix\n\nCo-authored-by: Claude <ann@x.org>"),
            GH,
            [None],
        ),
        (commit("a1", "claude@example.com"), GH, [None]),
        # a login that is not an App's, of an entry with an id, never matches
        (
            commit("a1", "x@y.org", author_account=Account(GH, "1", "Copilot", is_bot=True)),
            GH,
            [None],
        ),
        # an App's login of an entry without an id
        (commit("a1", "x@y.org", author_account=Account(GH, "2", "sweep-ai[bot]")), GH, ["Sweep"]),
        # on Gitee the GitHub accounts match nothing, the tools' own addresses do
        (commit("a1", "x@y.org", author_account=Account(GE, "198982749", "Copilot")), GE, [None]),
        (commit("a1", "x@y.org", author_account=Account(GE, "2", "sweep-ai[bot]")), GE, [None]),
        (commit("a1", "198982749+Copilot@users.noreply.github.com"), GE, [None]),
        (commit("a1", "noreply@anthropic.com"), GE, ["Claude"]),
    ],
)
def test_recognise(the_commit: Commit, platform: Platform, expected: list[str | None]) -> None:
    found = run([the_commit], platform=platform)
    assert [getattr(recognise(c, TABLE), "name", None) for c in found] == expected


def test_an_account_seen_with_other_addresses_too_is_not_the_agent() -> None:
    """A person who committed with their own address and with Claude's (the forge linked both
    to them) is a person: they must be covered."""
    mine = Account(GH, "77", "dev")
    found = run(
        [
            commit("a1", "dev@x.org", author_account=mine),
            commit("a2", "noreply@anthropic.com", author_account=mine),
        ]
    )
    (dev,) = found
    assert dev.emails == ("dev@x.org", "noreply@anthropic.com")
    assert recognise(dev, TABLE) is None
