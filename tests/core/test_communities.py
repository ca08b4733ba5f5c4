"""Links bind forge scopes to communities; a repository's own link wins over its owner's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.communities import DEFAULT_COMMUNITY, Link, LinkTable, parse_scope

LINKS = (
    Link("gitee", "mindspore", None, "mindspore"),
    Link("github", "acme", None, "acme"),
    Link("github", "acme", "widgets", "mindspore"),
    Link("gitee", "openlookeng", "hetu-core", "openlookeng"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gitee:mindspore", ("gitee", "mindspore", None)),
        ("github:acme/widgets", ("github", "acme", "widgets")),
        ("github:Acme/Widgets.js", ("github", "Acme", "Widgets.js")),
        ("gitee:open-euler/kernel_4", ("gitee", "open-euler", "kernel_4")),
    ],
)
def test_parse_scope(text: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_scope(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "without spaces"),
        ("mindspore", "names no forge"),
        (":mindspore", "empty forge"),
        ("gitee:", "empty owner"),
        ("gitee:/kernel", "empty owner"),
        ("github:acme/", "empty repository"),
        ("github:acme/widgets/extra", "more than one '/'"),
        ("github:acme//widgets", "more than one '/'"),
        ("github:acme:widgets", "more than one ':'"),
        ("github: acme", "without spaces"),
        ("github:acme/wid gets", "without spaces"),
        ("github:acme\n", "without spaces"),
        ("\tgithub:acme", "without spaces"),
    ],
)
def test_parse_scope_refuses_bad_shapes(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_scope(text)


def test_parse_scope_refuses_a_non_string() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_scope(42)  # type: ignore[arg-type]


def test_a_link_is_stored_lower_cased_and_prints_as_its_scope() -> None:
    link = Link("github", "Acme", "Widgets", "acme")
    assert (link.owner, link.repo) == ("acme", "widgets")
    assert link == Link("github", "acme", "widgets", "acme")
    assert str(link) == "github:acme/widgets"
    assert str(Link("gitee", "MindSpore", None, "m")) == "gitee:mindspore"


@pytest.mark.parametrize(
    ("platform", "full_name", "community"),
    [
        ("github", "acme/widgets", "mindspore"),  # the repository's link wins over the owner's
        ("github", "acme/gadgets", "acme"),  # the owner's link covers its other repositories
        ("github", "ACME/Widgets", "mindspore"),  # forges compare names without case
        ("gitee", "mindspore/mindspore", "mindspore"),
        ("gitee", "openlookeng/hetu-core", "openlookeng"),
        ("gitee", "openlookeng/other", None),  # a repository link covers only that repository
        ("gitee", "acme/widgets", None),  # links are per forge
        ("github", "mindspore/mindspore", None),
        ("github", "someone/else", None),
    ],
)
def test_resolve_without_a_default(platform: str, full_name: str, community: str | None) -> None:
    assert LinkTable(LINKS, None).resolve(platform, full_name) == community


def test_an_unlinked_repository_gets_the_default() -> None:
    table = LinkTable(LINKS, DEFAULT_COMMUNITY)
    assert table.resolve("github", "someone/else") == DEFAULT_COMMUNITY
    assert table.resolve("gitee", "openlookeng/other") == DEFAULT_COMMUNITY
    assert table.resolve("github", "acme/widgets") == "mindspore"


def test_an_empty_table_answers_the_default_for_everything() -> None:
    assert LinkTable((), "default").resolve("github", "a/b") == "default"
    assert LinkTable([], None).resolve("github", "a/b") is None


def test_a_nested_name_falls_back_to_its_top_owner() -> None:
    table = LinkTable(LINKS, None)
    assert table.resolve("github", "acme/team/widgets") == "acme"


@pytest.mark.parametrize("full_name", ["acme", "acme/", "/widgets", ""])
def test_resolve_refuses_a_name_that_is_not_owner_slash_repo(full_name: str) -> None:
    with pytest.raises(ValueError, match="owner/repo"):
        LinkTable(LINKS, None).resolve("github", full_name)


def test_one_scope_linked_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="github:acme/widgets is linked twice"):
        LinkTable((*LINKS, Link("github", "ACME", "widgets", "other")), None)


def test_a_table_keeps_its_links_in_order() -> None:
    table = LinkTable(iter(LINKS), "x")
    assert table.links == LINKS
    assert table.default == "x"
    assert table == LinkTable(LINKS, "x")


NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True)


@given(owner=NAME, repo=NAME, other=NAME)
def test_the_repository_link_always_wins(owner: str, repo: str, other: str) -> None:
    table = LinkTable(
        [Link("f", owner, None, "owner's"), Link("f", owner, repo, "repo's")], "default"
    )
    assert table.resolve("f", f"{owner.upper()}/{repo.swapcase()}") == "repo's"
    if other.lower() != repo.lower():
        assert table.resolve("f", f"{owner}/{other}") == "owner's"


@given(owner=NAME, repo=st.none() | NAME)
def test_a_scope_written_back_parses_to_the_same_link(owner: str, repo: str | None) -> None:
    link = Link("f", owner, repo, "c")
    assert Link(*parse_scope(str(link)), "c") == link


@given(st.text(max_size=30))
def test_parse_scope_answers_any_text_or_says_why(text: str) -> None:
    try:
        forge, owner, repo = parse_scope(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert forge and owner and repo != ""
    assert not any(c.isspace() for c in text)
    assert text == f"{forge}:{owner}" + ("" if repo is None else f"/{repo}")
