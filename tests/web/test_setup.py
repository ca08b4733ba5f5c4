"""``/setup``: the GitHub App manifest flow against the fake GitHub (its registration page and
``POST /app-manifests/{code}/conversions``), the state checks, the files it writes, and the
Gitee page."""

from __future__ import annotations

import html
import json
import logging
import os
import re
import stat
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import update

from bot import settings
from bot.errors import SettingsError
from bot.platforms.github import setup as github_setup
from bot.platforms.github.settings import GitHubAppSettings, read_github_app_env
from bot.platforms.github.setup_credentials import AppCredentials, write_app_files
from bot.sandbox.fakeforge.gitee import FakeGitee
from bot.sandbox.fakeforge.github import FakeGitHub
from bot.storage.models import OAuthState, utcnow
from bot.web import setup as setup_pages
from bot.web.app import create_app
from bot.web.keys import SESSIONS

PUBLIC = "http://cla.test"


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub() as fake:
        yield fake
    assert fake.violations == [], "requests outside GitHub's OpenAPI description"


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def setup_env(
    github: FakeGitHub, make_env: Callable[..., dict[str, str]], sqlite_url: str
) -> Callable[..., dict[str, str]]:
    def env(**extra: str) -> dict[str, str]:
        return make_env(
            sqlite_url,
            CLA_PUBLIC_URL=PUBLIC,
            CLA_GITHUB_URL=github.web_url,
            CLA_GITHUB_API_URL=github.url,
            **extra,
        )

    return env


async def _client(aiohttp_client: Any, env: dict[str, str], cwd: Path) -> Any:
    conf = settings.load(env, cwd=cwd)
    app = create_app(conf, run_worker=False)
    setup_pages.setup(app, conf)  # the hook create_app carries (idempotent)
    return await aiohttp_client(app)


@pytest.fixture
async def client(
    aiohttp_client: Any, setup_env: Callable[..., dict[str, str]], tmp_path: Path
) -> Any:
    return await _client(aiohttp_client, setup_env(), tmp_path)


def _app(conf: settings.Settings) -> GitHubAppSettings:
    """The configured GitHub App of ``conf``."""
    app = conf.configured("github")
    assert isinstance(app, GitHubAppSettings)
    return app


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, page
    return m.group(1)


async def _start(client: Any, *, mode: str = "file", org: str = "", name: str = "acme-cla") -> str:
    """GET /setup and POST its form: the page that posts the manifest to GitHub."""
    index = await client.get("/setup")
    assert index.status == 200
    page = await index.text()
    resp = await client.post(
        "/setup/github",
        data={"csrf": _csrf(page), "name": name, "org": org, "mode": mode},
    )
    assert resp.status == 200, await resp.text()
    return str(await resp.text())


def _form(page: str) -> tuple[str, str]:
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    manifest = re.search(r'name="manifest" value="([^"]*)"', page)
    assert action and manifest, page
    return html.unescape(action.group(1)), html.unescape(manifest.group(1))


