"""The sandbox forge: GitHub's API as the bot's own client uses it, its OAuth web flow, the
webhooks it signs, its pages — and the whole demo (sandbox + bot) over plain HTTP."""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli.demo import add_parsers
from bot.core.model import RepoRef, StatusState
from bot.platforms.github import routing
from bot.platforms.github.auth import make_app_jwt
from bot.platforms.github.client import GitHubPlatform, GitHubSettings
from bot.platforms.github.facts import GITHUB
from bot.platforms.github.webhooks import verify_github_signature
from bot.platforms.oauth import code_challenge
from bot.sandbox import Sandbox
from bot.sandbox.demo import Demo, demo_env, run_demo, start_demo
from bot.sandbox.ui import Renderer
from bot.sandbox.world import SCENARIOS

WIDGETS = RepoRef(GITHUB, "sandbox-org", "widgets")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sb:
        yield sb


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _until(predicate: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _scenario(key: str) -> Any:
    return next(s for s in SCENARIOS if s.key == key)


# -- the API, through the bot's own GitHub client --------------------------------------------------


async def test_the_bots_client_works_against_the_sandbox(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    world = sandbox.world
    pr = world.open_pull(world.repo("sandbox-org/widgets"), _scenario("coauthored"), "T")  # type: ignore[arg-type]
    platform = GitHubPlatform(
        session=http,
        settings=GitHubSettings(
            app_id=str(sandbox.app_id), private_key=sandbox.private_pem, api_url=sandbox.api_url
        ),
    )
    client = platform.client(world.installation_id)

    got = await client.get_pull(WIDGETS, pr.number)
    assert got.head_sha == pr.head_sha and got.author is not None
    assert got.author.login == "alan" and got.commit_count == 1
    commits = await client.list_commits(got)
    assert commits[-1].sha == pr.head_sha
    assert commits[0].author_account is not None and commits[0].author_account.login == "alan"
    assert "Co-authored-by: Katherine Johnson" in commits[0].message

    await client.set_status(
        WIDGETS,
        pr.head_sha,
        state=StatusState.FAILURE,
        description="1 contributor must sign",
        context="cla",
        target_url="http://bot/sign",
    )
    assert [s.state for s in world.combined(pr)] == ["failure"]

    await client.add_labels(WIDGETS, pr.number, ["cla/no"])
    await client.remove_label(WIDGETS, pr.number, "cla/no")  # a slash in the path
    await client.remove_label(WIDGETS, pr.number, "cla/yes")  # absent: fine
    await client.add_labels(WIDGETS, pr.number, ["cla/yes"])
    assert pr.labels == ["cla/yes"]

    comment_id = await client.create_comment(WIDGETS, pr.number, "<!-- cla-bot -->\nhello")
    found = await client.find_comment(WIDGETS, pr.number, "<!-- cla-bot -->")
    assert found is not None and found.comment_id == comment_id
    await client.edit_comment(WIDGETS, comment_id, "<!-- cla-bot -->\nedited")
    again = await client.get_comment(WIDGETS, comment_id)
    assert again is not None and again.body.endswith("edited")

    assert await client.get_permission(WIDGETS, "mona") == "admin"
    assert await client.get_permission(WIDGETS, "ada") == "read"
    assert await client.get_permission(WIDGETS, "nobody-here") == "none"


async def test_the_api_wants_the_apps_jwt_and_tokens(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.api_url}/app/installations/1/access_tokens"
    other = make_app_jwt(app_id="999", private_key=sandbox.private_pem, now=time.time())
    async with http.post(url, headers={"Authorization": f"Bearer {other}"}) as resp:
        assert resp.status == 401
    forged = jwt.encode({"iss": "1", "iat": 1, "exp": 2}, "x" * 32, algorithm="HS256")
    async with http.post(url, headers={"Authorization": f"Bearer {forged}"}) as resp:
        assert resp.status == 401
    async with http.get(f"{sandbox.api_url}/repos/sandbox-org/widgets/pulls/1") as resp:
        assert resp.status == 401
        assert (await resp.json())["message"] == "Requires authentication"
    async with http.get(f"{sandbox.api_url}/no/such/route") as resp:
        assert resp.status == 404


async def test_hook_deliveries_can_be_listed_and_redelivered(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    received: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(request.headers["X-GitHub-Delivery"])
        return web.json_response({"message": "accepted"}, status=202 if len(received) > 1 else 503)

    async with _receiver(hook) as url:
        sandbox.connect(url)
        world = sandbox.world
        pr = world.open_pull(world.repo("sandbox-org/docs"), _scenario("linked"), "T")  # type: ignore[arg-type]
        d = await sandbox.deliver("pull_request", {"action": "opened"}, what=f"#{pr.number}")
        assert d.status_code == 503 and not d.ok
        token = make_app_jwt(app_id="1", private_key=sandbox.private_pem, now=time.time())
        auth = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{sandbox.api_url}/app/hook/deliveries", headers=auth) as resp:
            items = await resp.json()
        assert [(i["guid"], i["status_code"]) for i in items] == [(d.guid, 503)]
        attempts = f"{sandbox.api_url}/app/hook/deliveries/{d.id}/attempts"
        async with http.post(attempts, headers=auth) as resp:
            assert resp.status == 202
        await _until(lambda: len(received) == 2, "the redelivery")
        assert received == [d.guid, d.guid]
        await _until(lambda: len(world.deliveries) == 2 and world.deliveries[1].ok, "its result")
        assert world.deliveries[1].redelivery


# -- webhooks --------------------------------------------------------------------------------------


class _receiver:
    """A stand-in for the bot's webhook endpoint."""

    def __init__(self, handler: Callable[[web.Request], Any]) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/github", handler)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    async def __aenter__(self) -> str:
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()


async def test_the_sandbox_signs_webhooks_the_bot_routes(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    seen: list[tuple[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        assert request.content_type == "application/json"
        assert verify_github_signature(
            sandbox.webhook_secret, body, request.headers.get("X-Hub-Signature-256")
        )
        assert request.headers["X-GitHub-Delivery"]
        event = request.headers["X-GitHub-Event"]
        seen.append((event, routing.route(event, json.loads(body))))
        return web.json_response({"message": "accepted"}, status=202)

    async with _receiver(hook) as url:
        sandbox.connect(url)
        form = {"repo": "sandbox-org/widgets", "scenario": "linked", "title": "Docs"}
        async with http.post(f"{sandbox.url}/-/pulls", data=form, allow_redirects=False) as resp:
            assert resp.status == 303
            assert resp.headers["Location"] == "/sandbox-org/widgets/pull/1"
        page = f"{sandbox.url}/sandbox-org/widgets/pull/1"
        async with http.post(f"{page}/commits", data={"scenario": "unlinked"}) as resp:
            assert resp.status == 200
        async with http.post(f"{page}/comments", data={"user": "mona", "body": "/cla check"}):
            pass
    assert [e for e, _ in seen] == ["pull_request", "pull_request", "issue_comment"]
    opened, pushed, commented = (r for _, r in seen)
    assert isinstance(opened, routing.CheckJob) and opened.installation_id == 1
    assert isinstance(pushed, routing.CheckJob)
    assert opened.pull is not None and pushed.pull is not None
    assert opened.pull.head_sha != pushed.pull.head_sha
    assert isinstance(commented, routing.CommentJobs) and commented.check is not None
    assert all(d.ok for d in sandbox.world.deliveries)


async def test_an_unreachable_bot_is_shown_not_fatal(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    sandbox.connect(f"http://127.0.0.1:{closed_port}")
    form = {"repo": "sandbox-org/widgets", "scenario": "bot", "title": "Bump"}
    async with http.post(f"{sandbox.url}/-/pulls", data=form) as resp:
        assert resp.status == 200
    async with http.get(f"{sandbox.url}/") as resp:
        page = await resp.text()
    assert "could not reach" in page


# -- OAuth -----------------------------------------------------------------------------------------


async def test_oauth_web_flow_with_pkce(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.connect("http://bot.test")
    verifier = "v" * 50
    query = {
        "client_id": sandbox.client_id,
        "redirect_uri": "http://bot.test/sign/oauth/github/callback",
        "state": "s1",
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    async with http.get(f"{sandbox.url}/login/oauth/authorize", params=query) as resp:
        page = await resp.text()
        assert resp.status == 200
        assert resp.headers["Content-Security-Policy"].count("form-action 'self' http://bot.test")
    assert "Sign in to the sandbox" in page and "@katherine" in page
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert {k: html.unescape(v) for k, v in hidden.items()} == query
    async with http.post(
        f"{sandbox.url}/login/oauth/authorize",
        data={**query, "login": "grace"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 302
        back = urlsplit(resp.headers["Location"])
    params = parse_qs(back.query)
    assert back.path == "/sign/oauth/github/callback" and params["state"] == ["s1"]
    exchange = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "code": params["code"][0],
        "redirect_uri": query["redirect_uri"],
    }
    url = f"{sandbox.url}/login/oauth/access_token"
    async with http.post(url, data={**exchange, "code_verifier": "wrong"}) as resp:
        assert (await resp.json())["error"] == "bad_verification_code"
    async with http.post(
        f"{sandbox.url}/login/oauth/authorize",
        data={**query, "login": "grace"},
        allow_redirects=False,
    ) as resp:
        exchange["code"] = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    async with http.post(url, data={**exchange, "code_verifier": verifier}) as resp:
        token = (await resp.json())["access_token"]
    async with http.post(url, data={**exchange, "code_verifier": verifier}) as resp:
        assert (await resp.json())["error"] == "bad_verification_code"  # single use
    auth = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{sandbox.api_url}/user", headers=auth) as resp:
        assert (await resp.json())["login"] == "grace"
    async with http.get(f"{sandbox.api_url}/user/emails", headers=auth) as resp:
        assert await resp.json() == [
            {
                "email": "grace@sandbox.example",
                "primary": True,
                "verified": True,
                "visibility": "public",
            }
        ]


async def test_oauth_refuses_strangers(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.connect("http://bot.test")
    for query in (
        {"client_id": "other", "redirect_uri": "http://bot.test/sign/oauth/github/callback"},
        {"client_id": sandbox.client_id, "redirect_uri": "http://evil.test/callback"},
    ):
        async with http.get(f"{sandbox.url}/login/oauth/authorize", params=query) as resp:
            assert resp.status == 400
    url = f"{sandbox.url}/login/oauth/access_token"
    async with http.post(url, data={"client_id": sandbox.client_id, "client_secret": "x"}) as r:
        assert (await r.json())["error"] == "incorrect_client_credentials"


# -- pages -----------------------------------------------------------------------------------------


def test_comments_render_without_html_and_with_links() -> None:
    render = Renderer("http://127.0.0.1:9")
    out = render(
        "<!-- cla-bot -->\n**Sign** at http://127.0.0.1:8080/sign/individual?platform=github.\n\n"
        "<script>alert(1)</script> and [here](http://127.0.0.1:9/x)"
    )
    assert "cla-bot" not in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert (
        '<a href="http://127.0.0.1:8080/sign/individual?platform=github" target="_blank" '
        'rel="noopener noreferrer">' in out
    )
    assert "github</a>." in out  # the sentence's full stop is not part of the link
    assert '<a href="http://127.0.0.1:9/x">here</a>' in out  # the sandbox's own: same tab


async def test_pages_and_their_headers(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sandbox.url}/") as resp:
        page = await resp.text()
        csp = resp.headers["Content-Security-Policy"]
    assert "Open a pull request" in page and "sandbox-org/widgets" in page
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert '<script src="/-/sandbox.js"' in page
    async with http.get(f"{sandbox.url}/-/state.json") as resp:
        before = (await resp.json())["version"]
    sandbox.world.open_pull(sandbox.world.repo("sandbox-org/docs"), _scenario("bot"), "B")  # type: ignore[arg-type]
    async with http.get(f"{sandbox.url}/-/state.json") as resp:
        assert (await resp.json())["version"] > before
    async with http.get(f"{sandbox.url}/-/sandbox.js") as resp:
        assert "sandbox-version" in await resp.text()
    async with http.get(f"{sandbox.url}/sandbox-org/docs/pull/99") as resp:
        assert resp.status == 404


async def test_adding_an_email_links_earlier_commits(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    world = sandbox.world
    pr = world.open_pull(world.repo("sandbox-org/widgets"), _scenario("unlinked"), "T")  # type: ignore[arg-type]
    assert world.linked(pr.commits[0].author_email) is None
    async with http.get(f"{sandbox.url}/settings/emails", params={"login": "grace"}) as resp:
        assert 'value="grace@old-laptop.example"' in await resp.text()
    form = {"login": "grace", "email": "grace@old-laptop.example"}
    async with http.post(f"{sandbox.url}/settings/emails", data=form) as resp:
        assert "Added grace@old-laptop.example" in await resp.text()
    linked = world.linked(pr.commits[0].author_email)
    assert linked is not None and linked.login == "grace"
    async with http.post(
        f"{sandbox.url}/settings/emails", data={"login": "ada", "email": form["email"]}
    ) as resp:
        assert resp.status == 400  # one account per email


# -- the demo: sandbox + bot -----------------------------------------------------------------------


@pytest.fixture
async def demo(make_env: Callable[..., dict[str, str]], tmp_path: Path) -> AsyncIterator[Demo]:
    base = make_env("sqlite+aiosqlite:///ignored.db", CLA_GITEE_TOKEN="real-token")
    d = await start_demo(base, host="127.0.0.1", port=0, cwd=tmp_path)
    try:
        yield d
    finally:
        await d.close()


def test_demo_env_leaves_real_forges_out(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox._url = "http://127.0.0.1:9"  # not started: only its URLs are needed
    env = demo_env(
        {
            "CLA_GITHUB_PRIVATE_KEY_PATH": "/real.pem",
            "CLA_GITEE_TOKEN": "t",
            "CLA_LOG_LEVEL": "INFO",
        },
        sandbox,
        host="0.0.0.0",
        port=8080,
        cwd=tmp_path,
    )
    assert "CLA_GITHUB_PRIVATE_KEY_PATH" not in env and "CLA_GITEE_TOKEN" not in env
    assert env["CLA_DATABASE_URL"] == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'demo.db'}"
    assert env["CLA_PUBLIC_URL"] == "http://127.0.0.1:8080"
    assert env["CLA_GITHUB_API_URL"] == "http://127.0.0.1:9/api/v3"
    assert env["CLA_LOG_LEVEL"] == "INFO"


async def _sign_over_http(
    demo: Demo, http: aiohttp.ClientSession, login: str, *, stay: bool = False
) -> None:
    """What a browser does: bot login → sandbox picker → callback → form → sign (then sign
    out, unless ``stay``)."""
    bot, sb = demo.bot_url, demo.sandbox_url
    async with http.get(
        f"{bot}/sign/login/github?next=/sign/individual", allow_redirects=False
    ) as r:
        assert r.status == 302
        authorize = r.headers["Location"]
    assert authorize.startswith(sb + "/login/oauth/authorize?")
    async with http.get(authorize) as r:
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', await r.text()))
    form = {k: html.unescape(v) for k, v in hidden.items()} | {"login": login}
    async with http.post(f"{sb}/login/oauth/authorize", data=form) as r:
        assert r.status == 200 and str(r.url) == f"{bot}/sign/individual"
        page = await r.text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, page
    email = demo.sandbox.world.user(login).emails[0]
    async with http.post(
        f"{bot}/sign/individual",
        data={
            "csrf": csrf.group(1),
            "name": login.title(),
            "email": email,
            "accept": "yes",
            "privacy": "yes",
        },
    ) as r:
        assert r.status == 200 and r.url.path == "/sign/individual/done", await r.text()
    if stay:
        return
    async with http.post(f"{bot}/sign/logout", data={"csrf": csrf.group(1)}) as r:
        assert r.status == 200


async def test_the_demo_end_to_end_over_http(demo: Demo, http: aiohttp.ClientSession) -> None:
    world = demo.sandbox.world
    assert demo.settings.configured("gitee") is None
    assert demo.settings.database_url.endswith("/var/demo.db")
    form = {"repo": "sandbox-org/widgets", "scenario": "linked", "title": "Notes"}
    async with http.post(f"{demo.sandbox_url}/-/pulls", data=form) as resp:
        assert resp.status == 200
    pr = world.pull("sandbox-org/widgets", 1)
    assert pr is not None

    def state() -> str | None:
        statuses = world.combined(pr)
        return statuses[0].state if statuses else None

    await _until(lambda: state() == "failure" and bool(world.comments_of(pr)), "the bot's check")
    assert pr.labels == ["cla/no"]
    async with http.get(f"{demo.sandbox_url}/sandbox-org/widgets/pull/1") as resp:
        page = await resp.text()
    assert "CLA check: action needed" in page and "&lt;!-- cla-bot" not in page
    link = f"{demo.bot_url}/sign/individual?platform=github&amp;repo=sandbox-org%2Fwidgets&amp;pr=1"
    assert f'href="{link}" target="_blank"' in page

    await _sign_over_http(demo, http, "ada")
    await _until(lambda: state() == "success", "the PR to turn green by itself")
    assert pr.labels == ["cla/yes"]
    assert "All contributors are covered" in world.comments_of(pr)[0].body
    assert len(world.comments_of(pr)) == 1

    # A bot's PR passes at once, with no comment.
    form = {"repo": "sandbox-org/docs", "scenario": "bot", "title": "Bump"}
    async with http.post(f"{demo.sandbox_url}/-/pulls", data=form):
        pass
    bump = world.pull("sandbox-org/docs", 1)
    assert bump is not None
    await _until(lambda: any(s.state == "success" for s in world.combined(bump)), "the bot PR")
    assert world.comments_of(bump) == []


async def test_the_unlinked_and_co_authored_walkthroughs(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    world, sb = demo.sandbox.world, demo.sandbox_url
    for scenario in ("unlinked", "coauthored"):
        form = {"repo": "sandbox-org/widgets", "scenario": scenario, "title": scenario}
        async with http.post(f"{sb}/-/pulls", data=form):
            pass
    grace_pr, alan_pr = world.pull("sandbox-org/widgets", 1), world.pull("sandbox-org/widgets", 2)
    assert grace_pr is not None and alan_pr is not None

    def state(pr: Any) -> str | None:
        statuses = world.combined(pr)
        return statuses[0].state if statuses else None

    await _until(lambda: state(grace_pr) == "failure" and state(alan_pr) == "failure", "checks")
    note = world.comments_of(grace_pr)[0].body
    assert grace_pr.head_sha[:7] in note and f"{sb}/settings/emails" in note

    # grace links the email, signs, and asks for a re-check.
    async with http.post(
        f"{sb}/settings/emails", data={"login": "grace", "email": "grace@old-laptop.example"}
    ):
        pass
    await _sign_over_http(demo, http, "grace")
    async with http.post(
        f"{sb}/sandbox-org/widgets/pull/1/comments", data={"user": "grace", "body": "/cla check"}
    ):
        pass
    await _until(lambda: state(grace_pr) == "success", "grace's PR green")

    # alan signing is not enough: katherine co-authored.
    await _sign_over_http(demo, http, "alan")
    await asyncio.sleep(0.5)
    assert state(alan_pr) == "failure"
    await _sign_over_http(demo, http, "katherine")
    await _until(lambda: state(alan_pr) == "success", "alan's PR green")


async def test_each_demo_starts_afresh(
    make_env: Callable[..., dict[str, str]], tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """The sandbox forgets its pull requests when it stops: the bot's records of them (and the
    signatures made on them) must go too, or the walk-through cannot be repeated."""
    from sqlalchemy import func, select

    from bot.storage.models import PrCheck, Signature
    from bot.web.app import RUNTIME

    async def counts(demo: Demo) -> tuple[int, int]:
        async with demo.app[RUNTIME].sessions() as s:
            signatures = await s.scalar(select(func.count()).select_from(Signature))
            checks = await s.scalar(select(func.count()).select_from(PrCheck))
        return int(signatures or 0), int(checks or 0)

    base = make_env("sqlite+aiosqlite:///ignored.db")
    first = await start_demo(base, host="127.0.0.1", port=0, cwd=tmp_path)
    try:
        form = {"repo": "sandbox-org/widgets", "scenario": "linked", "title": "Notes"}
        async with http.post(f"{first.sandbox_url}/-/pulls", data=form) as resp:
            assert resp.status == 200
        pr = first.sandbox.world.pull("sandbox-org/widgets", 1)
        assert pr is not None
        await _until(lambda: bool(first.sandbox.world.comments_of(pr)), "the bot's comment")
        await _sign_over_http(first, http, "ada")
        assert await counts(first) == (1, 1)
    finally:
        await first.close()
    db = tmp_path / "var" / "demo.db"
    assert db.exists()  # kept after Ctrl+C, to look at

    second = await start_demo(base, host="127.0.0.1", port=0, cwd=tmp_path)
    try:
        assert await counts(second) == (0, 0)
        async with http.post(f"{second.sandbox_url}/-/pulls", data=form) as resp:
            assert resp.status == 200
        again = second.sandbox.world.pull("sandbox-org/widgets", 1)
        assert again is not None

        def state() -> str | None:
            statuses = second.sandbox.world.combined(again)  # type: ignore[arg-type]
            return statuses[0].state if statuses else None

        await _until(lambda: state() == "failure", "ada's new PR to need her signature again")
    finally:
        await second.close()


# -- command line ----------------------------------------------------------------------------------


def test_demo_help_explains_itself() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="cla-bot")
    add_parsers(parser.add_subparsers(dest="command"))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        import contextlib

        with contextlib.redirect_stdout(out):
            parser.parse_args(["demo", "--help"])
    assert exc.value.code == 0
    text = out.getvalue()
    for words in ("sandbox", "made-up", "var/demo.db", "127.0.0.1", "--port", "Ctrl+C"):
        assert words in text
    assert "Each run starts afresh: var/demo.db is emptied when the demo starts" in " ".join(
        text.split()
    )


def test_a_busy_port_is_one_clear_line(
    make_env: Callable[..., dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = tmp_path / "var" / "demo.db"  # another demo's records, on the busy port
    running.parent.mkdir()
    running.write_bytes(b"in use")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        code = run_demo(
            make_env("sqlite+aiosqlite:///x.db"), "127.0.0.1", busy, cwd=tmp_path, out=io.StringIO()
        )
    assert code == 2
    assert running.read_bytes() == b"in use"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot listen" in err[0] and "--port" in err[0]


async def test_the_demo_mails_to_its_own_outbox_page(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    """The demo's bot sends through the sandbox's mail server (never a real one): the receipt
    of a signature appears on the sandbox's outbox page, its signed text downloadable."""
    assert demo.settings.mail is not None and demo.settings.mail.host == "127.0.0.1"
    async with http.get(f"{demo.sandbox_url}/outbox") as r:
        assert 'id="no-mail"' in await r.text()
    await _sign_over_http(demo, http, "ada")
    outbox = demo.sandbox.outbox
    assert outbox is not None
    await asyncio.wait_for(outbox.received.wait(), timeout=30)
    async with http.get(f"{demo.sandbox_url}/outbox") as r:
        page = await r.text()
    assert "Your receipt: " in page and "Text SHA-256:" in page
    assert 'href="/outbox/0/0" download="individual-1.0.md"' in page
    async with http.get(f"{demo.sandbox_url}/outbox/0/0") as r:
        assert r.status == 200 and r.content_type == "text/markdown"
        assert (await r.text()).startswith("#")
    async with http.get(f"{demo.sandbox_url}/outbox/0/9") as r:
        assert r.status == 404


def test_the_demo_never_sends_real_mail(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox._url = "http://127.0.0.1:9"
    base = {"CLA_SMTP_URL": "smtps://u:p@smtp.real.example", "CLA_MAIL_FROM": "x@real.example"}
    assert "CLA_SMTP_URL" not in demo_env(base, sandbox, host="::1", port=1, cwd=tmp_path)
    env = demo_env(base, sandbox, host="::1", port=1, cwd=tmp_path, smtp_port=2525)
    assert env["CLA_SMTP_URL"] == "smtp://127.0.0.1:2525"


async def test_an_email_on_no_account_is_proven_with_the_code_from_the_outbox(
    demo: Demo, http: aiohttp.ClientSession
) -> None:
    """grace's commit email is on no account: she signs, proves the address on /me with the
    code the outbox page shows, and her PR turns green by itself."""
    world, sb, bot = demo.sandbox.world, demo.sandbox_url, demo.bot_url
    form = {"repo": "sandbox-org/widgets", "scenario": "unlinked", "title": "unlinked"}
    async with http.post(f"{sb}/-/pulls", data=form):
        pass
    pr = world.pull("sandbox-org/widgets", 1)
    assert pr is not None

    def state() -> str | None:
        statuses = world.combined(pr)
        return statuses[0].state if statuses else None

    await _until(lambda: state() == "failure" and bool(world.comments_of(pr)), "the check")
    assert f"{bot}/me#emails-title" in world.comments_of(pr)[0].body
    await _sign_over_http(demo, http, "grace", stay=True)
    async with http.get(f"{bot}/me") as r:
        page = await r.text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    async with http.post(
        f"{bot}/me/emails", data={"csrf": csrf.group(1), "email": "grace@old-laptop.example"}
    ) as r:
        code_page = await r.text()
        assert r.status == 200, code_page
    uid = re.search(r'name="uid" value="([0-9a-f]+)"', code_page)
    assert uid

    async def the_code() -> str | None:
        async with http.get(f"{sb}/outbox") as r:
            found = re.search(r"Your code is (\d{6})", await r.text())
        return found.group(1) if found else None

    deadline = time.monotonic() + 15
    code = await the_code()
    while code is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        code = await the_code()
    assert code is not None, "no code in the outbox"
    async with http.post(
        f"{bot}/me/emails/confirm",
        data={"csrf": csrf.group(1), "uid": uid.group(1), "code": code},
    ) as r:
        assert r.status == 200 and r.url.query.get("proven") == "1"
    await _until(lambda: state() == "success", "grace's PR green by itself")
