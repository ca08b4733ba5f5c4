"""App JWT and the installation-token cache, against the fake GitHub over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import aiohttp
import jwt
import pytest

from bot.platforms.base import ForgeAuthError, RateLimited, RetryableForgeError
from bot.platforms.github.auth import (
    AppLogin,
    InstallationTokens,
    RateLimit,
    SecondaryLimits,
    make_app_jwt,
    rate_limit,
)
from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub

APP_ID = "4242"
TOKEN_ROUTE = "/app/installations/{installation_id}/access_tokens"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(fake_github: FakeGitHub) -> Clock:
    c = Clock()
    fake_github.clock = c  # the fake judges JWTs and token expiry by the same time
    return c


def tokens_for(
    fake: FakeGitHub,
    session: aiohttp.ClientSession,
    keys: AppKeyPair,
    clock: Clock,
    **kw: object,
) -> InstallationTokens:
    return InstallationTokens(
        session=session,
        api_url=fake.url,
        app_id=APP_ID,
        private_key=keys.private_pem,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


# -- JWT -------------------------------------------------------------------------------------------


def test_jwt_claims(app_keys: AppKeyPair) -> None:
    now = 1_700_000_000.0
    token = make_app_jwt(app_id=APP_ID, private_key=app_keys.private_pem, now=now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token, app_keys.public_pem, algorithms=["RS256"], options={"verify_exp": False}
    )
    assert claims["iss"] == APP_ID
    assert claims["iat"] == int(now) - 60
    assert claims["exp"] == int(now) + 540
    assert claims["exp"] - claims["iat"] <= 600


async def test_jwt_accepted_by_fake(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    fake_github.add_installation(1)
    tokens = InstallationTokens(
        session=http_session,
        api_url=fake_github.url,
        app_id=APP_ID,
        private_key=app_keys.private_pem,
        clock=fake_github.clock,
    )
    token = await tokens.get(1)
    assert token in fake_github.tokens
    assert fake_github.token_requests[1] == 1
    (claims,) = fake_github.jwt_claims
    assert claims["iss"] == APP_ID and claims["exp"] - claims["iat"] <= 600
    (req,) = fake_github.requests
    assert req.headers["authorization"].startswith("Bearer ")


async def test_jwt_from_another_key_is_refused(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, clock: Clock
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    fake_github.add_installation(1)
    tokens = InstallationTokens(
        session=http_session, api_url=fake_github.url, app_id=APP_ID, private_key=other, clock=clock
    )
    with pytest.raises(ForgeAuthError) as err:
        await tokens.get(1)
    assert err.value.status == 401
    assert fake_github.token_requests[1] == 0


async def test_jwt_with_clock_ahead_is_refused(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    """The fake applies GitHub's rule: ``iat`` in the future (beyond a small skew) fails."""
    fake_github.add_installation(1)
    ahead = Clock(clock.now + 300)
    tokens = tokens_for(fake_github, http_session, app_keys, ahead)
    with pytest.raises(ForgeAuthError):
        await tokens.get(1)
    # 60 s ahead is absorbed by the back-dated iat
    tokens = tokens_for(fake_github, http_session, app_keys, Clock(clock.now + 60))
    assert await tokens.get(1)


# -- cache -----------------------------------------------------------------------------------------


