"""app.yaml's communities: a file with only ``cla:`` is the default community, exactly as
before; a ``communities:`` list gives each community its agreements, policy, admins and links,
falling back to ``cla:`` key by key; every bad value names where it is written."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.communities import (
    COMMUNITY_KEYS,
    DEPLOYMENT_KEYS,
    POLICY_KEYS,
    Communities,
    Community,
    load_communities,
)
from bot.core.communities import DEFAULT_COMMUNITY, Link
from bot.errors import SettingsError
from bot.platforms import registry
from bot.policy import load_config_file
from tests.test_layers import upward_imports

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
FORGES = tuple(forge.name for forge in registry.FORGES)

INDIVIDUAL = """
  - id: individual
    title: Individual CLA
    versions: [{version: "1.0", text: agreements/individual-1.0.md}]
"""
CLA = f"""
cla:
  required_agreement: individual
  agreements: {textwrap.indent(INDIVIDUAL, "  ")}
  report: {{status_context: cla, label_covered: cla/signed, label_missing: cla/unsigned}}
  co_authors: warn
  allowlist: {{logins: ["ci-*"]}}
  privacy_url: https://deploy.example/privacy
  worker: {{concurrency: 7}}
  retention: {{pending_days: 30}}
  reconcile: {{sweep_interval_s: 1800}}
  gitee_timestamp_window_s: 600
"""
TWO = (
    CLA
    + """
communities:
  - id: mindspore
    name: MindSpore
    languages: [zh, en]
    privacy_url: https://www.mindspore.cn/privacy
    admins: ["gitee:Alice", "github:bob"]
    links: ["gitee:mindspore", "github:Acme/Widgets"]
    required_agreement: individual
    agreements:
      - id: individual
        title: MindSpore Individual CLA
        versions:
          - {version: "2.0", text: agreements/individual-1.0.md,
             translations: {zh: agreements/individual-1.0.zh.md}}
      - id: corporate
        title: MindSpore Corporate CLA
        kind: corporate
        versions: [{version: "1.0", text: agreements/corporate-1.0.md}]
    report: {status_context: mindspore-cla}
    ai_agents: require
    corporate: {employees: confirm}
  - id: openlookeng
    name: openLooKeng
    links: ["gitee:openlookeng/hetu-core", "github:acme"]
    check_committers: true
