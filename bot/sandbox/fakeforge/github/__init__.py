"""A fake GitHub REST API: a real aiohttp server on 127.0.0.1 with in-memory state.

It serves the endpoints the bot uses (paths exactly as GitHub's, also under ``/api/v3`` like
GitHub Enterprise Server), and checks every request against the OpenAPI subset extracted from
``@octokit/openapi`` (``bot/sandbox/fakeforge/data/github/openapi-subset.json``): the path must
exist for the method, query and path parameters must be declared with the right type, and a
JSON body must validate against the operation's request-body schema. A mismatch is answered
with HTTP 599 and appended to ``fake.violations`` — tests assert ``fake.violations == []``.
Every 2xx answer of the fake itself is validated against the operation's response schema too
(a fake bug is a violation as well), so what the bot parses has GitHub's shape.

Typical use::

    async with FakeGitHub(app_id="1", public_key_pem=keys.public_pem) as fake:
        fake.add_installation(7, repos=["octo/hello"])
        pr = fake.add_pr("octo/hello", commits=3, author="alice")
        ...  # point the bot at fake.url (or fake.ghes_url)
        assert fake.status_for(pr.head_sha, "cla").state == "success"

Auth: ``POST /app/installations/{id}/access_tokens`` and ``/app/hook/...`` need the App JWT
(RS256, verified with the App's public key; ``iss`` = app id, ``iat`` not in the future beyond
30 s, ``exp`` − ``iat`` ≤ 600 s, not expired). Repository routes need an installation token
(``Authorization: token …`` or ``Bearer …``) of an installation that can see the repository:
unknown, expired or revoked tokens get ``401 {"message": "Bad credentials"}``.

Permissions: each installation holds a permission map (``FakeInstallation.permissions``; by
default the manifest's ``default_permissions`` read from ``app.yaml``). A route that needs a
permission the installation lacks answers as GitHub does: ``403 {"message": "Resource not
accessible by integration", "documentation_url": …, "status": "403"}`` with
``X-Accepted-GitHub-Permissions: contents=read`` (``_require``). GitHub may let public
resources through without the permission; the fake never does, so tests hold either way.

GraphQL: ``POST /graphql`` (``/api/graphql`` like GitHub Enterprise Server) validates every query
against GitHub's published schema (``bot/sandbox/fakeforge/data/github/graphql-schema.graphql.gz``,
from ``@octokit/graphql-schema``) with graphql-core — an invalid query is a violation (kind
``graphql``) — and executes it against the fake's state: repositories, pull requests, their
commits and each commit's ``authors`` (the git author, then every ``Co-authored-by:`` trailer,
``user`` linked through verified emails set with ``set_emails``, or a noreply address's id).
Errors come as GitHub's do: HTTP 200 with ``errors[]`` carrying ``type`` (``NOT_FOUND``,
``FORBIDDEN``) and partial ``data``.

Faults: ``fake.inject("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", status=502)`` makes the
next matching request(s) fail (``times``), optionally with headers/body or after ``delay_s``
(``fake.inject("POST", "/graphql", …)`` for GraphQL).

Webhooks: ``await fake.send_hook(event, payload)`` POSTs to ``hook_url``, signed with
``hook_secret`` (``X-Hub-Signature-256``), and records the attempt in the App's delivery log with
the receiver's status and ``message`` (status 0: not reached within ``hook_timeout_s``); the
payloads (``pull_request_event`` …) carry URLs on ``payload_api`` / ``payload_web``.

OAuth: the web side's authorize page grants at once to ``signed_in``; a server with a page of its
own calls ``authorization(params)`` (refused with :class:`OAuthRefused`), ``grant(params,
login)`` and, for the token endpoint, ``exchange_code(form)``.

The sandbox (``cla-bot demo``) runs on this fake with ``strict=False``: no request log is kept
over a long demo and a path GitHub does not have is its plain 404, not a violation; its pages
mount the API with ``handle`` and poll ``changes`` (successful writes so far).
"""

from __future__ import annotations

from bot.sandbox.fakeforge.faults import Fault
from bot.sandbox.fakeforge.github.app import FakeGitHub
from bot.sandbox.fakeforge.github.events import (
    load_all_webhook_examples,
    load_webhook_example,
    webhook_example,
)
from bot.sandbox.fakeforge.github.openapi import OpenAPI
from bot.sandbox.fakeforge.github.records import (
    DATA,
    OPENAPI_SUBSET,
    FakeCheckRun,
    FakeComment,
    FakeCommit,
    FakeDelivery,
    FakeInstallation,
    FakeIssue,
    FakeLabel,
    FakePR,
    FakeRepo,
    FakeStatus,
    FakeToken,
    FakeUser,
    Recorded,
    Violation,
    manifest_permissions,
)
from bot.sandbox.fakeforge.github.users import OAuthRefused
from bot.sandbox.fakeforge.keys import AppKeyPair, generate_app_keypair

__all__ = [
    "DATA",
    "OPENAPI_SUBSET",
    "AppKeyPair",
    "FakeCheckRun",
    "FakeComment",
    "FakeCommit",
    "FakeDelivery",
    "FakeGitHub",
    "FakeInstallation",
    "FakeIssue",
    "FakeLabel",
    "FakePR",
    "FakeRepo",
    "FakeStatus",
    "FakeToken",
    "FakeUser",
    "Fault",
    "OAuthRefused",
    "OpenAPI",
    "Recorded",
    "Violation",
    "generate_app_keypair",
    "load_all_webhook_examples",
    "load_webhook_example",
    "manifest_permissions",
    "webhook_example",
]
