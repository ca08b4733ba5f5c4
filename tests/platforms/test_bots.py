"""The shipped table of well-known bots and AI agents, and what its loader refuses."""

from __future__ import annotations

import pytest

from bot.core.identity import BotKind, KnownBot
from bot.platforms.bots import BotTableError, known_bots, parse_bots
from bot.platforms.github.facts import GITHUB

GH = GITHUB


def by_name() -> dict[str, KnownBot]:
    return {entry.name: entry for entry in known_bots()}


def test_the_shipped_table_loads_with_unique_names() -> None:
    table = known_bots()
    assert len({entry.name for entry in table}) == len(table)
    assert known_bots() is table  # read once


def test_the_copilot_coding_agent_is_known_by_its_account_id() -> None:
    copilot = by_name()["GitHub Copilot coding agent"]
    assert copilot.kind is BotKind.AI_AGENT
    assert (copilot.platform, copilot.account_ids) == (GH, frozenset({"198982749"}))
    # its REST login is not an App's: it matches only through the id
    assert not copilot.matches_login(GH, "Copilot")
    assert not copilot.matches_login(GH, "copilot-swe-agent[bot]")


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("Claude", "noreply@anthropic.com"),
        ("Claude", "claude-code@anthropic.com"),
        ("Cursor", "cursoragent@cursor.com"),
        ("Aider", "aider@aider.chat"),
        ("Aider", "noreply@aider.chat"),
        ("Aider", "noreply@aider.dev"),
        ("OpenHands", "openhands@all-hands.dev"),
        ("Amp", "amp@ampcode.com"),
        ("GitHub Copilot", "copilot@github.com"),
    ],
)
def test_agents_known_by_their_trailer_address(name: str, email: str) -> None:
    assert email in by_name()[name].emails


@pytest.mark.parametrize(
    ("name", "account_id"),
    [
        ("Dependabot", "49699333"),
        ("Renovate", "29139614"),
        ("GitHub Actions", "41898282"),
        ("pre-commit.ci", "66853113"),
        ("Devin", "158243242"),
        ("Google Jules", "161369871"),
        ("OpenAI Codex", "199175422"),
    ],
)
def test_accounts_known_by_id(name: str, account_id: str) -> None:
    assert account_id in by_name()[name].account_ids


def test_every_account_is_github_s_and_no_entry_matches_by_a_noreply_address() -> None:
    for entry in known_bots():
        assert entry.platform in (None, GH), entry.name
        assert not any("noreply.github" in email for email in entry.emails), entry.name


def test_the_bots_of_the_old_list_are_all_still_known() -> None:
    logins = {
        login for entry in known_bots() if entry.kind is BotKind.BOT for login in entry.logins
    }
    assert logins == {
        "dependabot[bot]",
        "dependabot-preview[bot]",
        "renovate[bot]",
        "github-actions[bot]",
        "pre-commit-ci[bot]",
        "mergify[bot]",
        "allcontributors[bot]",
        "imgbot[bot]",
        "codecov[bot]",
        "snyk-bot",
        "greenkeeper[bot]",
        "pyup-bot",
        "deepsource-autofix[bot]",
        "restyled-io[bot]",
    }


GOOD = 'kind = "bot"\nname = "X"\nplatform = "github"\naccount_ids = [1]\nsources = ["s"]\n'


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (GOOD.replace('"bot"', '"robot"'), "entry 1.kind: must be bot or ai-agent"),
        (GOOD.replace('"X"', '"[x](http://evil)"'), "entry 1.name"),
        (GOOD.replace('"X"', '"@octocat"'), "entry 1.name"),
        (GOOD.replace("[1]", '["1"]'), "entry 1.account_ids: must be a list of positive integers"),
        (GOOD.replace("[1]", "[0]"), "entry 1.account_ids"),
        (GOOD.replace("[1]", "[true]"), "entry 1.account_ids"),
        (GOOD.replace('"github"', '"gitlab"'), "entry 1.platform: not a forge the bot knows"),
        (GOOD.replace('platform = "github"\n', ""), "entry 1.platform: account ids and logins"),
        (GOOD.replace('["s"]', "[]"), "entry 1.sources"),
        (GOOD.replace('sources = ["s"]\n', ""), "entry 1.sources"),
        (GOOD + 'logins = ["a b"]\n', "entry 1.logins: not a login: 'a b'"),
        (GOOD + f'logins = ["{"a" * 101}"]\n', "entry 1.logins: not a login: 'aaa"),
        (GOOD + 'emails = ["nobody"]\n', "entry 1.emails: not an address: 'nobody'"),
        (GOOD + 'colour = "red"\n', "entry 1: unknown keys colour"),
        (
            GOOD.replace('platform = "github"\naccount_ids = [1]\n', ""),
            "entry 1: needs account_ids, logins or emails",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_place(entry: str, message: str) -> None:
    with pytest.raises(BotTableError) as exc:
        parse_bots("[[entry]]\n" + entry, origin="t.toml")
    assert str(exc.value).startswith("t.toml ")
    assert message in str(exc.value)


@pytest.mark.parametrize("text", ["", "x = 1\n", "[[entry]\n", "entry = 3\n"])
def test_a_bad_table_is_refused(text: str) -> None:
    with pytest.raises(BotTableError):
        parse_bots(text)


def test_a_good_entry() -> None:
    (entry,) = parse_bots(
        "[[entry]]\n"
        + GOOD
        + 'logins = ["x[bot]"]\nemails = ["X@Example.org", "1+x@users.noreply.github.com"]\n'
    )
    assert entry == KnownBot(
        BotKind.BOT, "X", GH, frozenset({"1"}), ("x[bot]",), frozenset({"x@example.org"})
    )
