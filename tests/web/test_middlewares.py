"""Answers the middlewares give: unknown paths get the bot's own page in the visitor's language
(JSON under /api/ and /webhooks/), with the security headers every page has."""

from __future__ import annotations

from typing import Any

import pytest

from bot.web.app import create_app


@pytest.fixture
async def client(aiohttp_client: Any, sqlite_url: str, make_settings: Any) -> Any:
    return await aiohttp_client(create_app(make_settings(sqlite_url), run_worker=False, clients={}))


@pytest.mark.parametrize(
    ("path", "headers", "lang", "title", "message"),
    [
        (
            "/no/such/page",
            {},
            'lang="en"',
            "<h1>Page not found</h1>",
            "There is no page at this address.",
        ),
        (
            "/sign/individual/nope/deeper",
            {"Accept-Language": "zh-CN,zh;q=0.9"},
            'lang="zh-CN"',
            "<h1>找不到页面</h1>",
            "此地址没有页面。",
        ),
        ("/me/nope?lang=zh", {}, 'lang="zh-CN"', "<h1>找不到页面</h1>", "此地址没有页面。"),
    ],
)
async def test_an_unknown_path_gets_the_bots_page_in_the_visitors_language(
    client: Any, path: str, headers: dict[str, str], lang: str, title: str, message: str
) -> None:
    resp = await client.get(path, headers=headers)
    page = await resp.text()
    assert resp.status == 404
    assert resp.content_type == "text/html"
    assert "404: Not Found" not in page
    assert lang in page and title in page and message in page
    assert '<link rel="stylesheet" href="/static/style.css">' in page
    assert '<a class="button" href="/sign">' in page
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_wrong_method_on_a_page_gets_the_bots_page(client: Any) -> None:
    resp = await client.post("/me/export.json")
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET,HEAD"
    page = await resp.text()
    assert "<h1>Page not found</h1>" not in page
    assert "This address does not take that kind of request." in page
    assert '<link rel="stylesheet" href="/static/style.css">' in page


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/no-such-thing", 404),
        ("GET", "/api/", 404),
        ("POST", "/webhooks/gitlab", 404),
        ("GET", "/webhooks/github", 405),
    ],
)
async def test_machine_paths_keep_json_answers(
    client: Any, method: str, path: str, status: int
) -> None:
    resp = await client.request(method, path)
    assert resp.status == status
    assert resp.content_type == "application/json"
    reason = {404: "not found", 405: "method not allowed"}[status]
    assert await resp.json() == {"message": reason}


async def test_a_handlers_own_not_found_keeps_its_words(client: Any) -> None:
    """``/sign/login/gitlab``: the handler says what is missing; the page keeps that."""
    resp = await client.get("/sign/login/gitlab")
    page = await resp.text()
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "this platform is not configured for signing" in page
    assert '<link rel="stylesheet" href="/static/style.css">' in page