default_community: openlookeng
"""
)


def raw_of(tmp_path: Path, text: str) -> dict[str, Any]:
    """``text`` written to an app.yaml and read back as the bot reads it."""
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def load(tmp_path: Path, text: str) -> Communities:
    return load_communities(raw_of(tmp_path, text), TEMPLATES, forges=FORGES)


def error(tmp_path: Path, text: str) -> SettingsError:
    with pytest.raises(SettingsError) as exc:
        load(tmp_path, text)
    assert "\n" not in str(exc.value)  # one line
    return exc.value


# --- a file with only cla: ----------------------------------------------------------------------


def test_the_stock_file_is_the_default_community_with_todays_policy() -> None:
    config = ROOT / "app.yaml"
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    communities = load_communities(raw, TEMPLATES, forges=FORGES)
    _, policy = load_config_file(config, TEMPLATES)
    assert communities.ids() == (DEFAULT_COMMUNITY,)
    assert communities.default == DEFAULT_COMMUNITY
    only = communities.get(DEFAULT_COMMUNITY)
    assert only == Community(
        id="default",
        name="Default",
        languages=("en",),
        privacy_url="https://www.example.org/privacy",
        admins=(),
        links=(),
        policy=policy,
    )
    assert communities.table().links == ()
    assert communities.table().resolve("github", "anyone/anything") == DEFAULT_COMMUNITY
    assert communities.table().resolve("gitee", "anyone/anything") == DEFAULT_COMMUNITY


def test_a_cla_only_file_keeps_every_value_of_its_policy(tmp_path: Path) -> None:
    communities = load(tmp_path, CLA)
    _, policy = load_config_file(tmp_path / "app.yaml", TEMPLATES)
    only = communities.communities[0]
    assert only.policy == policy
    assert (policy.report.label_covered, policy.co_authors, policy.worker.concurrency) == (
        "cla/signed",
        "warn",
        7,
    )
    assert only.privacy_url == "https://deploy.example/privacy"


def test_a_cla_only_file_may_name_the_default_community(tmp_path: Path) -> None:
    assert load(tmp_path, CLA + "default_community: default\n").default == "default"


@pytest.mark.parametrize("value", ["mindspore", "[default]"])
def test_a_cla_only_file_has_no_other_default(tmp_path: Path, value: str) -> None:
    assert error(tmp_path, CLA + f"default_community: {value}\n").name == (
        "app.yaml default_community"
    )


@pytest.mark.parametrize(
    ("replace", "by", "name"),
    [
        ("co_authors: warn", "co_authors: sometimes", "app.yaml cla.co_authors"),
        ("status_context: cla,", "status_context: '',", "app.yaml cla.report.status_context"),
        ("concurrency: 7", "concurrency: 700", "app.yaml cla.worker.concurrency"),
        (
            "required_agreement: individual",
            "required_agreement: x",
            "app.yaml cla.required_agreement",
        ),
    ],
)
def test_a_cla_only_file_names_its_errors_as_before(
    tmp_path: Path, replace: str, by: str, name: str
) -> None:
    assert replace in CLA
    assert error(tmp_path, CLA.replace(replace, by)).name == name


def test_a_file_without_cla_or_communities_is_refused(tmp_path: Path) -> None:
    assert error(tmp_path, "name: cla-bot\n").name == "app.yaml cla"


# --- communities: -------------------------------------------------------------------------------


def test_two_communities_with_their_own_agreements_and_links(tmp_path: Path) -> None:
    communities = load(tmp_path, TWO)
    assert communities.ids() == ("mindspore", "openlookeng")
    assert communities.default == "openlookeng"
    ms = communities.get("mindspore")
    ol = communities.get("openlookeng")
    assert ms is not None and ol is not None
    assert communities.get("default") is None
    assert (ms.name, ms.languages, ms.privacy_url) == (
        "MindSpore",
        ("zh", "en"),
        "https://www.mindspore.cn/privacy",
    )
    assert ms.admins == (("gitee", "alice"), ("github", "bob"))
    assert ms.links == (
        Link("gitee", "mindspore", None, "mindspore"),
        Link("github", "acme", "widgets", "mindspore"),
    )
    assert [(a.agreement_id, a.title) for a in ms.policy.agreements] == [
        ("individual", "MindSpore Individual CLA"),
        ("corporate", "MindSpore Corporate CLA"),
    ]
    version = ms.policy.agreement("individual").versions[0]
    assert version.version == "2.0"
    assert version.text == (TEMPLATES / "agreements/individual-1.0.md").read_text()
    assert version.translations["zh"] == (TEMPLATES / "agreements/individual-1.0.zh.md").read_text()
    # both communities have an agreement called individual: separate agreements
    assert [(a.agreement_id, a.title) for a in ol.policy.agreements] == [
        ("individual", "Individual CLA")
    ]
    assert (ms.policy.ai_agents, ms.policy.corporate_employees) == ("require", "confirm")
    assert (ol.policy.ai_agents, ol.policy.corporate_employees) == ("allow", "domain")
    assert (ms.policy.check_committers, ol.policy.check_committers) == (False, True)
    table = communities.table()
    assert table.resolve("github", "acme/widgets") == "mindspore"  # the repository's link wins
    assert table.resolve("github", "acme/gadgets") == "openlookeng"  # over its owner's
    assert table.resolve("gitee", "MindSpore/models") == "mindspore"
    assert table.resolve("gitee", "openlookeng/hetu-core") == "openlookeng"
    assert table.resolve("gitee", "someone/else") == "openlookeng"  # the default


def test_a_community_takes_what_it_leaves_out_from_cla(tmp_path: Path) -> None:
    communities = load(tmp_path, TWO)
    ms, ol = communities.communities
    # openlookeng sets no policy key but check_committers: all of cla's
    assert ol.policy.required_agreement == "individual"
    assert ol.policy.report.label_covered == "cla/signed"
    assert ol.policy.co_authors == "warn"
    assert ol.policy.allowlist.logins == ("ci-*",)
    assert ol.privacy_url == ol.policy.privacy_url == "https://deploy.example/privacy"
    assert (ol.name, ol.languages, ol.admins) == ("openLooKeng", ("en",), ())
    # an entry's report replaces the whole of cla.report (shallow)
    assert ms.policy.report.status_context == "mindspore-cla"
    assert ms.policy.report.label_covered == "cla/yes"
    assert ms.policy.co_authors == "warn"
    # the deployment-wide keys are cla's in every community
    for c in (ms, ol):
        assert c.policy.worker.concurrency == 7
        assert c.policy.retention.pending_days == 30
        assert c.policy.reconcile.sweep_interval_s == 1800
        assert c.policy.gitee_timestamp_window_s == 600


def test_without_default_community_an_unlinked_repository_has_no_cla(tmp_path: Path) -> None:
    communities = load(tmp_path, TWO.replace("default_community: openlookeng\n", ""))
    assert communities.default is None
    assert communities.table().resolve("gitee", "someone/else") is None
    assert communities.table().resolve("github", "acme/widgets") == "mindspore"


def test_communities_need_no_cla_section(tmp_path: Path) -> None:
    text = f"""