async def _github_redirect(action: str, manifest: str) -> str:
    """What a browser does on GitHub's page: post the manifest, follow the redirect back."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.post(action, data={"manifest": manifest}, allow_redirects=False) as resp,
    ):
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
    assert location.startswith(PUBLIC + "/setup/github/callback?"), location
    return location[len(PUBLIC) :]


# -- the manifest ---------------------------------------------------------------------------------


async def test_the_manifest_is_app_yaml_with_the_public_urls(
    client: Any, github: FakeGitHub
) -> None:
    page = await _start(client, name="acme-cla")
    action, raw = _form(page)
    assert action.startswith(github.web_url + "/settings/apps/new?state=")
    state = parse_qs(urlsplit(action).query)["state"][0]
    assert len(state) == 43  # 256 bits, URL-safe base64
    manifest = json.loads(raw)
    conf = client.server.app[setup_pages.SETUP].settings
    assert manifest["name"] == "acme-cla"
    assert manifest["hook_attributes"] == {"url": PUBLIC + "/webhooks/github", "active": True}
    assert manifest["redirect_url"] == PUBLIC + "/setup/github/callback"
    assert manifest["callback_urls"] == [PUBLIC + "/sign/oauth/github/callback"]
    assert manifest["default_permissions"] == conf.manifest["default_permissions"]
    assert manifest["default_events"] == [
        "pull_request",
        "issue_comment",
        "merge_group",
        "check_run",
        "check_suite",
    ]
    assert manifest["default_permissions"]["checks"] == "write"
    assert "cla" not in manifest
    assert "{public_url}" not in raw
    # The page may post to GitHub, and only there.
    csp = (await client.get("/setup")).headers["Content-Security-Policy"]
    assert "form-action 'self';" in csp


async def test_an_organisation_registers_under_it(client: Any, github: FakeGitHub) -> None:
    action, _ = _form(await _start(client, org="acme"))
    assert action.startswith(github.web_url + "/organizations/acme/settings/apps/new?state=")


async def test_the_review_page_allows_posting_to_github_only(
    client: Any, github: FakeGitHub
) -> None:
    index = await client.get("/setup")
    resp = await client.post(
        "/setup/github",
        data={"csrf": _csrf(await index.text()), "name": "x", "org": "", "mode": "file"},
    )
    csp = resp.headers["Content-Security-Policy"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(github.web_url))
    assert f"form-action 'self' {origin};" in csp
    assert resp.headers["Cache-Control"] == "no-store"


async def test_bad_form_values_are_named(client: Any) -> None:
    index = await client.get("/setup")
    resp = await client.post(
        "/setup/github",
        data={"csrf": _csrf(await index.text()), "name": "", "org": "no/such", "mode": "mail"},
    )
    assert resp.status == 400
    page = await resp.text()
    assert "Give the App a name" in page
    assert "letters, digits and hyphens" in page
    assert "Choose where the credentials go" in page


async def test_the_form_needs_its_cookie(client: Any) -> None:
    index = await client.get("/setup")
    token = _csrf(await index.text())
    client.session.cookie_jar.clear()
    resp = await client.post(
        "/setup/github", data={"csrf": token, "name": "x", "org": "", "mode": "file"}
    )
    assert resp.status == 403
    assert "cookie" in await resp.text()


# -- the whole flow -------------------------------------------------------------------------------


async def test_file_mode_writes_private_files_the_bot_then_reads(
    client: Any,
    github: FakeGitHub,
    setup_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    var_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    action, manifest = _form(await _start(client, mode="file"))
    callback = await _github_redirect(action, manifest)
    done = await client.get(callback)
    page = await done.text()
    assert done.status == 200, page
    assert done.headers["Cache-Control"] == "no-store"
    assert 'id="written"' in page
    reg = next(iter(github.manifest_apps.values()))
    assert reg.converted and reg.manifest == json.loads(manifest)
    install = re.search(r'id="install" href="([^"]+)"', page)
    assert install and install.group(1) == f"{github.web_url}/apps/{reg.slug}/installations/new"
    assert "make run" in page  # the restart instruction

    env_file = var_dir / "github-app.env"
    pem_file = var_dir / "github-app.pem"
    for path in (env_file, pem_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = read_github_app_env(env_file)
    assert values["CLA_GITHUB_APP_ID"] == str(reg.app_id)
    assert values["CLA_GITHUB_PRIVATE_KEY_PATH"] == str(pem_file.absolute())
    assert "PRIVATE KEY-----" in pem_file.read_text()
    # GHES-style custom URLs are kept with the App they belong to.
    assert values["CLA_GITHUB_URL"] == github.web_url
    assert values["CLA_GITHUB_API_URL"] == github.url
    # Shown nowhere and logged nowhere.
    for secret in (values["CLA_GITHUB_WEBHOOK_SECRET"], values["CLA_GITHUB_CLIENT_SECRET"]):
        assert secret not in page
        assert secret not in caplog.text
    assert "PRIVATE KEY" not in page and "PRIVATE KEY" not in caplog.text

    # The next start-up reads the file: GitHub is configured, /setup is off.
    app = _app(settings.load(setup_env(), cwd=tmp_path))
    assert app.app_id == str(reg.app_id)
    assert app.client_id == values["CLA_GITHUB_CLIENT_ID"]
    assert app.webhook_secret == values["CLA_GITHUB_WEBHOOK_SECRET"]

    # Replaying GitHub's redirect is refused (single use), and nothing is rewritten.
    again = await client.get(callback)
    assert again.status == 400
    assert "already used" in await again.text()


async def test_the_public_url_is_saved_with_the_app(
    client: Any,
    github: FakeGitHub,
    setup_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    var_dir: Path,
) -> None:
    """The App's webhook and callbacks point at CLA_PUBLIC_URL: after the restart the README
    asks for, the bot must keep posting links there even when the variable is gone."""
    action, manifest = _form(await _start(client, mode="file"))
    assert (await client.get(await _github_redirect(action, manifest))).status == 200
    values = read_github_app_env(var_dir / "github-app.env")
    assert values["CLA_PUBLIC_URL"] == PUBLIC
    restarted = setup_env()
    del restarted["CLA_PUBLIC_URL"]
    conf = settings.load(restarted, cwd=tmp_path)
    assert conf.public_url == PUBLIC
    assert conf.configured("github") is not None
    # The environment still wins.
    conf = settings.load(restarted | {"CLA_PUBLIC_URL": "https://cla.example.net"}, cwd=tmp_path)
    assert conf.public_url == "https://cla.example.net"


async def test_show_mode_writes_nothing_and_shows_everything_once(
    client: Any, github: FakeGitHub, var_dir: Path
) -> None:
    action, manifest = _form(await _start(client, mode="show"))
    done = await client.get(await _github_redirect(action, manifest))
    page = html.unescape(await done.text())
    assert done.status == 200
    assert 'id="shown-once"' in page
    assert not (var_dir / "github-app.env").exists()
    assert not (var_dir / "github-app.pem").exists()
    for name in (
        "CLA_GITHUB_APP_ID",
        "CLA_GITHUB_WEBHOOK_SECRET",
        "CLA_GITHUB_CLIENT_ID",
        "CLA_GITHUB_CLIENT_SECRET",
    ):
        assert name in page
    assert f"<td><code>CLA_PUBLIC_URL</code></td><td><code>{PUBLIC}</code></td>" in page
    assert "-----BEGIN RSA PRIVATE KEY-----" in page
    assert done.headers["Cache-Control"] == "no-store"


async def test_an_existing_file_is_never_overwritten(
    client: Any, github: FakeGitHub, var_dir: Path
) -> None:
    action, manifest = _form(await _start(client, mode="file"))
    _write(var_dir / "github-app.pem", "mine")
    done = await client.get(await _github_redirect(action, manifest))
    page = html.unescape(await done.text())
    assert done.status == 200
    assert "could not be saved" in page and "already exists" in page
    assert 'id="shown-once"' in page  # the one-time code is not lost
    assert (var_dir / "github-app.pem").read_text() == "mine"
    assert not (var_dir / "github-app.env").exists()


async def test_a_saved_app_waits_for_a_restart(client: Any, var_dir: Path) -> None:
    _write(var_dir / "github-app.env", "")
    page = await (await client.get("/setup")).text()
    assert 'id="saved"' in page
    assert 'action="/setup/github"' not in page


# -- state checks ---------------------------------------------------------------------------------


async def test_a_tampered_state_is_refused(client: Any, github: FakeGitHub) -> None:
    action, manifest = _form(await _start(client))
    callback = await _github_redirect(action, manifest)
    tampered = re.sub(r"state=([^&]+)", lambda m: "state=" + m.group(1)[:-2] + "xx", callback)
    resp = await client.get(tampered)
    assert resp.status == 400
    assert not github.manifest_apps[next(iter(github.manifest_apps))].converted


async def test_a_state_from_another_browser_is_refused(client: Any, github: FakeGitHub) -> None:
    action, manifest = _form(await _start(client))
    callback = await _github_redirect(action, manifest)
    client.session.cookie_jar.clear()  # another browser: no setup cookie
    resp = await client.get(callback)
    assert resp.status == 400
    assert "another browser" in await resp.text()


async def test_a_state_older_than_an_hour_is_refused(client: Any, github: FakeGitHub) -> None:
    action, manifest = _form(await _start(client))
    callback = await _github_redirect(action, manifest)
    async with client.server.app[SESSIONS]() as s, s.begin():
        await s.execute(
            update(OAuthState)
            .where(OAuthState.platform == "setup")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    resp = await client.get(callback)
    assert resp.status == 400


async def test_a_state_lives_one_hour(client: Any) -> None:
    await _start(client)
    async with client.server.app[SESSIONS]() as s:
        row = (await s.execute(OAuthState.__table__.select())).first()
    assert row is not None
    assert row.platform == "setup"
    lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1, seconds=5)


async def test_a_refused_code_says_what_to_do(client: Any, github: FakeGitHub) -> None:
    action, manifest = _form(await _start(client))
    callback = await _github_redirect(action, manifest)
    for reg in github.manifest_apps.values():
        reg.converted = True  # GitHub already used it
    resp = await client.get(callback)
    assert resp.status == 502
    text = await resp.text()
    assert "HTTP 404" in text and "within an" in text


async def test_a_cancelled_registration_has_no_code(client: Any) -> None:
    action, _ = _form(await _start(client))
    state = parse_qs(urlsplit(action).query)["state"][0]
    resp = await client.get(f"/setup/github/callback?state={state}")
    assert resp.status == 400
    assert "no code" in await resp.text()


# -- disabled once configured ---------------------------------------------------------------------


async def test_setup_is_disabled_once_github_is_configured(
    aiohttp_client: Any,
    setup_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    app_private_key_pem: str,
) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text(app_private_key_pem)
    env = setup_env(
        CLA_GITHUB_APP_ID="77",
        CLA_GITHUB_PRIVATE_KEY_PATH=str(pem),
        CLA_GITHUB_WEBHOOK_SECRET="0123456789abcdef0123",
    )
    client = await _client(aiohttp_client, env, tmp_path)
    for method, path in (
        ("GET", "/setup"),
        ("POST", "/setup/github"),
        ("GET", "/setup/github/callback?code=abc&state=def"),
    ):
        resp = await client.request(method, path)
        assert resp.status == 404, path
        assert "Setup is disabled" in await resp.text()


# -- var/github-app.env at start-up ---------------------------------------------------------------


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def test_the_environment_wins_over_the_file(
    setup_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    var_dir: Path,
    app_private_key_pem: str,
) -> None:
    pem = tmp_path / "file.pem"
    pem.write_text(app_private_key_pem)
    _write(
        var_dir / "github-app.env",
        "# comment\n"
        "CLA_GITHUB_APP_ID=11\n"
        f'export CLA_GITHUB_PRIVATE_KEY_PATH="{pem}"\n'
        "CLA_GITHUB_WEBHOOK_SECRET='from-the-file-0123456789'\n",
    )
    app = _app(settings.load(setup_env(), cwd=tmp_path))
    assert app.app_id == "11"
    assert app.webhook_secret == "from-the-file-0123456789"
    conf = settings.load(
        setup_env(
            CLA_GITHUB_APP_ID="22",
            CLA_GITHUB_PRIVATE_KEY=app_private_key_pem,  # replaces the file's key path
        ),
        cwd=tmp_path,
    )
    app = _app(conf)
    assert app.app_id == "22"
    assert app.webhook_secret == "from-the-file-0123456789"


def test_a_readable_env_file_is_refused(
    setup_env: Callable[..., dict[str, str]], tmp_path: Path, var_dir: Path
) -> None:
    _write(var_dir / "github-app.env", "CLA_GITHUB_APP_ID=11\n", mode=0o644)
    with pytest.raises(SettingsError, match=r"0644 are wider than 0600 .*run chmod 600"):
        settings.load(setup_env(), cwd=tmp_path)


def test_only_github_variables_belong_in_the_file(
    setup_env: Callable[..., dict[str, str]], tmp_path: Path, var_dir: Path
) -> None:
    _write(var_dir / "github-app.env", "CLA_GITHUB_APP_ID=11\nCLA_DATABASE_URL=x\n")
    with pytest.raises(
        SettingsError, match=r"line 2: CLA_DATABASE_URL: only CLA_GITHUB_\* and CLA_PUBLIC_URL"
    ):
        settings.load(setup_env(), cwd=tmp_path)
    _write(var_dir / "github-app.env", "just words\n")
    with pytest.raises(SettingsError, match="line 1: expected NAME=value"):
        settings.load(setup_env(), cwd=tmp_path)


def test_env_values_that_need_quotes_round_trip(tmp_path: Path) -> None:
    creds = AppCredentials(
        app_id=5,
        slug="s",
        name="s",
        html_url="https://github.com/apps/s",
        client_id="Iv1.abc",
        pem="-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n",
        webhook_secret='we"ird $ec`ret\\ 0123456789',
        client_secret="c" * 40,
    )
    env_path, pem_path = write_app_files(tmp_path / "var dir", creds)
    values = read_github_app_env(env_path)
    assert values["CLA_GITHUB_WEBHOOK_SECRET"] == creds.webhook_secret
    assert values["CLA_GITHUB_PRIVATE_KEY_PATH"] == str(pem_path)
    assert creds.client_secret not in repr(creds) and "PRIVATE" not in repr(creds)
    with pytest.raises(FileExistsError):
        write_app_files(tmp_path / "var dir", creds)


# -- Gitee ----------------------------------------------------------------------------------------


async def test_gitee_page_without_a_token_explains_the_steps(client: Any) -> None:
    resp = await client.get("/setup/gitee")
    page = await resp.text()
    assert resp.status == 200
    assert "CLA_GITEE_TOKEN" in page and "not connected" in page
    assert f"{PUBLIC}/webhooks/gitee" in page
    assert "Pull Request" in page and "Comments" in page
    assert "16 bytes" in page
    zh = await (await client.get("/setup/gitee?lang=zh")).text()
    assert "签名密钥" in zh and "评论" in zh


@pytest.fixture
async def gitee() -> AsyncIterator[FakeGitee]:
    async with FakeGitee() as fake:
        yield fake


async def test_gitee_page_answers_404_once_gitee_is_configured(
    aiohttp_client: Any,
    setup_env: Callable[..., dict[str, str]],
    gitee: FakeGitee,
    tmp_path: Path,
) -> None:
    env = setup_env(
        CLA_GITEE_TOKEN=gitee.token,
        CLA_GITEE_WEBHOOK_SECRET=gitee.webhook_secret,
        CLA_GITEE_API_URL=gitee.url,
        CLA_GITEE_URL=gitee.origin,
    )
    client = await _client(aiohttp_client, env, tmp_path)
    for _ in range(3):
        resp = await client.get("/setup/gitee")
        page = await resp.text()
        assert resp.status == 404
        assert "Gitee is already connected" in page and gitee.token not in page
    index = await (await client.get("/setup")).text()
    assert "Gitee is connected." in index and 'href="/setup/gitee"' not in index
    assert gitee.count("GET", "/user") == 0  # no page asks Gitee anything


@pytest.mark.parametrize(("mode", "checks"), [("status", False), ("check", True), ("both", True)])
def test_the_manifest_asks_for_checks_only_for_check_runs(
    setup_env: Callable[..., dict[str, str]], tmp_path: Path, mode: str, checks: bool
) -> None:
    app_yaml = (Path(__file__).resolve().parents[2] / "app.yaml").read_text(encoding="utf-8")
    assert "    github: both\n" in app_yaml
    config = tmp_path / "app.yaml"
    config.write_text(app_yaml.replace("    github: both\n", f"    github: {mode}\n"))
    conf = settings.load(setup_env(CLA_CONFIG=str(config)), cwd=tmp_path)
    manifest = github_setup.build_manifest(
        conf.manifest, public_url=conf.public_url, check_runs=conf.policy.report.check_runs
    )
    base = ["pull_request", "issue_comment", "merge_group"]
    assert manifest["default_events"] == base + (["check_run", "check_suite"] if checks else [])
    assert ("checks" in manifest["default_permissions"]) is checks
    assert manifest["default_permissions"].get("checks") == ("write" if checks else None)
    others = {k: v for k, v in manifest["default_permissions"].items() if k != "checks"}
    assert others == {
        "metadata": "read",
        "contents": "read",
        "pull_requests": "write",
        "issues": "write",
        "statuses": "write",
        "merge_queues": "read",
        "email_addresses": "read",
        "members": "read",
    }


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/setup/nosuchforge", 404),
        ("POST", "/setup/nosuchforge", 404),
        ("GET", "/setup/nosuchforge/callback", 404),
        ("GET", "/setup/github", 405),  # its start form is on /setup
        ("POST", "/setup/gitee", 405),  # a page to read, no flow to start
        ("GET", "/setup/gitee/callback?code=c&state=s", 404),
    ],
)
async def test_setup_steps_a_forge_lacks_are_refused(
    client: Any, method: str, path: str, status: int
) -> None:
    resp = await client.request(method, path, data={"csrf": "x"} if method == "POST" else None)
    assert resp.status == status
    async with client.server.app[SESSIONS]() as s:
        assert (await s.execute(OAuthState.__table__.select())).first() is None


@pytest.mark.parametrize(("sent", "status"), [("è" * 40, 403), ("é" * 40, 200)])
async def test_a_form_token_that_is_not_ascii_is_compared_not_a_crash(
    client: Any, sent: str, status: int
) -> None:
    """The double submit holds for any token the browser sends back: a mismatch is refused."""
    resp = await client.post(
        "/setup/github",
        data={"csrf": sent, "name": "x", "org": "", "mode": "file"},
        headers={"Cookie": "cla_setup=" + "é" * 40},
    )
    assert resp.status == status
