"""``--link LINK_ID[=AGREEMENT[:VERSION]]``: which agreement version each kind of a link's
signings goes to, the defaults, and the mistakes refused before anything is read."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.services.importers.links import LinkError, LinkMap, Target, parse_links
from bot.settings import Policy

LINK = "64b7f0c2e1d3a45b6c7d8e90"
INDIVIDUAL = Target("individual", "1.0", frozenset({"en", "zh"}))
CORPORATE = Target("corporate", "1.0", frozenset({"en"}))


@pytest.fixture
def policy(make_settings: Any, sqlite_url: str) -> Policy:
    policy: Policy = make_settings(sqlite_url).policy
    return policy


def with_versions(policy: Policy, agreement_id: str, *numbers: str) -> Policy:
    """``policy`` with this agreement's first version published again under these numbers."""
    agreement = policy.agreement(agreement_id)
    versions = tuple(dataclasses.replace(agreement.versions[0], version=n) for n in numbers)
    changed = dataclasses.replace(agreement, versions=versions)
    return dataclasses.replace(
        policy,
        agreements=tuple(changed if a is agreement else a for a in policy.agreements),
    )


def test_a_bare_link_takes_the_required_and_the_corporate_agreement(policy: Policy) -> None:
    assert parse_links([LINK], policy) == {LINK: LinkMap(LINK, INDIVIDUAL, CORPORATE)}


def test_each_kind_is_named_by_its_own_link_option(policy: Policy) -> None:
    two = with_versions(policy, "individual", "1.0", "2.0")
    links = parse_links([f"{LINK}=individual:2.0", f"{LINK}=corporate", "other"], two)
    assert links[LINK] == LinkMap(
        LINK, Target("individual", "2.0", frozenset({"en", "zh"})), CORPORATE
    )
    assert isinstance(links["other"].individual, str)  # two versions: which one is not said
    assert "has several versions (1.0, 2.0)" in links["other"].individual
    assert "--link other=individual:VERSION" in links["other"].individual
    assert links["other"].corporate == CORPORATE


def test_defaults_that_do_not_exist_say_why(policy: Policy) -> None:
    only_individual = dataclasses.replace(
        policy, agreements=tuple(a for a in policy.agreements if a.kind == "individual")
    )
    link = parse_links([LINK], only_individual)[LINK]
    assert link.individual == INDIVIDUAL
    assert link.corporate == "app.yaml has no corporate agreement"
    second = dataclasses.replace(policy.agreement("corporate"), agreement_id="corporate-b")
    two_corporate = dataclasses.replace(policy, agreements=(*policy.agreements, second))
    reason = parse_links([LINK], two_corporate)[LINK].corporate
    assert reason == (
        "app.yaml has several corporate agreements (corporate, corporate-b): name one, as "
        f"--link {LINK}=AGREEMENT"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["bad id!"], "expected LINK_ID[=AGREEMENT[:VERSION]]"),
        ([""], "expected LINK_ID"),
        ([f"{LINK}=nope"], "app.yaml has no agreement 'nope' (it has: individual, corporate)"),
        ([f"{LINK}=individual:9.9"], "has no version '9.9' in app.yaml (it has: 1.0)"),
        (
            [f"{LINK}=individual:1.0", f"{LINK}=individual:2.0"],
            "its individual signings are mapped twice, to individual 1.0 and to individual 2.0",
        ),
    ],
)
def test_mistakes_are_refused(policy: Policy, values: list[str], message: str) -> None:
    two = with_versions(policy, "individual", "1.0", "2.0") if "2.0" in str(values) else policy
    with pytest.raises(LinkError) as exc:
        parse_links(values, two)
    assert message in str(exc.value)


def test_naming_a_kind_twice_alike_is_no_conflict(policy: Policy) -> None:
    links = parse_links([f"{LINK}=individual:1.0", f"{LINK}=individual", LINK], policy)
    assert links == {LINK: LinkMap(LINK, INDIVIDUAL, CORPORATE)}
