"""/api/v1/communities: read with the read scope, change with admin; app.yaml's communities and
links shown with source ``file`` and refused with 409; clear 4xx answers that write nothing;
changes audited with the token and a link re-checking the open PRs it covers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.core.communities import DEFAULT_COMMUNITY
from bot.services.admin import tokens
from bot.storage import communities as stored
from bot.storage.models import AuditEvent, CommunityRow, Job, PrCheck
from bot.web.keys import SESSIONS
from tests.web.test_admin_api import api_app, bearer

BASE = "/api/v1/communities"


@pytest.fixture
async def api(aiohttp_client: Any, db_url: str, make_settings: Any) -> Any:
    app = api_app(make_settings(db_url))
    client = await aiohttp_client(app)
    client.tokens = {}
    async with app[SESSIONS]() as s, s.begin():
        await stored.sync_file_communities(
            s, [(DEFAULT_COMMUNITY, "Default", [("github", "acme", None)])]
        )
        s.add(
            PrCheck(
                platform="github",
                repo_full_name="Mind/widgets",
                number=3,
                head_sha="a" * 40,
                installation_id=1,
            )
        )
        for scope in tokens.SCOPES:
            value, _ = await tokens.create_token(s, name=f"{scope} token", scope=scope)
            client.tokens[scope] = value
    return client


async def _audit(api: Any) -> list[tuple[str, str, str]]:
    async with api.app[SESSIONS]() as s:
        rows = (await s.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        return [(e.action, e.actor[:8], e.via) for e in rows]


async def test_reading_needs_a_token_and_shows_sources(api: Any) -> None:
    assert (await api.get(BASE)).status == 401
    resp = await api.get(BASE, headers=bearer(api.tokens["read"]))
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    [default] = (await resp.json())["items"]
    assert default["id"] == "default"
    assert default["source"] == "file"
    assert default["links"] == [{"scope": "github:acme", "source": "file"}]
    one = await api.get(f"{BASE}/default", headers=bearer(api.tokens["read"]))
    assert await one.json() == default
    missing = await api.get(f"{BASE}/nope", headers=bearer(api.tokens["read"]))
    assert missing.status == 404
    assert "nope" in (await missing.json())["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", BASE, {"id": "lab", "name": "Lab"}),
        ("PATCH", f"{BASE}/default", {"name": "X"}),
        ("DELETE", f"{BASE}/default", None),
        ("POST", f"{BASE}/default/links", {"scope": "github:x"}),
        ("DELETE", f"{BASE}/default/links/github:acme", None),
    ],
)
async def test_changes_need_the_admin_scope(api: Any, method: str, path: str, body: Any) -> None:
    for scope in ("read", "export"):
        resp = await api.request(method, path, json=body, headers=bearer(api.tokens[scope]))
        assert resp.status == 403
    assert await _audit(api) == []


async def test_create_link_unlink_rename_delete(api: Any) -> None:
    admin = bearer(api.tokens["admin"])
    made = await api.post(BASE, json={"id": "mind", "name": "Mind"}, headers=admin)
    assert made.status == 201
    assert (await made.json())["source"] == "console"
    linked = await api.post(f"{BASE}/mind/links", json={"scope": "github:Mind"}, headers=admin)
    assert linked.status == 201
    body = await linked.json()
    assert body["rechecks"] == 1
    assert body["community"]["links"] == [{"scope": "github:mind", "source": "console"}]
    renamed = await api.patch(f"{BASE}/mind", json={"name": "Mind Lab"}, headers=admin)
    assert (await renamed.json())["name"] == "Mind Lab"
    unlinked = await api.delete(f"{BASE}/mind/links/github%3Amind", headers=admin)
    assert unlinked.status == 200
    assert (await unlinked.json())["rechecks"] == 1
    await api.post(f"{BASE}/mind/links", json={"scope": "gitee:mind/x"}, headers=admin)
    repo_unlinked = await api.delete(f"{BASE}/mind/links/gitee:mind%2Fx", headers=admin)
    assert repo_unlinked.status == 200, await repo_unlinked.text()
    deleted = await api.delete(f"{BASE}/mind", headers=admin)
    assert await deleted.json() == {"deleted": "mind", "rechecks": 0}
    async with api.app[SESSIONS]() as s:
        assert await s.get(CommunityRow, "mind") is None
        assert len((await s.scalars(select(Job))).all()) == 2  # linked, then unlinked
    assert [a for a, _, _ in await _audit(api)] == [
        "community-create",
        "community-link",
        "community-rename",
        "community-unlink",
        "community-link",
        "community-unlink",
        "community-delete",
    ]
    assert {(actor, via) for _, actor, via in await _audit(api)} == {("token:cl", "api")}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", BASE, {"id": "default", "name": "Again"}, 409, "exists already"),
        ("POST", BASE, {"id": "Bad Id", "name": "X"}, 422, "community id"),
        ("POST", BASE, {"id": "login", "name": "X"}, 422, "reserved"),
        ("POST", BASE, {"id": 7, "name": "X"}, 422, "id must be a string"),
        ("POST", BASE, {"id": "lab"}, 422, "name"),
        ("POST", BASE, ["not", "an object"], 422, "object"),
        ("PATCH", f"{BASE}/default", {"name": "X"}, 409, "app.yaml"),
        ("PATCH", f"{BASE}/nope", {"name": "X"}, 404, "nope"),
        ("DELETE", f"{BASE}/default", None, 409, "app.yaml"),
        ("DELETE", f"{BASE}/default/links/github:acme", None, 409, "app.yaml"),
        ("DELETE", f"{BASE}/default/links/github:other", None, 404, "not linked"),
        ("POST", f"{BASE}/default/links", {"scope": "github:acme"}, 409, "linked to"),
        ("POST", f"{BASE}/default/links", {"scope": "svn:acme"}, 422, "unknown forge"),
        ("POST", f"{BASE}/default/links", {"scope": None}, 422, "scope"),
        ("POST", f"{BASE}/nope/links", {"scope": "github:x"}, 404, "nope"),
    ],
)
async def test_refusals_are_clear_and_write_nothing(
    api: Any, method: str, path: str, body: Any, status: int, says: str
) -> None:
    resp = await api.request(method, path, json=body, headers=bearer(api.tokens["admin"]))
    assert resp.status == status
    assert says in (await resp.json())["message"]
    assert await _audit(api) == []
    async with api.app[SESSIONS]() as s:
        assert [c.id for c in await stored.list_communities(s)] == ["default"]
        assert [link.scope for link in await stored.list_links(s)] == ["github:acme"]
        assert (await s.scalars(select(Job))).all() == []


async def test_a_body_that_is_not_json_is_400(api: Any) -> None:
    resp = await api.post(
        BASE,
        data=b"{not json",
        headers={**bearer(api.tokens["admin"]), "Content-Type": "application/json"},
    )
    assert resp.status == 400
    other = await api.post(BASE, data=b"x", headers=bearer(api.tokens["admin"]))
    assert other.status == 415
