"""Item 9: Hypothesis over the headers and bodies of both webhook endpoints — never a 5xx, and
for anything not verified a 401 with no state change at all; a compressed body is a 415 before
any work. Bodies include real payloads with hostile values anywhere in them (integers past the
columns, lone surrogates, wrong container types, nesting thousands deep) — plus properties of the
comment-command parser and the email normaliser. ``CLA_SOAK_SECONDS`` (``make soak``) scales the
number of examples up."""

from __future__ import annotations

import gzip
import json
import os
import time
import urllib.parse
import uuid
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.core.commands import parse_commands
from bot.core.identity import normalise_email
from bot.sandbox.fakeforge.gitee import FakeGitee, gitee_signature, load_fixture
from bot.sandbox.fakeforge.github import load_all_webhook_examples
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import Installation, Job, PrBlocker, PrCheck, Repository
from tests.helpers import sign
from tests.resilience.conftest import table_counts

SCALE = 20 if os.environ.get("CLA_SOAK_SECONDS") else 1
FUZZ = settings(
    max_examples=1500 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
GITEE_FUZZ = settings(FUZZ, max_examples=1000 * SCALE)
MODELS = (Job, Installation, Repository, PrCheck, PrBlocker)

# -- strategies ------------------------------------------------------------------------------------

header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
EXAMPLES = [payload for _, payload in load_all_webhook_examples()][:400]

# Shapes that once gave 500s: integers past the 64-bit columns, lone surrogates (which
# ``json.dumps`` writes as ``\ud800`` escapes), a scalar where a list or an object belongs and
# the reverse, and nesting deeper than any decoder recurses.
big_integers = st.one_of(
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.integers(max_value=-(2**63) + 2, min_value=-(2**64)),
    st.integers(min_value=2**64, max_value=10**40),
)
surrogate_text = st.builds(
    lambda a, s, b: a + s + b,
    st.text(max_size=6),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=6),
)
hostile_values = st.one_of(
    big_integers,
    surrogate_text,
    st.integers(-5, 5),
    st.builds(list),  # a new one each time: a shared one would grow, even into itself
    st.builds(dict),
    st.lists(st.text(max_size=5), min_size=1, max_size=2),  # a list where a login belongs
    st.text(max_size=300),
    st.just("\x00"),
)
DEEP = b"__deep__"


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):
            found.append((*prefix, i))
            found.extend(_paths(value, (*prefix, i)))
    return found


# Where the routing reads: hostile values go there half of the time (elsewhere they are skipped).
GITHUB_READ = [
    "action", "number", "installation.id", "installation.account.login", "repository.id",
    "repository.full_name", "pull_request.number", "pull_request.labels",
    "pull_request.head.sha", "pull_request.base.sha", "pull_request.user.login",
    "pull_request.commits", "issue.number", "comment.id", "comment.body", "comment.user.login",
    "repositories", "repositories_added", "repositories_removed",
]  # fmt: skip
GITEE_READ = [
    "action", "action_desc", "noteable_type", "pull_request.number", "pull_request.state",
    "repository.namespace", "repository.path", "repository.path_with_namespace",
    "repository.id", "comment.id", "comment.body", "comment.user.login", "note",
]  # fmt: skip
ROUTED = ("pull_request", "issue_comment", "installation", "installation_repositories")
ROUTED_EXAMPLES = [
    (event, payload) for event, payload in load_all_webhook_examples() if event in ROUTED
]


