"""A fake Gitee API v5: a real aiohttp server on 127.0.0.1 with in-memory state.

It serves, under ``/api/v5`` like gitee.com, the endpoints the bot uses, and checks what Gitee
documents (there is no reliable OpenAPI description to validate against, so the checks are
written out here; each names its source):

* a token on every call — ``Authorization: Bearer|token <t>`` or the ``access_token`` query
  parameter (swagger: every operation takes ``access_token``); anything else gets
  ``401 {"message": "401 Unauthorized: Access token does not exist"}``;
* query parameters must be documented for the route (``page``/``per_page`` ≤ 100 on lists, none
  on ``…/pulls/{n}/commits``, which lists at most 250 commits without paging);
* ``POST|PUT …/pulls/{n}/labels`` bodies are a **bare JSON array** of names (go-gitee: "the
  gitee api is not normalized"); ``{"labels": [...]}`` is refused;
* comment bodies are ``{"body": "<non-empty>"}``;
* a label name is one path segment: ``DELETE …/labels/cla/yes`` (a raw ``/``) matches no route
  and gets 404, only ``cla%2Fyes`` works ("gitee's bug", opensourceways community-robot-lib);
  comma-separated names remove several labels at once;
* comments are created on ``/pulls/{n}/comments`` and read/edited/deleted at
  ``/pulls/comments/{id}``.

A request the fake refuses for its shape is answered 400 (as Gitee does) **and** appended to
``fake.violations``; tests assert ``fake.violations == []``.

List endpoints answer ``total_count`` / ``total_page`` headers. Labels added to a PR are created
in the repository when missing (as the Gitee web UI does for new PR labels; an assumption).

Faults: ``fake.inject("GET", "/repos/{owner}/{repo}/pulls/{number}", status=502, times=2)``
makes the next matching request(s) fail, optionally with headers/body, or wait ``delay_s``.

Webhooks: ``merge_request_event(pr, action=…, action_desc=…)`` and ``note_event(comment)``
build bodies from the templates in ``bot/sandbox/fakeforge/data/gitee``;
``fake.delivery(payload, mode=…)`` or the module-level ``signed_headers(body, secret=…,
mode=…)`` make the headers Gitee sends. The signature is computed here independently of
``bot.platforms.gitee.sansio``.
"""

from __future__ import annotations

from bot.sandbox.fakeforge.faults import Fault
from bot.sandbox.fakeforge.gitee.app import FakeGitee
from bot.sandbox.fakeforge.gitee.events import HOOK_EVENTS, gitee_signature, signed_headers
from bot.sandbox.fakeforge.gitee.records import (
    API_PREFIX,
    FIXTURES,
    FakeComment,
    FakeCommit,
    FakeLabel,
    FakePR,
    FakeRepo,
    FakeUser,
    Mode,
    Recorded,
    Violation,
    load_fixture,
)

__all__ = [
    "API_PREFIX",
    "FIXTURES",
    "HOOK_EVENTS",
    "FakeComment",
    "FakeCommit",
    "FakeGitee",
    "FakeLabel",
    "FakePR",
    "FakeRepo",
    "FakeUser",
    "Fault",
    "Mode",
    "Recorded",
    "Violation",
    "gitee_signature",
    "load_fixture",
    "signed_headers",
]
