"""GitHub's part of ``/setup`` without HTTP: where the manifest is posted, what it forces, and
the start form's checks (the whole flow runs against the fake GitHub in
``tests/web/test_setup.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.platforms.base import ForgeConfig, SetupContext
from bot.platforms.github.setup import ManifestFlow, build_manifest, new_app_url
from bot.policy import Policy
from bot.settings import bundled, load_config_file

PUBLIC = "https://cla.example.org"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_config_file(bundled("app.yaml"), bundled("templates"))[1]


def _ctx(tmp_path: Path, policy: Policy) -> SetupContext:
    return SetupContext(
        public_url=PUBLIC,
        var_dir=tmp_path,
        manifest={"name": "cla-bot"},
        policy=policy,
        forge=ForgeConfig(web_url="https://github.com", api_url="https://api.github.com"),
        index_open=True,
    )


@pytest.mark.parametrize(
    ("org", "expected"),
    [
        (None, "https://ghe.example/settings/apps/new?state=s%2Bt"),
        ("acme", "https://ghe.example/organizations/acme/settings/apps/new?state=s%2Bt"),
    ],
)
def test_the_manifest_is_posted_to_the_account_or_the_organisation(
    org: str | None, expected: str
) -> None:
    assert new_app_url("https://ghe.example/", org=org, state="s+t") == expected


def test_the_bots_own_urls_are_forced() -> None:
    manifest = build_manifest(
        {"name": "x", "url": "{public_url}/about", "hook_attributes": {"url": "elsewhere"}},
        public_url=PUBLIC + "/",
        check_runs=False,
        name="acme-cla",
    )
    assert manifest == {
        "name": "acme-cla",
        "url": PUBLIC + "/about",
        "hook_attributes": {"url": PUBLIC + "/webhooks/github", "active": True},
        "redirect_url": PUBLIC + "/setup/github/callback",
        "callback_urls": [PUBLIC + "/sign/oauth/github/callback"],
        "default_permissions": {},
        "default_events": [],
    }


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"name": " acme-cla ", "org": "acme", "mode": "show"}, ("show", {})),
        ({"name": "acme-cla"}, ("file", {})),
        ({"name": "", "mode": "file"}, ("file", {"name": "setup_err_name"})),
        ({"name": "x" * 35, "mode": "file"}, ("file", {"name": "setup_err_name"})),
        (
            {"name": "x", "org": "no/such", "mode": "mail"},
            ("mail", {"org": "setup_err_org", "mode": "setup_err_mode"}),
        ),
    ],
)
def test_the_start_form_is_checked(
    tmp_path: Path, policy: Policy, form: dict[str, str], expected: tuple[str, dict[str, str]]
) -> None:
    assert ManifestFlow().check(_ctx(tmp_path, policy), form) == expected


def test_a_saved_app_file_refuses_file_mode(tmp_path: Path, policy: Policy) -> None:
    (tmp_path / "github-app.env").write_text("")
    ctx = _ctx(tmp_path, policy)
    assert ManifestFlow().check(ctx, {"name": "x", "mode": "file"}) == (
        "file",
        {"mode": "setup_err_exists"},
    )
    assert ManifestFlow().check(ctx, {"name": "x", "mode": "show"}) == ("show", {})