@st.composite
def hostile_payload(draw: st.DrawFn, templates: list[dict[str, Any]], read: list[str]) -> bytes:
    """A real payload with a few values anywhere in it — half of the time where routing reads
    — replaced by a hostile shape, one of them perhaps by a list nested thousands deep."""
    payload = json.loads(json.dumps(draw(st.sampled_from(templates))))
    if "installation" not in payload and draw(st.booleans()):
        payload["installation"] = {"id": 1, "account": {"login": "acme"}}
    paths = _paths(payload)
    read_paths = [tuple(p.split(".")) for p in read]
    deep = 0
    for _ in range(draw(st.integers(1, 3))):
        *parents, last = draw(st.sampled_from(read_paths if draw(st.booleans()) else paths))
        node = payload
        try:
            for key in parents:
                node = node[key]
            if draw(st.integers(0, 5)) == 0:
                node[last] = DEEP.decode()
                deep = draw(st.integers(200, 5000))
            else:
                node[last] = draw(hostile_values)
        except (KeyError, IndexError, TypeError):
            continue  # not in this payload, or an earlier replacement took the branch away
    body = json.dumps(payload).encode()
    if deep:
        body = body.replace(b'"' + DEEP + b'"', b"[" * deep + b"]" * deep, 1)
    return body


@st.composite
def hostile_github(draw: st.DrawFn) -> tuple[str, bytes]:
    """(event, body): a payload of an event the bot routes, under its own event name."""
    event = draw(st.sampled_from(ROUTED))
    templates = [p for e, p in ROUTED_EXAMPLES if e == event]
    return event, draw(hostile_payload(templates, GITHUB_READ))


encodings = st.sampled_from([None, None, None, "identity", "gzip", "deflate", "br", "zstd", "x"])


def encode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    return body  # br, zstd, unknown: never decoded, whatever the bytes


def compressed(headers: dict[str, str]) -> bool:
    return headers.get("Content-Encoding", "identity") != "identity"


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """A real GitHub payload with a few keys dropped or replaced by arbitrary JSON."""
    payload = json.loads(json.dumps(draw(st.sampled_from(EXAMPLES))))
    for _ in range(draw(st.integers(0, 4))):
        keys = list(payload)
        if keys and draw(st.booleans()):
            key = draw(st.sampled_from(keys))
            if draw(st.booleans()):
                del payload[key]
            else:
                payload[key] = draw(json_values)
    return json.dumps(payload).encode()


bodies = st.one_of(
    st.binary(max_size=600),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_example(),
)
events = st.one_of(
    st.sampled_from(
        ["pull_request", "issue_comment", "installation", "installation_repositories", "ping"]
    ),
    header_text,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ]
)


@st.composite
def github_delivery(draw: st.DrawFn) -> tuple[dict[str, str], bytes, bool]:
    """(headers, body, signed correctly)."""
    hostile = draw(st.booleans())
    event, body = draw(hostile_github()) if hostile else (None, draw(bodies))
    kind = draw(st.sampled_from(["valid", "valid", "wrong-key", "sha1", "garbage", "absent"]))
    headers = {"Content-Type": draw(content_types)}
    encoding = draw(encodings)
    if encoding is not None:
        headers["Content-Encoding"] = encoding
        body = encode(body, encoding)  # signed as sent
    if kind == "valid":
        headers["X-Hub-Signature-256"] = sign(body)
    elif kind == "wrong-key":
        headers["X-Hub-Signature-256"] = sign(body, "another-secret-0123456789")
    elif kind == "sha1":
        headers["X-Hub-Signature"] = "sha1=" + "0" * 40
    elif kind == "garbage":
        headers["X-Hub-Signature-256"] = draw(header_text)
    if event is not None:
        headers["X-GitHub-Event"] = event
    elif draw(st.booleans()):
        headers["X-GitHub-Event"] = draw(events)
    if draw(st.integers(0, 9)):
        headers["X-GitHub-Delivery"] = draw(st.one_of(st.uuids().map(str), header_text))
    return headers, body, kind == "valid"


async def snapshot(client: Any) -> tuple[int, ...]:
    return await table_counts(client, MODELS)


# -- GitHub ------------------------------------------------------------------------------------------


@FUZZ
@given(delivery=github_delivery())
async def test_github_endpoint_never_5xx_and_unverified_input_changes_nothing(
    fuzz_client: Any, delivery: tuple[dict[str, str], bytes, bool]
) -> None:
    headers, body, signed = delivery
    before = await snapshot(fuzz_client)
    resp = await fuzz_client.post("/webhooks/github", data=body, headers=headers)
    assert resp.status < 500, await resp.text()
    if compressed(headers):
        assert resp.status == 415, await resp.text()
        assert await snapshot(fuzz_client) == before
    elif not signed:
        assert resp.status == 401
        assert await snapshot(fuzz_client) == before
    else:
        assert resp.status in (200, 202, 400, 415), await resp.text()
        if resp.status in (400, 415):
            assert await snapshot(fuzz_client) == before