async def test_single_flight_20_concurrent_callers_one_request(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    fake_github.inject("POST", TOKEN_ROUTE, delay_s=0.05)  # keep the first request in flight
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    results = await asyncio.gather(*(tokens.get(7) for _ in range(20)))
    assert len(set(results)) == 1
    assert fake_github.token_requests[7] == 1
    assert fake_github.count("POST", TOKEN_ROUTE) == 1


async def test_single_flight_shares_a_failure(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    fake_github.inject("POST", TOKEN_ROUTE, status=502, delay_s=0.05)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    results = await asyncio.gather(*(tokens.get(7) for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, RetryableForgeError) for r in results)
    assert fake_github.count("POST", TOKEN_ROUTE) == 1
    assert await tokens.get(7)  # the next call tries again
    assert fake_github.count("POST", TOKEN_ROUTE) == 2


async def test_a_cancelled_caller_does_not_cancel_the_others(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    fake_github.inject("POST", TOKEN_ROUTE, delay_s=0.1)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    first = asyncio.create_task(tokens.get(7))
    second = asyncio.create_task(tokens.get(7))
    await asyncio.sleep(0.02)
    first.cancel()
    assert await second
    assert fake_github.token_requests[7] == 1


async def test_tokens_are_per_installation(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(1)
    fake_github.add_installation(2)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    a, b = await asyncio.gather(tokens.get(1), tokens.get(2))
    assert a != b
    assert fake_github.tokens[a].installation_id == 1
    assert fake_github.tokens[b].installation_id == 2
    assert await tokens.get(1) == a
    assert fake_github.token_requests == {1: 1, 2: 1}


async def test_refresh_when_less_than_5_minutes_remain(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    first = await tokens.get(7)
    clock.now += 3600 - 301  # 5 min + 1 s left: still cached
    assert await tokens.get(7) == first
    assert fake_github.token_requests[7] == 1
    clock.now += 2  # 4 min 59 s left: refresh
    second = await tokens.get(7)
    assert second != first
    assert fake_github.token_requests[7] == 2


async def test_invalidate_drops_only_that_token(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    first = await tokens.get(7)
    tokens.invalidate(7, first)
    second = await tokens.get(7)
    assert second != first
    tokens.invalidate(7, first)  # a late 401 for the old token keeps the new one
    assert await tokens.get(7) == second
    assert fake_github.token_requests[7] == 2


# -- failures --------------------------------------------------------------------------------------


async def test_unknown_or_suspended_installation_is_an_auth_error(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(8, suspended=True)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    with pytest.raises(ForgeAuthError) as err:
        await tokens.get(99)
    assert err.value.status == 404
    with pytest.raises(ForgeAuthError) as err:
        await tokens.get(8)
    assert err.value.status == 403


async def test_token_endpoint_5xx_timeout_and_rate_limit(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    tokens = tokens_for(fake_github, http_session, app_keys, clock, timeout_s=0.2)
    fake_github.inject("POST", TOKEN_ROUTE, status=502)
    with pytest.raises(RetryableForgeError) as err:
        await tokens.get(7)
    assert err.value.status == 502
    fake_github.inject("POST", TOKEN_ROUTE, delay_s=1.0)
    with pytest.raises(RetryableForgeError):
        await tokens.get(7)
    fake_github.inject("POST", TOKEN_ROUTE, status=429, headers={"retry-after": "17"})
    with pytest.raises(RateLimited) as limited:
        await tokens.get(7)
    assert limited.value.until == datetime.fromtimestamp(clock.now + 17, tz=UTC)
    assert await tokens.get(7)  # and then it works


async def test_connection_refused_is_retryable(
    http_session: aiohttp.ClientSession, app_keys: AppKeyPair
) -> None:
    tokens = InstallationTokens(
        session=http_session,
        api_url="http://127.0.0.1:9",  # discard port: nothing listens
        app_id=APP_ID,
        private_key=app_keys.private_pem,
        clock=Clock(),
        timeout_s=2,
    )
    with pytest.raises(RetryableForgeError):
        await tokens.get(1)


async def test_tokens_never_logged_or_shown(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_github.add_installation(7)
    tokens = tokens_for(fake_github, http_session, app_keys, clock)
    with caplog.at_level(logging.DEBUG):
        token = await tokens.get(7)
    assert token not in caplog.text
    assert token not in repr(tokens)
    assert token not in repr(tokens._cache)
    assert "PRIVATE KEY" not in repr(tokens)


# -- rate limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "message", "expected"),
    [
        (429, {"Retry-After": "30"}, "", (1030, True)),
        (
            403,
            {"retry-after": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "9"},
            "",
            (1005, False),
        ),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4000"}, "", (4000, False)),
        (429, {}, "", (1060, True)),
        (403, {}, "You have exceeded a secondary rate limit.", (1060, True)),
        (403, {"x-ratelimit-remaining": "12"}, "Resource not accessible by integration", None),
        (404, {"retry-after": "3"}, "", None),
    ],
)
def test_rate_limit(
    status: int, headers: dict[str, str], message: str, expected: tuple[float, bool] | None
) -> None:
    got = rate_limit(status, headers, message, now=1000.0)
    if expected is None:
        assert got is None
    else:
        assert got == RateLimit(datetime.fromtimestamp(expected[0], tz=UTC), expected[1])


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_repeated_secondary_limits_double_up_to_the_cap_and_reset_after_a_success() -> None:
    limits = SecondaryLimits()
    now = 1000.0
    waits = []
    for _ in range(7):
        until = limits.until(7, RateLimit(_at(now + 60), secondary=True), now=now)
        waits.append(until.timestamp() - now)
        now = until.timestamp()  # the installation waits it out, and is limited again
    assert waits == [60, 120, 240, 480, 960, 960, 960]
    assert limits.streak(7) == 7
    assert limits.streak(8) == 0  # per installation
    limits.succeeded(7)
    until = limits.until(7, RateLimit(_at(now + 60), secondary=True), now=now)
    assert until.timestamp() - now == 60


def test_backoff_never_waits_less_than_github_asked() -> None:
    limits = SecondaryLimits()
    first = limits.until(7, RateLimit(_at(1030), secondary=True), now=1000.0)
    assert first == _at(1030)  # retry-after 30: exactly that, the first time
    second = limits.until(7, RateLimit(_at(1030 + 2000), secondary=True), now=1030.0)
    assert second == _at(1030 + 2000)  # above the cap, because GitHub asked for it


def test_limits_met_while_waiting_are_the_same_episode() -> None:
    limits = SecondaryLimits()
    first = limits.until(7, RateLimit(_at(1060), secondary=True), now=1000.0)
    # another request of the same installation, already on the wire, is refused too
    again = limits.until(7, RateLimit(_at(1061), secondary=True), now=1001.0)
    assert (first, again, limits.streak(7)) == (_at(1060), _at(1061), 1)


def test_primary_limits_are_not_counted() -> None:
    limits = SecondaryLimits()
    assert limits.until(7, RateLimit(_at(4000), secondary=False), now=1000.0) == _at(4000)
    assert limits.streak(7) == 0


# -- the App's own login ----------------------------------------------------------------------------


@pytest.fixture
def tokens(
    fake_github: FakeGitHub, http_session: aiohttp.ClientSession, app_keys: AppKeyPair, clock: Clock
) -> InstallationTokens:
    return tokens_for(fake_github, http_session, app_keys, clock)


async def test_app_login_asks_get_app_once(
    fake_github: FakeGitHub, tokens: InstallationTokens
) -> None:
    login = AppLogin(tokens)
    got = await asyncio.gather(*(login.get() for _ in range(5)))
    assert got == ["cla-bot[bot]"] * 5
    assert await login.get() == "cla-bot[bot]"
    assert fake_github.count("GET", "/app") == 1
    (request,) = [r for r in fake_github.requests if r.route == "/app"]
    assert request.headers["authorization"].startswith("Bearer ")  # the App JWT


async def test_app_login_failure_is_asked_again(
    fake_github: FakeGitHub, tokens: InstallationTokens
) -> None:
    login = AppLogin(tokens)
    fake_github.inject("GET", "/app", status=502)
    with pytest.raises(RetryableForgeError):
        await login.get()
    assert await login.get() == "cla-bot[bot]"
    assert fake_github.count("GET", "/app") == 2


async def test_configured_login_asks_nothing(
    fake_github: FakeGitHub, tokens: InstallationTokens
) -> None:
    login = AppLogin(tokens, configured="x[bot]")
    assert await login.get() == "x[bot]"
    assert fake_github.count("GET", "/app") == 0


async def test_token_request_rate_limits_back_off_per_installation(
    fake_github: FakeGitHub,
    http_session: aiohttp.ClientSession,
    app_keys: AppKeyPair,
    clock: Clock,
) -> None:
    fake_github.add_installation(7)
    limits = SecondaryLimits()
    tokens = tokens_for(fake_github, http_session, app_keys, clock, limits=limits)
    fake_github.inject("POST", TOKEN_ROUTE, status=429, times=2)
    with pytest.raises(RateLimited) as first:
        await tokens.get(7)
    clock.now = first.value.until.timestamp()
    with pytest.raises(RateLimited) as second:
        await tokens.get(7)
    assert first.value.until == _at(1_700_000_000.0 + 60)
    assert second.value.until == _at(clock.now + 120)