communities:
  - id: solo
    agreements: {textwrap.indent(INDIVIDUAL, "  ")}
"""
    (solo,) = load(tmp_path, text).communities
    assert (solo.id, solo.name, solo.policy.required_agreement) == ("solo", "solo", "individual")
    assert solo.policy.worker.concurrency == 4  # the defaults
    assert solo.policy.privacy_url is None


# --- every bad value names its path -------------------------------------------------------------


def entries(*bodies: str, cla: str = CLA, tail: str = "") -> str:
    """A file of ``cla`` and one community per body (YAML flow mappings, braces left out)."""
    listed = "".join(f"  - {{{body}}}\n" for body in bodies)
    return f"{cla}\ncommunities:\n{listed}{tail}"


FLOW = "{id: individual, title: I, versions: [{version: '1', text: agreements/individual-1.0.md}]}"
OWN = f"agreements: [{FLOW}]"
MINI = (
    "agreements: [{id: a, title: A, versions: [{version: '1', text: agreements/corporate-1.0.md}]}]"
)


@pytest.mark.parametrize(
    ("text", "name", "says"),
    [
        (CLA + "communities: []\n", "app.yaml communities", "at least one"),
        (CLA + "communities: {id: x}\n", "app.yaml communities", "at least one"),
        (CLA + "communities: [x]\n", "app.yaml communities[0]", "mapping"),
        ("cla: [1]\ncommunities: [{id: a}]\n", "app.yaml cla", "mapping"),
        (entries("name: A"), "app.yaml communities[0].id", "slug"),
        (entries("id: Mind_Spore"), "app.yaml communities[0].id", "slug"),
        (entries("id: -x"), "app.yaml communities[0].id", "slug"),
        (entries("id: " + "a" * 64), "app.yaml communities[0].id", "slug"),
        (entries("id: 12"), "app.yaml communities[0].id", "slug"),
        (entries("id: a", "id: b", "id: a"), "app.yaml communities[2].id", "duplicate"),
        (entries("id: a", tail="default_community: b\n"), "app.yaml default_community", "'b'"),
        (entries("id: a", tail="default_community: [a]\n"), "app.yaml default_community", "id"),
        (entries("id: a, name: ''"), "app.yaml communities[0].name", "non-empty"),
        (entries("id: a, name: [x]"), "app.yaml communities[0].name", "non-empty"),
        (entries("id: a, labels: {}"), "app.yaml communities[0].labels", "unknown key"),
        (entries("id: a, worker: {}"), "app.yaml communities[0].worker", "cla.worker"),
        (entries("id: a, retention: {}"), "app.yaml communities[0].retention", "cla.retention"),
        (entries("id: a, reconcile: {}"), "app.yaml communities[0].reconcile", "cla.reconcile"),
        (
            entries("id: a, gitee_timestamp_window_s: 60"),
            "app.yaml communities[0].gitee_timestamp_window_s",
            "whole deployment",
        ),
        # links
        (entries("id: a, links: 'github:acme'"), "app.yaml communities[0].links", "list"),
        (entries("id: a, links: [3]"), "app.yaml communities[0].links[0]", "string"),
        (entries("id: a, links: ['gitlab:acme']"), "app.yaml communities[0].links[0]", "forge"),
        (
            entries("id: a, links: ['github:acme', 'github:acme/w/x']"),
            "app.yaml communities[0].links[1]",
            "more than one '/'",
        ),
        (entries("id: a, links: ['acme']"), "app.yaml communities[0].links[0]", "no forge"),
        (entries("id: a, links: ['github:a b']"), "app.yaml communities[0].links[0]", "spaces"),
        (
            entries("id: a, links: ['github:acme', 'github:ACME']"),
            "app.yaml communities[0].links[1]",
            "already linked at communities[0].links[0]",
        ),
        (
            entries(
                "id: a, links: ['gitee:x', 'github:acme/w']", "id: b, links: ['github:Acme/W']"
            ),
            "app.yaml communities[1].links[0]",
            "github:acme/w is already linked at communities[0].links[1]",
        ),
        # admins
        (entries("id: a, admins: ['gitlab:al']"), "app.yaml communities[0].admins[0]", "forge"),
        (entries("id: a, admins: ['github:acme/x']"), "app.yaml communities[0].admins[0]", "'/'"),
        (entries("id: a, admins: [':al']"), "app.yaml communities[0].admins[0]", "empty forge"),
        (
            entries("id: a, admins: ['github:Al', 'github:al']"),
            "app.yaml communities[0].admins[1]",
            "twice",
        ),
        # languages
        (entries("id: a, languages: [fr]"), "app.yaml communities[0].languages[0]", "'fr'"),
        (entries("id: a, languages: []"), "app.yaml communities[0].languages", "at least one"),
        (entries("id: a, languages: en"), "app.yaml communities[0].languages", "list"),
        (
            entries("id: a, languages: [en, zh, en]"),
            "app.yaml communities[0].languages[2]",
            "twice",
        ),
        (entries("id: login"), "app.yaml communities[0].id", "names a signing page"),
        (
            entries("id: a, agreements: [" + FLOW.replace("id: individual", "id: done") + "]"),
            "app.yaml communities[0].agreements[0].id",
            "names a signing page",
        ),
        # the policy
        (
            entries(f"id: a, {OWN}", f"id: b, agreements: [{FLOW}, {FLOW}]"),
            "app.yaml communities[1].agreements[1].id",
            "duplicate agreement id 'individual'",
        ),
        (
            entries(f"id: a, required_agreement: corp, {OWN}"),
            "app.yaml communities[0].required_agreement",
            "'corp'",
        ),
        (
            entries("id: a, required_agreement: corp"),  # against cla's agreements
            "app.yaml communities[0].required_agreement",
            "'corp'",
        ),
        (
            entries(f"id: a, {MINI}"),  # cla.required_agreement names none of them
            "app.yaml communities[0].required_agreement",
            "taken from cla.required_agreement",
        ),
        (
            entries("id: a", "id: b, report: {github: checks}"),
            "app.yaml communities[1].report.github",
            "status, check or both",
        ),
        (
            entries("id: a", cla=CLA.replace("label_missing: cla/unsigned", "github: checks")),
            "app.yaml cla.report.github",  # the value is cla's
            "status, check or both",
        ),
        (
            entries("id: a, agreements: []"),
            "app.yaml communities[0].agreements",
            "at least one",
        ),
        (
            entries("id: a", cla=""),  # no agreements anywhere
            "app.yaml communities[0].agreements",
            "at least one",
        ),
        (
            entries(f"id: a, {MINI.replace('corporate-1.0.md', 'missing.md')}"),
            "app.yaml communities[0].agreements[0].versions[0].text",
            "cannot read",
        ),
        (
            entries("id: a, privacy_url: ftp://x"),
            "app.yaml communities[0].privacy_url",
            "http(s)",
        ),
        (entries("id: a, allowlist: []"), "app.yaml communities[0].allowlist", "dict"),
        (
            entries("id: a", cla=CLA.replace("concurrency: 7", "concurrency: 0")),
            "app.yaml cla.worker.concurrency",
            "between 1 and 64",
        ),
    ],
)
def test_every_bad_value_names_its_path(tmp_path: Path, text: str, name: str, says: str) -> None:
    exc = error(tmp_path, text)
    assert exc.name == name
    assert says in exc.problem


def test_the_line_names_the_community_path(tmp_path: Path) -> None:
    exc = error(tmp_path, entries("id: a, co_authors: maybe"))
    assert str(exc) == "app.yaml communities[0].co_authors: must be require, warn or ignore"


# --- the keys and the floor ---------------------------------------------------------------------


def test_every_key_of_the_stock_cla_section_is_placed() -> None:
    """A key added to ``cla:`` is either a community's or the deployment's."""
    raw = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    assert set(raw["cla"]) <= set(POLICY_KEYS) | set(DEPLOYMENT_KEYS)
    assert not set(POLICY_KEYS) & set(DEPLOYMENT_KEYS)
    assert not set(COMMUNITY_KEYS) & (set(POLICY_KEYS) | set(DEPLOYMENT_KEYS))


def test_communities_sit_on_the_policys_floor() -> None:
    """bot.communities imports nothing bot.policy could not (platforms, settings and above)."""
    source = (ROOT / "bot" / "communities.py").read_text(encoding="utf-8")
    assert upward_imports(source, "bot.policy") == []
    assert upward_imports("from bot.settings import LANGUAGES\n", "bot.policy") != []


# --- Communities itself -------------------------------------------------------------------------


def test_communities_refuse_what_the_loader_never_builds(tmp_path: Path) -> None:
    one = load(tmp_path, TWO).communities[0]
    with pytest.raises(ValueError, match="unique"):
        Communities((one, one), None)
    with pytest.raises(ValueError, match="'other' is not declared"):
        Communities((one,), "other")
    stray = Link("github", "x", None, "elsewhere")
    with pytest.raises(ValueError, match="another community's link"):
        Communities((Community(**{**_fields(one), "links": (stray,)}),), None)


def _fields(c: Community) -> dict[str, Any]:
    return {name: getattr(c, name) for name in Community.__dataclass_fields__}