# -- Gitee -------------------------------------------------------------------------------------------

GITEE_TEMPLATES = [load_fixture("merge_request_hook.open"), load_fixture("note_hook.pull_request")]


@st.composite
def gitee_delivery(draw: st.DrawFn, secret: str) -> tuple[dict[str, str], bytes, bool]:
    """(headers, body, verified): verified by construction, not by the code under test."""
    now_ms = int(time.time() * 1000)
    fresh = draw(st.booleans())
    ts_kind = draw(st.sampled_from(["now", "now", "old", "future", "garbage", "absent"]))
    ts: str | None = {
        "now": str(now_ms - draw(st.integers(0, 60_000))),
        "old": str(now_ms - 2 * 3600 * 1000 - draw(st.integers(0, 10**9))),
        "future": str(now_ms + 2 * 3600 * 1000 + draw(st.integers(0, 10**9))),
        "garbage": draw(header_text),
        "absent": None,
    }[ts_kind]
    token_kind = draw(
        st.sampled_from(["signature", "signature-urlencoded", "password", "wrong", "absent"])
    )
    token: str | None
    if token_kind.startswith("signature") and ts is not None and ts.isdigit():
        token = gitee_signature(ts, secret)
        if token_kind == "signature-urlencoded":
            token = urllib.parse.quote_plus(token)
    elif token_kind == "password":
        token = secret
    elif token_kind == "absent":
        token = None
    else:
        token = draw(st.one_of(header_text, st.just(gitee_signature(now_ms, "not-the-secret"))))
    blank = ts is not None and not ts.strip()  # a blank timestamp counts as none
    in_window = ts is None or blank or ts_kind == "now"
    verified = (
        token is not None
        and token_kind
        in {
            "signature",
            "signature-urlencoded",
            "password",
        }
        and in_window
        and (token_kind == "password" or (ts is not None and ts.isdigit()))
    )
    if draw(st.booleans()):
        payload = json.loads(json.dumps(draw(st.sampled_from(GITEE_TEMPLATES))))
        for key in draw(st.lists(st.sampled_from(sorted(payload)), max_size=3)):
            payload[key] = draw(json_values)
        payload["nonce"] = uuid.uuid4().hex if fresh else "same"
        body = json.dumps(payload).encode()
    elif draw(st.booleans()):
        body = draw(hostile_payload(GITEE_TEMPLATES, GITEE_READ))
    else:
        body = draw(bodies)
    headers = {"Content-Type": draw(content_types)}
    encoding = draw(encodings)
    if encoding is not None:
        headers["Content-Encoding"] = encoding
        body = encode(body, encoding)
    if token is not None:
        headers["X-Gitee-Token"] = token
    if ts is not None:
        headers["X-Gitee-Timestamp"] = ts
    if draw(st.booleans()):
        headers["X-Gitee-Event"] = draw(
            st.one_of(
                st.sampled_from(["Merge Request Hook", "Note Hook", "Push Hook"]), header_text
            )
        )
    if draw(st.integers(0, 5)) == 0:
        headers["X-Gitee-Ping"] = "true"
    return headers, body, verified


@GITEE_FUZZ
@given(data=st.data())
async def test_gitee_endpoint_never_5xx_and_unverified_input_changes_nothing(
    fuzz_client: Any, gitee: FakeGitee, data: st.DataObject
) -> None:
    headers, body, verified = data.draw(gitee_delivery(gitee.webhook_secret))
    before = await snapshot(fuzz_client)
    resp = await fuzz_client.post("/webhooks/gitee", data=body, headers=headers)
    assert resp.status < 500, await resp.text()
    if compressed(headers):
        assert resp.status == 415, await resp.text()
        assert await snapshot(fuzz_client) == before
    elif not verified:
        assert resp.status == 401, (headers, await resp.text())
        assert await snapshot(fuzz_client) == before
    else:
        assert resp.status in (200, 202, 400, 401, 415), await resp.text()  # 401: a replay
        if resp.status != 202:
            assert await snapshot(fuzz_client) == before


