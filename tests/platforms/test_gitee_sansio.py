"""Gitee webhook authenticity (both modes), freshness, the delivery key, event names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import WebhookRejected
from bot.platforms.gitee import sansio
from bot.platforms.gitee.sansio import GiteeAuthError

SECRET = "gitee-webhook-secret-0123456789"
NOW_MS = 1_716_169_860_000
WINDOW_S = 3600


def expected_signature(ts: int | str, secret: str) -> str:
    """Gitee help article 4290, step 1 and 2, written out independently of the code."""
    string_to_sign = f"{ts}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def headers(token: str | None, ts: int | str | None = NOW_MS, **extra: str) -> dict[str, str]:
    h = {"X-Gitee-Event": "Merge Request Hook", **extra}
    if token is not None:
        h["X-Gitee-Token"] = token
    if ts is not None:
        h["X-Gitee-Timestamp"] = str(ts)
    return h


def verify(h: dict[str, str], *, secret: str = SECRET, now_ms: int = NOW_MS) -> None:
    sansio.verify(h, secret=secret, now_ms=now_ms, window_s=WINDOW_S)


# -- signature mode ----------------------------------------------------------------------------


def test_documented_vector() -> None:
    # The doc's Python recipe with secret "this is secret" and timestamp 1576754827988.
    expected = expected_signature(1576754827988, "this is secret")
    assert expected == "2D978FIy4DMMTbiN80zQkNH1Eq/kMBt3gL6OnWfGzzY="
    assert sansio.sign(1576754827988, "this is secret") == expected
    sansio.verify(
        {"X-Gitee-Token": expected, "X-Gitee-Timestamp": "1576754827988"},
        secret="this is secret",
        now_ms=1576754827988 + 5_000,
        window_s=WINDOW_S,
    )


def test_signature_mode_accepts_the_plain_base64() -> None:
    verify(headers(expected_signature(NOW_MS, SECRET)))


@pytest.mark.parametrize(
    "encode", [urllib.parse.quote_plus, lambda s: urllib.parse.quote(s, safe="")]
)
def test_signature_mode_accepts_the_url_encoded_form(encode: object) -> None:
    ts = 1576754827988  # its signature contains "/" and "=" (and the doc URL-encodes them)
    token = encode(expected_signature(ts, "this is secret"))  # type: ignore[operator]
    assert "%" in token
    sansio.verify(
        {"X-Gitee-Token": token, "X-Gitee-Timestamp": str(ts)},
        secret="this is secret",
        now_ms=ts,
        window_s=WINDOW_S,
    )


def test_a_plus_in_the_token_is_not_read_as_a_space() -> None:
    # find a timestamp whose signature contains "+", then send it raw (no URL-encoding)
    ts = next(t for t in range(NOW_MS, NOW_MS + 1000) if "+" in expected_signature(t, SECRET))
    verify(headers(expected_signature(ts, SECRET), ts), now_ms=ts)


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(GiteeAuthError) as err:
        verify(headers(expected_signature(NOW_MS, "another-secret-0123456789")))
    assert isinstance(err.value, WebhookRejected) and err.value.status == 401


def test_signature_of_another_timestamp_is_refused() -> None:
    with pytest.raises(GiteeAuthError):
        verify(headers(expected_signature(NOW_MS - 1, SECRET), NOW_MS))


@pytest.mark.parametrize("offset_s", [WINDOW_S + 1, -(WINDOW_S + 1), 24 * 3600, -24 * 3600])
def test_stale_or_future_timestamps_are_refused(offset_s: int) -> None:
    ts = NOW_MS - offset_s * 1000
    with pytest.raises(GiteeAuthError, match="window"):
        verify(headers(expected_signature(ts, SECRET), ts))


@pytest.mark.parametrize("offset_s", [WINDOW_S, -WINDOW_S, 0, 59])
def test_timestamps_inside_the_window_are_accepted(offset_s: int) -> None:
    ts = NOW_MS - offset_s * 1000
    verify(headers(expected_signature(ts, SECRET), ts))


def test_signature_mode_needs_the_timestamp() -> None:
    with pytest.raises(GiteeAuthError):
        verify(headers(expected_signature(NOW_MS, SECRET), ts=None))


@pytest.mark.parametrize("ts", ["abc", "-1", "1e12", "１２３", "9" * 40, " 12 3"])
def test_garbage_timestamps_are_refused(ts: str) -> None:
    with pytest.raises(GiteeAuthError):
        verify(headers(SECRET, ts))


# -- password mode -----------------------------------------------------------------------------


def test_password_mode_accepts_the_secret() -> None:
    verify(headers(SECRET))


def test_password_mode_without_a_timestamp_is_accepted() -> None:
    verify(headers(SECRET, ts=None))


def test_password_mode_with_a_stale_timestamp_is_refused() -> None:
    with pytest.raises(GiteeAuthError, match="window"):
        verify(headers(SECRET, NOW_MS - (WINDOW_S + 10) * 1000))


@pytest.mark.parametrize(
    "token", ["wrong", SECRET[:-1], SECRET + "x", SECRET.upper(), " ", "秘密", "\x00"]
)
def test_password_mode_refuses_anything_else(token: str) -> None:
    with pytest.raises(GiteeAuthError):
        verify(headers(token))


# -- missing pieces, header spelling -----------------------------------------------------------


def test_missing_token_is_refused() -> None:
    with pytest.raises(GiteeAuthError, match="X-Gitee-Token"):
        verify(headers(None))
    with pytest.raises(GiteeAuthError):
        verify(headers(""))


def test_an_empty_configured_secret_accepts_nothing() -> None:
    with pytest.raises(GiteeAuthError):
        verify(headers(""), secret="")


def test_header_names_are_case_insensitive() -> None:
    verify({"x-gitee-token": expected_signature(NOW_MS, SECRET), "x-gitee-timestamp": str(NOW_MS)})


def test_the_reason_never_contains_the_secret_or_the_token() -> None:
    for h in (headers("wrong"), headers(SECRET, NOW_MS - 10**9), headers(None)):
        with pytest.raises(GiteeAuthError) as err:
            verify(h)
        assert SECRET not in str(err.value) and "wrong" not in str(err.value)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["X-Gitee-Token", "X-Gitee-Timestamp", "x-gitee-token", "X-Gitee-Event", "Other"]
        ),
        st.text(max_size=60),
        max_size=5,
    ),
    st.integers(min_value=0, max_value=2**45),
)
def test_any_headers_either_pass_or_raise_the_auth_error(h: dict[str, str], now_ms: int) -> None:
    try:
        sansio.verify(h, secret=SECRET, now_ms=now_ms, window_s=WINDOW_S)
    except GiteeAuthError:
        return
    # accepted: it must really carry the password or a valid signature
    token = h.get("X-Gitee-Token") or h.get("x-gitee-token")
    assert token == SECRET or urllib.parse.unquote(token or "") == expected_signature(
        h.get("X-Gitee-Timestamp", ""), SECRET
    )


# -- delivery key ------------------------------------------------------------------------------


def test_delivery_key_is_stable_for_the_same_request() -> None:
    body = b'{"hook_id": 1, "action": "open"}'
    h = headers(expected_signature(NOW_MS, SECRET))
    assert sansio.delivery_key(h, body) == sansio.delivery_key(dict(h), bytes(body))
    # the header spelling does not matter
    lower = {k.lower(): v for k, v in h.items()}
    assert sansio.delivery_key(lower, body) == sansio.delivery_key(h, body)


def test_delivery_key_differs_for_another_timestamp_or_body() -> None:
    body = b'{"hook_id": 1, "action": "open"}'
    key = sansio.delivery_key(headers("t", NOW_MS), body)
    assert sansio.delivery_key(headers("t", NOW_MS + 1), body) != key
    assert sansio.delivery_key(headers("t", NOW_MS), body + b" ") != key


def test_delivery_key_is_hex_sha256_and_holds_no_secret_material() -> None:
    body = b"{}"
    key = sansio.delivery_key(headers(SECRET, NOW_MS), body)
    assert len(key) == 64 and int(key, 16) >= 0
    # the token (here: the password) is not part of it
    assert key == sansio.delivery_key(headers("something else", NOW_MS), body)
    expected = hashlib.sha256(b"gitee-delivery-v1\n" + str(NOW_MS).encode() + b"\n" + body)
    assert key == expected.hexdigest()


# -- ping, event names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("True", True), ("false", False), (None, False)]
)
def test_is_ping(value: str | None, expected: bool) -> None:
    h = {} if value is None else {"X-Gitee-Ping": value}
    assert sansio.is_ping(h) is expected


def test_event_name_from_the_header_or_the_hook_name() -> None:
    assert sansio.event_name({"X-Gitee-Event": "Note Hook"}) == "Note Hook"
    assert sansio.event_name({"x-gitee-event": "Merge Request Hook"}) == "Merge Request Hook"
    assert sansio.event_name({"X-Git-Oschina-Event": "Note Hook"}) == "Note Hook"
    assert sansio.event_name({"X-Gitee-Event": "push_hooks"}) == "Push Hook"
    assert sansio.event_name({}, {"hook_name": "merge_request_hooks"}) == "Merge Request Hook"
    assert sansio.event_name({}, {"hook_name": "note_hooks"}) == "Note Hook"
    assert sansio.event_name({}, {"hook_name": "weird"}) is None
    assert sansio.event_name({}) is None
