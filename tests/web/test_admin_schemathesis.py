"""schemathesis against ``/api/v1/openapi.json`` on a live loopback server with an admin token:
no 5xx on any input, and valid input gets answers that match the description (status codes,
content types, headers, bodies). Also realistic requests that reach the 200 answers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
# Imported now, at collection, not lazily by ``from_url`` deep inside a running test: there
# CPython 3.11's AST recursion-depth bookkeeping (gh-106905) can fail the import of this module
# with "SystemError: AST constructor recursion depth mismatch" (seen under pytest's assertion
# rewriting of schemathesis, its plugin).
pytest.importorskip("schemathesis.specs.openapi.schemas")

from aiohttp import web  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text  # noqa: E402

from bot.services.admin import tokens  # noqa: E402
from bot.storage.db import create_engine  # noqa: E402
from bot.storage.models import Base, PrCheck, Repository  # noqa: E402
from bot.storage.pr_checks import replace_contributors  # noqa: E402
from bot.storage.signatures import NewSignature, record_signature  # noqa: E402
from bot.web import admin as admin_api  # noqa: E402
from bot.web.app import create_app  # noqa: E402
from bot.web.keys import CIPHER, SESSIONS  # noqa: E402
from tests.helpers import sign_company  # noqa: E402

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}


class LiveServer:
    """The real app on 127.0.0.1, in a thread with its own event loop (schemathesis is
    synchronous)."""

    def __init__(self, conf: Any) -> None:
        self.conf = conf
        self.loop = asyncio.new_event_loop()
        self.ready: concurrent.futures.Future[tuple[str, str]] = concurrent.futures.Future()
        self.thread = threading.Thread(target=self._run, name="admin-api-server", daemon=True)
        self.runner: web.AppRunner | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.ready.set_result(self.loop.run_until_complete(self._start()))
        except BaseException as exc:
            self.ready.set_exception(exc)
            return
        self.loop.run_forever()
        self.loop.run_until_complete(self._stop())
        self.loop.close()

    async def _start(self) -> tuple[str, str]:
        if not self.conf.database_url.startswith(
            "sqlite"
        ):  # the session's PostgreSQL database: start empty
            engine = create_engine(self.conf.database_url)
            async with engine.begin() as conn:
                names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            await engine.dispose()
        app = create_app(self.conf, run_worker=False, clients={})
        if not any(
            r.get_info().get("path") == "/api/v1/openapi.json" for r in app.router.resources()
        ):
            admin_api.setup(app)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        async with app[SESSIONS]() as s, s.begin():
            await record_signature(
                s,
                app[CIPHER],
                NewSignature(
                    platform="github",
                    account_id="583231",
                    login="octocat",
                    email="mona@example.com",
                    name="=Mona",
                    agreement_id="individual",
                    version="1.0",
                    signed_at=datetime(2024, 1, 2, tzinfo=UTC),
                    source="web",
                ),
            )
            check = PrCheck(
                platform="github",
                repo_full_name="acme/widgets",
                number=7,
                head_sha="a" * 40,
                installation_id=1,
            )
            s.add(check)
            s.add(Repository(platform="github", full_name="acme/widgets", installation_id=1))
            await s.flush()
            await replace_contributors(s, check, {"github:583231": True})
            await sign_company(s, app[CIPHER], domains=["example.com"])
            token, _ = await tokens.create_token(s, name="schemathesis", scope="admin")
        return f"http://127.0.0.1:{port}", token

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def __enter__(self) -> tuple[str, str]:
        self.thread.start()
        return self.ready.result(timeout=60)

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)


BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("CLA_TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, make_settings: Any) -> Iterator[tuple[str, str]]:
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_database"
    url: str = request.getfixturevalue(fixture)
    with LiveServer(make_settings(url)) as (base, token):
        yield base, token


def test_schemathesis_finds_no_5xx_and_answers_match_the_description(
    live: tuple[str, str],
) -> None:
    base, token = live
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    auth = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # every documented operation (schemathesis leaves out the URL it loaded the schema from)
    assert {op.label for op in operations} == {
        f"{m.upper()} {p}"
        for p, item in schema.raw_schema["paths"].items()
        for m in item
        if p != "/api/v1/openapi.json"
    }
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            fuzz(operation, mode, examples, base, auth)()


def fuzz(operation: Any, mode: Any, examples: int, base: str, auth: dict[str, str]) -> Any:
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else [not_a_server_error]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base, headers=auth, checks=checks)

    return run


def test_realistic_requests_get_described_answers(live: tuple[str, str]) -> None:
    """The random inputs above rarely hit the seeded records: these do, with every check."""
    base, token = live
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    auth = {"Authorization": f"Bearer {token}"}
    cases = [
        (
            "GET",
            "/api/v1/accounts/{platform}/{account}",
            {"platform": "github", "account": "octocat"},
            None,
            None,
        ),
        (
            "GET",
            "/api/v1/accounts/{platform}/{account}",
            {"platform": "github", "account": "583231"},
            None,
            None,
        ),
        ("POST", "/api/v1/emails/status", None, None, {"email": "MONA@example.com"}),
        (
            "GET",
            "/api/v1/prs/{platform}/{owner}/{repo}/{number}",
            {"platform": "github", "owner": "acme", "repo": "widgets", "number": 7},
            None,
            None,
        ),
        (
            "POST",
            "/api/v1/prs/{platform}/{owner}/{repo}/{number}/recheck",
            {"platform": "github", "owner": "acme", "repo": "widgets", "number": 7},
            None,
            None,
        ),
        (
            "POST",
            "/api/v1/repos/{platform}/{owner}/{repo}/recheck",
            {"platform": "github", "owner": "acme", "repo": "widgets"},
            None,
            None,
        ),
        ("GET", "/api/v1/agreements", None, None, None),
        ("GET", "/api/v1/signatures", None, {"include_contact": "true", "limit": 1}, None),
        (
            "GET",
            "/api/v1/signatures.csv",
            None,
            {"agreement": "individual", "include_contact": "true"},
            None,
        ),
        ("GET", "/api/v1/companies", None, {"pending": "true"}, None),
        ("GET", "/api/v1/companies/{id}", {"id": 1}, None, None),
        ("POST", "/api/v1/companies/{id}/approve", {"id": 1}, None, None),
        (
            "POST",
            "/api/v1/companies/{id}/reject",
            {"id": 1},
            None,
            {"reason": "not the company", "domain": "example.com"},
        ),
        ("GET", "/api/v1/openapi.json", None, None, None),
    ]
    for method, path, path_parameters, query, body in cases:
        operation = schema[path][method]
        kwargs: dict[str, Any] = {}
        if path_parameters is not None:
            kwargs["path_parameters"] = path_parameters
        if query is not None:
            kwargs["query"] = query
        if body is not None:
            kwargs["body"] = body
            kwargs["media_type"] = "application/json"
        case = operation.Case(**kwargs)
        response = case.call_and_validate(base_url=base, headers=auth, checks=POSITIVE_CHECKS)
        assert response.status_code in (200, 202), (path, response.status_code)