@pytest.mark.parametrize("field", ["action", "action_desc"])
async def test_gitee_signed_delivery_with_a_list_action_is_a_client_error(
    fuzz_client: Any, gitee: FakeGitee, field: str
) -> None:
    payload = load_fixture("merge_request_hook.open")
    payload["action"] = "update"
    payload[field] = ["open"]
    headers, body = gitee.delivery(payload)
    resp = await fuzz_client.post("/webhooks/gitee", data=body, headers=headers)
    assert resp.status < 500


# -- the comment-command parser and the email normaliser -----------------------------------------

COMMAND_LINES = [
    "/cla check",
    "/check-cla",
    "/cla status",
    "/cla status @octo-cat",
    "/cla delete-my-data",
    "/cla export-my-data",
    "/cla frobnicate",
]


def _recase(text: str, flips: list[bool]) -> str:
    return "".join(
        (c.upper() if f else c.lower())
        for c, f in zip(text, flips + [False] * len(text), strict=False)
    )


@settings(max_examples=500 * SCALE, deadline=None)
@given(
    line=st.sampled_from(COMMAND_LINES),
    flips=st.lists(st.booleans(), max_size=30),
    before=st.text(alphabet=" \t", max_size=4),
    after=st.text(alphabet=" \t", max_size=4),
    noise=st.lists(
        st.text(
            alphabet=st.characters(
                blacklist_characters="/`~>\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
            ),
            max_size=30,
        ),
        max_size=3,
    ),
)
def test_commands_ignore_case_and_surrounding_blanks(
    line: str, flips: list[bool], before: str, after: str, noise: list[str]
) -> None:
    assume(parse_commands("\n".join(noise)) == ())  # noise that is itself a command (RECHECK)
    words = line.split(" ")
    keyword_part = " ".join(words[:2])
    rest = line[len(keyword_part) :]  # a login keeps its case
    variant = before + _recase(keyword_part, flips) + rest + after
    body = "\n".join([*noise, variant, *noise])
    expected = parse_commands(line)
    got = parse_commands(body)
    assert got == expected


@settings(max_examples=500 * SCALE, deadline=None)
@given(lines=st.lists(st.one_of(st.sampled_from(COMMAND_LINES), st.text(max_size=40)), max_size=8))
def test_quoted_or_fenced_commands_never_run(lines: list[str]) -> None:
    flat = [ln.replace("\r", " ").replace("\n", " ") for ln in lines]
    quoted = "\n".join("> " + ln for ln in flat)
    assert parse_commands(quoted) == ()
    plain = [ln.replace("`", "'").replace("~", "-") for ln in flat]
    fenced = "\n".join(["```", *plain, "```"])
    assert parse_commands(fenced) == ()


@settings(max_examples=1000 * SCALE, deadline=None)
@given(
    email=st.emails(),
    pad=st.text(alphabet=" \t\n", max_size=3),
    flips=st.lists(st.booleans(), max_size=60),
)
def test_email_normaliser_is_idempotent_and_case_blind(
    email: str, pad: str, flips: list[bool]
) -> None:
    variant = pad + _recase(email, flips) + pad
    assert normalise_email(normalise_email(variant)) == normalise_email(variant)
    assert normalise_email(variant) == normalise_email(email)


@settings(
    max_examples=300 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the cipher is immutable
)
@given(email=st.emails(), flips=st.lists(st.booleans(), max_size=60))
def test_blind_index_matches_exactly_the_normalised_address(
    cipher: FieldCipher, email: str, flips: list[bool]
) -> None:
    variant = " " + _recase(email, flips) + " "
    assert email_bidx(cipher, variant) == email_bidx(cipher, email)
    assert email_bidx(cipher, "x" + email) != email_bidx(cipher, email)
