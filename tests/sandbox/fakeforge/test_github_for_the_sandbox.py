"""What the fake GitHub offers the sandbox that runs on it: a mode for a long demo (no request
log, GitHub's 404 for a path it does not know), payload URLs of the sandbox's own address,
deliveries that keep the receiver's answer and give up after a timeout, and the OAuth grant
and code exchange as methods for the sandbox's own sign-in page."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.platforms.github.auth import make_app_jwt
from bot.platforms.github.webhooks import verify_github_signature
from bot.platforms.oauth import code_challenge
from bot.sandbox.fakeforge.github import FakeGitHub, OAuthRefused, generate_app_keypair

CALLBACK = "http://bot.test/sign/oauth/github/callback"
APP_ID = "4242"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _receiver(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> TestServer:
    app = web.Application()
    app.router.add_post("/webhooks/github", handler)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return server


@pytest.mark.parametrize(
    ("strict", "status", "kept", "violations"), [(True, 599, 1, 1), (False, 404, 0, 0)]
)
async def test_an_unknown_path_is_a_violation_only_when_strict(
    http: aiohttp.ClientSession, strict: bool, status: int, kept: int, violations: int
) -> None:
    async with FakeGitHub(strict=strict) as fake:
        for url in (f"{fake.url}/no/such/route", f"{fake.ghes_url}/no/such/route"):
            async with http.get(url) as resp:
                assert resp.status == status
                if not strict:
                    assert (await resp.json())["message"] == "Not Found"
        async with http.delete(f"{fake.url}/app") as resp:  # a path, not with that method
            assert resp.status == status
        assert len(fake.requests) == 3 * kept
        assert len(fake.violations) == 3 * violations


async def test_successful_writes_are_counted(http: aiohttp.ClientSession) -> None:
    async with FakeGitHub(strict=False) as fake:
        assert fake.changes == 0
        async with http.get(f"{fake.url}/app") as resp:  # a read, and refused
            assert resp.status == 401
        await fake.send_hook("ping", {"zen": "Keep it logically awesome."})
        assert fake.changes == 1


async def test_payload_urls_are_the_ones_set() -> None:
    fake = FakeGitHub()
    pr = fake.add_pr("sandbox-org/widgets", number=3)
    default = fake.pull_request_event(pr)
    assert default["pull_request"]["html_url"] == "https://github.com/sandbox-org/widgets/pull/3"
    fake.payload_api, fake.payload_web = "http://127.0.0.1:9/api/v3", "http://127.0.0.1:9"
    got = fake.pull_request_event(pr)
    assert got["pull_request"]["html_url"] == "http://127.0.0.1:9/sandbox-org/widgets/pull/3"
    assert (
        got["pull_request"]["url"] == "http://127.0.0.1:9/api/v3/repos/sandbox-org/widgets/pulls/3"
    )
    comment = fake.add_comment(pr, "/cla check", user="mona")
    assert fake.issue_comment_event(comment)["issue"]["html_url"].startswith("http://127.0.0.1:9/")


async def test_a_delivery_keeps_the_answer_and_is_signed() -> None:
    seen: list[tuple[bool, str]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify_github_signature("s3cret", body, request.headers.get("X-Hub-Signature-256"))
        seen.append((ok, request.headers["X-GitHub-Hook-Installation-Target-ID"]))
        return web.json_response({"message": "accepted"}, status=202)

    server = await _receiver(hook)
    try:
        fake = FakeGitHub(app_id="7")
        fake.hook_secret = "s3cret"
        fake.hook_url = str(server.make_url("/webhooks/github"))
        d = await fake.send_hook("issue_comment", {"action": "created", "repository": {"id": 5}})
    finally:
        await server.close()
    assert seen == [(True, "7")]
    assert (d.status_code, d.ok, d.answer, d.action, d.repository_id) == (
        202,
        True,
        "accepted",
        "created",
        5,
    )
    assert d.duration_s > 0


async def test_a_receiver_slower_than_the_timeout_is_not_delivered() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    server = await _receiver(slow)
    try:
        fake = FakeGitHub(hook_timeout_s=0.2)
        fake.hook_url = str(server.make_url("/webhooks/github"))
        d = await asyncio.wait_for(fake.send_hook("ping", {}), timeout=3)
    finally:
        await server.close()
    assert (d.status_code, d.ok, d.status) == (0, False, "Couldn't connect to server")
    assert d.answer.startswith("could not reach ") and "TimeoutError" in d.answer


async def test_a_receivers_plain_text_answer_is_kept_short() -> None:
    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="x" * 500, status=500)

    server = await _receiver(plain)
    try:
        fake = FakeGitHub()
        fake.hook_url = str(server.make_url("/webhooks/github"))
        d = await fake.send_hook("ping", {})
    finally:
        await server.close()
    assert (d.status_code, d.answer) == (500, "x" * 200)


def test_authorization_is_judged_as_github_would() -> None:
    fake = FakeGitHub()
    fake.add_oauth_app("Iv1.abc", "secret", CALLBACK)
    assert fake.authorization({"client_id": "Iv1.abc", "state": "s", "other": "x"}) == {
        "client_id": "Iv1.abc",
        "state": "s",
        "redirect_uri": CALLBACK,
    }
    for params, status in (
        ({"client_id": "other"}, 404),
        ({"client_id": "Iv1.abc", "redirect_uri": "http://evil.test/callback"}, 400),
        ({"client_id": "Iv1.abc", "code_challenge": "c", "code_challenge_method": "plain"}, 400),
    ):
        with pytest.raises(OAuthRefused) as refused:
            fake.authorization(params)
        assert refused.value.status == status


def test_a_grant_is_exchanged_once_with_its_verifier() -> None:
    fake = FakeGitHub()
    fake.add_oauth_app("Iv1.abc", "secret", CALLBACK)
    verifier = "v" * 50
    params = {
        "client_id": "Iv1.abc",
        "state": "s1",
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    back = urlsplit(fake.grant(params, "grace"))
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    query = parse_qs(back.query)
    assert query["state"] == ["s1"]
    form = {"client_id": "Iv1.abc", "client_secret": "secret", "code": query["code"][0]}
    assert fake.exchange_code({**form, "client_secret": "wrong"}) == {
        "error": "incorrect_client_credentials"
    }
    answer = fake.exchange_code({**form, "code_verifier": verifier})
    assert answer["token_type"] == "bearer"
    assert fake.user_tokens[answer["access_token"]] == "grace"
    assert fake.exchange_code({**form, "code_verifier": verifier}) == {
        "error": "bad_verification_code"
    }


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"a string"'])
async def test_a_token_exchange_that_is_not_a_json_object_is_refused_not_a_crash(
    http: aiohttp.ClientSession, body: bytes
) -> None:
    async with (
        FakeGitHub() as fake,
        http.post(
            f"{fake.web_url}/login/oauth/access_token",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 200
        assert json.loads(await resp.text()) == {"error": "incorrect_client_credentials"}


async def test_a_delivery_shows_what_was_sent_and_answered(http: aiohttp.ClientSession) -> None:
    keys = generate_app_keypair()

    async def hook(request: web.Request) -> web.Response:
        return web.json_response({"message": "accepted"}, status=202)

    server = await _receiver(hook)
    try:
        async with FakeGitHub(app_id=APP_ID, public_key_pem=keys.public_pem) as fake:
            fake.hook_url = str(server.make_url("/webhooks/github"))
            d = await fake.send_hook("ping", {"zen": "Design for failure."})
            jwt = make_app_jwt(app_id=APP_ID, private_key=keys.private_pem, now=time.time())
            async with http.get(
                f"{fake.url}/app/hook/deliveries/{d.id}", headers={"Authorization": f"Bearer {jwt}"}
            ) as resp:
                got = await resp.json()
            assert fake.violations == []
    finally:
        await server.close()
    assert got["url"] == fake.hook_url
    assert got["request"]["payload"] == {"zen": "Design for failure."}
    assert got["response"]["payload"] == "accepted"
