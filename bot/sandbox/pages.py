"""What every sandbox page shares: rendering a template with the page's version and the bot's
address, the error page, and who the browser is signed in to the sandbox as (a cookie)."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from bot.sandbox import ui
from bot.sandbox.world import World

__all__ = ["USER_COOKIE", "Pages"]

USER_COOKIE = "sandbox_user"


class Pages:
    def __init__(self, world: World) -> None:
        self.world = world
        self.bot_url = ""  # set when the bot is connected
        self._env = ui.templates()
        self._sessions: dict[str, str] = {}  # sandbox_user cookie → login

    def render(self, name: str, *, http_status: int = 200, **context: Any) -> web.Response:
        html = self._env.get_template(name).render(
            version=self.world.version, bot_url=self.bot_url, **context
        )
        return web.Response(text=html, status=http_status, content_type="text/html")

    def error(self, status: int, title: str, message: str) -> web.Response:
        return self.render(
            "error.html", http_status=status, status=status, title=title, message=message
        )

    def signed_in(self, request: web.Request) -> str | None:
        return self._sessions.get(request.cookies.get(USER_COOKIE, ""))

    def remember(self, response: web.StreamResponse, login: str) -> None:
        token = secrets.token_urlsafe(24)
        self._sessions[token] = login
        response.set_cookie(USER_COOKIE, token, path="/", httponly=True, samesite="Lax")
