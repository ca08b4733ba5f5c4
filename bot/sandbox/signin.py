"""Signing in to the sandbox with OAuth: GitHub's authorize page, where the visitor picks which
made-up user they are instead of typing a password.

The fake GitHub judges the request and makes the grant (``authorization``, ``grant``); the code
is exchanged at ``POST /login/oauth/access_token``, the fake's own, like any other. Whoever was
picked is remembered in a cookie, so the next sign-in and the emails page start there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from bot.sandbox.fakeforge.github import FakeGitHub, OAuthRefused
from bot.sandbox.pages import Pages
from bot.sandbox.world import World

__all__ = ["SignIn"]

NOT_RIGHT = "This sign-in link is not right"


class SignIn:
    def __init__(self, fake: FakeGitHub, world: World, pages: Pages, app_name: str) -> None:
        self.fake = fake
        self.world = world
        self.pages = pages
        self.app_name = app_name

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/login/oauth/authorize", self.page)
        router.add_post("/login/oauth/authorize", self.authorize)
        router.add_post("/login/oauth/access_token", self.fake.oauth_access_token)

    async def page(self, request: web.Request) -> web.Response:
        try:
            params = self.fake.authorization(request.query)
        except OAuthRefused as exc:
            return self.pages.error(400, NOT_RIGHT, exc.message)
        cancel = _with_query(
            params["redirect_uri"],
            {"error": "access_denied", **({"state": params["state"]} if "state" in params else {})},
        )
        return self.pages.render(
            "authorize.html",
            app_name=self.app_name,
            redirect_origin=origin(params["redirect_uri"]),
            params=sorted(params.items()),
            people=self.world.people,
            current=self.pages.signed_in(request) or params.get("login", ""),
            cancel_url=cancel,
        )

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        form: Any = await request.post()
        try:
            self.fake.authorization(form)
        except OAuthRefused as exc:
            return self.pages.error(400, NOT_RIGHT, exc.message)
        person = self.world.find_user(str(form.get("login", "")))
        if person is None or person not in self.world.people:
            return self.pages.error(400, "Pick someone", "Choose one of the made-up users.")
        response = web.HTTPFound(self.fake.grant(form, person.login))
        self.pages.remember(response, person.login)
        raise response


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_query(url: str, params: dict[str, str]) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + urlencode(params)
