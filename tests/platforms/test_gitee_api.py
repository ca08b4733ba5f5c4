"""The Gitee API v5 client against the fake Gitee: auth, URLs, paging, errors, retries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.platforms.base import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    RateLimited,
    RetryableForgeError,
)
from bot.platforms.gitee.api import GiteeAPI, rate_limit_until
from bot.sandbox.fakeforge.gitee import FakeGitee

PULL = "/repos/{owner}/{repo}/pulls/{number}"
COMMENTS = "/repos/{owner}/{repo}/pulls/{number}/comments"
VARS = {"owner": "open-cla", "repo": "cla-demo", "number": 1}


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitee]:
    async with FakeGitee() as f:
        f.add_pr("open-cla/cla-demo", number=1)
        yield f
        assert f.violations == []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_api(
    session: aiohttp.ClientSession, fake: FakeGitee, **kw: object
) -> tuple[GiteeAPI, Sleeps]:
    sleeps = Sleeps()
    options: dict[str, object] = {"retry_backoff_s": 0.25, "timeout_s": 5.0, "sleep": sleeps}
    options.update(kw)
    api = GiteeAPI(session, token=fake.token, base_url=fake.url, **options)  # type: ignore[arg-type]
    return api, sleeps


# -- auth and URLs -----------------------------------------------------------------------------


async def test_the_token_travels_in_the_authorization_header_only(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    api, _ = make_api(session, fake)
    data = await api.getitem(PULL, VARS)
    assert data["number"] == 1
    (rec,) = fake.requests
    assert rec.headers["authorization"] == f"Bearer {fake.token}"
    assert rec.token_in_query is False
    assert fake.token not in rec.raw_path and fake.token not in str(rec.query)
    assert rec.headers["accept"] == "application/json"


async def test_path_variables_are_single_encoded_segments(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    api, _ = make_api(session, fake)
    url = api.url("/repos/{owner}/{repo}/pulls/{number}/labels/{name}", {**VARS, "name": "cla/yes"})
    assert url.raw_path.endswith("/pulls/1/labels/cla%2Fyes")
    url = api.url("/x/{name}", {"name": "a b,c?d#e%f"})
    assert url.raw_path.endswith("/x/a%20b%2Cc%3Fd%23e%25f")
    with pytest.raises(ValueError, match="owner"):
        api.url(PULL, {"repo": "r", "number": 1})
    with pytest.raises(ValueError, match="params"):
        api.url("/repos?state=open")


def test_the_repr_hides_the_token() -> None:
    api = GiteeAPI(None, token="secret-token-value")  # type: ignore[arg-type]
    assert "secret-token-value" not in repr(api)
    with pytest.raises(ValueError):
        GiteeAPI(None, token="")  # type: ignore[arg-type]


async def test_a_wrong_token_is_an_auth_error(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    api = GiteeAPI(session, token="not-the-token", base_url=fake.url)
    with pytest.raises(ForgeAuthError) as err:
        await api.getitem(PULL, VARS)
    assert err.value.status == 401
    assert fake.count("GET", PULL) == 1  # a 401 is not retried


# -- paging ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comments", "per_page", "pages"),
    [(0, 100, [1]), (5, 100, [1]), (250, 100, [1, 2, 3]), (200, 100, [1, 2]), (45, 20, [1, 2, 3])],
)
async def test_paging_walks_every_page_and_stops(
    fake: FakeGitee, session: aiohttp.ClientSession, comments: int, per_page: int, pages: list[int]
) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    for i in range(comments):
        fake.add_comment(pr, f"comment {i}")
    api, _ = make_api(session, fake)
    items = [item async for item in api.getiter(COMMENTS, VARS, per_page=per_page)]
    assert [c["body"] for c in items] == [f"comment {i}" for i in range(comments)]
    seen = fake.matching("GET", COMMENTS)
    assert [int(r.query["page"]) for r in seen] == pages
    assert {r.query["per_page"] for r in seen} == {str(per_page)}


async def test_paging_stops_at_total_page_even_on_a_full_page(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    for i in range(100):
        fake.add_comment(pr, f"c{i}")
    api, _ = make_api(session, fake)
    items = [item async for item in api.getiter(COMMENTS, VARS)]
    assert len(items) == 100
    assert fake.count("GET", COMMENTS) == 1  # total_page = 1: no second request


async def test_per_page_is_capped_at_100(fake: FakeGitee, session: aiohttp.ClientSession) -> None:
    api, _ = make_api(session, fake)
    assert [i async for i in api.getiter(COMMENTS, VARS, per_page=500)] == []
    assert fake.matching("GET", COMMENTS)[0].query["per_page"] == "100"


async def test_a_page_that_is_not_a_list_is_an_error(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    fake.inject("GET", COMMENTS, status=200, body={"message": "odd"})
    api, _ = make_api(session, fake)
    with pytest.raises(ForgeError, match="array"):
        _ = [i async for i in api.getiter(COMMENTS, VARS)]


# -- retries and error mapping -----------------------------------------------------------------


async def test_5xx_is_retried_then_retryable_error(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    fake.inject("GET", PULL, status=502, times=10)
    api, sleeps = make_api(session, fake, get_retries=2)
    with pytest.raises(RetryableForgeError) as err:
        await api.getitem(PULL, VARS)
    assert not isinstance(err.value, RateLimited)
    assert err.value.status == 502
    assert fake.count("GET", PULL) == 3
    assert sleeps.delays == [0.25, 0.5]


async def test_a_transient_5xx_is_absorbed(fake: FakeGitee, session: aiohttp.ClientSession) -> None:
    fake.inject("GET", PULL, status=503, times=1)
    api, sleeps = make_api(session, fake)
    assert (await api.getitem(PULL, VARS))["number"] == 1
    assert fake.count("GET", PULL) == 2 and len(sleeps.delays) == 1


async def test_a_transient_5xx_while_paging_is_absorbed(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    pr = fake.pr("open-cla/cla-demo", 1)
    for i in range(150):
        fake.add_comment(pr, f"c{i}")
    api, _ = make_api(session, fake)
    fake.inject("GET", COMMENTS, status=500, times=1)
    assert len([i async for i in api.getiter(COMMENTS, VARS)]) == 150


async def test_writes_are_not_retried(fake: FakeGitee, session: aiohttp.ClientSession) -> None:
    fake.inject("POST", COMMENTS, status=502, times=5)
    api, sleeps = make_api(session, fake)
    with pytest.raises(RetryableForgeError):
        await api.post(COMMENTS, VARS, data={"body": "hello"})
    assert fake.count("POST", COMMENTS) == 1 and sleeps.delays == []


async def test_a_timeout_is_retryable(fake: FakeGitee, session: aiohttp.ClientSession) -> None:
    fake.inject("GET", PULL, delay_s=1.0, times=1)
    api, _ = make_api(session, fake, timeout_s=0.2, get_retries=0)
    with pytest.raises(RetryableForgeError, match="TimeoutError"):
        await api.getitem(PULL, VARS)


async def test_a_connection_error_is_retryable(session: aiohttp.ClientSession) -> None:
    api = GiteeAPI(
        session, token="t", base_url="http://127.0.0.1:9/api/v5", get_retries=1, retry_backoff_s=0
    )
    with pytest.raises(RetryableForgeError):
        await api.getitem("/user")


async def test_a_2xx_that_is_not_json_is_retryable(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    fake.inject("GET", PULL, status=200, body="<html>busy</html>", times=1)
    api, _ = make_api(session, fake, get_retries=0)
    with pytest.raises(RetryableForgeError, match="JSON"):
        await api.getitem(PULL, VARS)


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind"),
    [
        (404, {}, {"message": "Not Found"}, ForgeNotFound),
        (410, {}, None, ForgeNotFound),
        (401, {}, {"message": "401 Unauthorized"}, ForgeAuthError),
        (403, {}, {"message": "403 Forbidden"}, ForgeError),
        (422, {}, {"message": "Validation failed"}, ForgeError),
        (429, {}, None, RateLimited),
        (403, {}, {"message": "Rate Limit exceeded"}, RateLimited),
        (403, {"X-RateLimit-Remaining": "0"}, None, RateLimited),
        (500, {}, None, RetryableForgeError),
    ],
)
async def test_error_mapping(
    fake: FakeGitee,
    session: aiohttp.ClientSession,
    status: int,
    headers: dict[str, str],
    body: object,
    kind: type[ForgeError],
) -> None:
    fake.inject("GET", PULL, status=status, headers=headers, body=body, times=5)
    api, _ = make_api(session, fake, get_retries=0)
    with pytest.raises(ForgeError) as err:
        await api.getitem(PULL, VARS)
    assert type(err.value) is kind
    assert err.value.status == status


async def test_rate_limits_are_not_retried_and_say_until_when(
    fake: FakeGitee, session: aiohttp.ClientSession
) -> None:
    fake.inject("GET", PULL, status=429, headers={"Retry-After": "120"}, times=5)
    api, sleeps = make_api(session, fake, clock=lambda: 1_700_000_000.0)
    with pytest.raises(RateLimited) as err:
        await api.getitem(PULL, VARS)
    assert err.value.until == datetime.fromtimestamp(1_700_000_120, tz=UTC)
    assert fake.count("GET", PULL) == 1 and sleeps.delays == []


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "headers", "message", "wait"),
    [
        (429, {"Retry-After": "30"}, "", 30),
        (429, {"X-RateLimit-Reset": str(int(NOW) + 90)}, "", 90),  # epoch seconds
        (429, {"X-RateLimit-Reset": "45"}, "", 45),  # seconds from now
        (429, {}, "", 60),
        (429, {"Retry-After": "999999"}, "", 3600),  # clamped
        (429, {"Retry-After": "0"}, "", 1),
        (403, {}, "API rate limit exceeded", 60),
        (403, {"x-ratelimit-remaining": "0", "retry-after": "5"}, "", 5),
        (403, {}, "Forbidden", None),
        (404, {}, "rate limit", None),
    ],
)
def test_rate_limit_until(
    status: int, headers: dict[str, str], message: str, wait: int | None
) -> None:
    until = rate_limit_until(status, headers, message, now=NOW)
    if wait is None:
        assert until is None
    else:
        assert until == datetime.fromtimestamp(NOW + wait, tz=UTC)


# -- the token never leaks ---------------------------------------------------------------------


async def test_the_token_appears_in_no_exception_and_no_log_record(
    fake: FakeGitee, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = fake.token
    api, _ = make_api(session, fake, get_retries=1, timeout_s=0.3)
    failures: list[BaseException] = []
    scenarios = [
        (404, {"message": f"no such thing for access_token={token}"}, 0.0),
        (401, {"message": f"token {token} is invalid"}, 0.0),
        (403, {"message": f"forbidden: {token}"}, 0.0),
        (422, f"plain text with {token}", 0.0),
        (500, {"message": token}, 0.0),
        (429, {"message": token}, 0.0),
        (None, None, 1.0),  # a timeout
    ]
    for status, body, delay in scenarios:
        fake.inject("GET", PULL, status=status, body=body, delay_s=delay, times=2)
        with pytest.raises(ForgeError) as err:
            await api.getitem(PULL, VARS)
        failures.append(err.value)
        fake.faults.clear()
    fake.inject("POST", COMMENTS, status=400, body={"message": f"echo {token}"})
    with pytest.raises(ForgeError) as err:
        await api.post(COMMENTS, VARS, data={"body": "x"})
    failures.append(err.value)
    for exc in failures:
        assert token not in str(exc) and token not in repr(exc)
        assert exc.__cause__ is None
        assert exc.__context__ is None or exc.__suppress_context__
    assert caplog.records, "the client logs its requests at DEBUG"
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in str(record.args)
    assert "***" in str(failures[3])  # the echoed token was masked, the rest of the text kept
