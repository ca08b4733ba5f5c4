"""The sandbox forge: the fake GitHub the tests use, served as one GitHub on loopback that the
bot talks to exactly as to GitHub (Enterprise Server's layout: the web at ``/``, the REST API
under ``/api/v3``, GraphQL at ``/api/graphql``), with the demo's world in it and pages to play
its people.

The API, its checks and its state are :class:`~bot.sandbox.fakeforge.github.FakeGitHub`'s (not
strict: a long demo keeps no request log, an unknown path is GitHub's 404). This module wires
it with the sandbox's own parts: the world (:mod:`.world`), the pages (:mod:`.site`), the OAuth
page where the visitor picks a made-up user (:mod:`.signin`), and the webhooks the visitor's
actions send, signed with the sandbox's secret. Its App key is generated at start; everything
is in memory and gone when it stops.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.sandbox import ui
from bot.sandbox.fakeforge.github import FakeDelivery, FakeGitHub
from bot.sandbox.fakeforge.keys import new_app_keypair
from bot.sandbox.outbox import Outbox
from bot.sandbox.pages import Pages
from bot.sandbox.signin import SignIn, origin
from bot.sandbox.site import Site
from bot.sandbox.world import World

__all__ = ["API_PREFIX", "Sandbox"]

API_PREFIX = "/api/v3"
DELIVERY_TIMEOUT_S = 15.0
NOT_CONNECTED = "the bot is not connected to the sandbox yet"


class Sandbox:
    """A GitHub for one App with one installation on every repository of ``sandbox-org``."""

    def __init__(
        self,
        *,
        app_id: int = 1,
        app_slug: str = "cla-bot",
        app_name: str = "cla-bot (sandbox)",
    ) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        self.app_name = app_name
        self.webhook_secret = secrets.token_urlsafe(32)
        self.client_id = "Iv1." + secrets.token_hex(8)
        self.client_secret = secrets.token_hex(20)
        keys = new_app_keypair()
        self.private_pem = keys.private_pem
        self.fake = FakeGitHub(
            app_id=str(app_id),
            public_key_pem=keys.public_pem,
            app_slug=app_slug,
            strict=False,
            hook_timeout_s=DELIVERY_TIMEOUT_S,
        )
        self.fake.hook_secret = self.webhook_secret
        self.world = World(self.fake)
        self.pages = Pages(self.world)
        self._what: dict[str, str] = {}  # delivery guid → "sandbox-org/widgets#3", for the page
        self.site = Site(self.fake, self.world, self.pages, deliver=self.deliver, what=self._of)
        self.signin = SignIn(self.fake, self.world, self.pages, app_name)
        self._runner: web.AppRunner | None = None
        self._url = ""
        self.app = self._build_app()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        sock_port = int(self._runner.addresses[0][1])
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        self._url = f"http://{shown}:{sock_port}"
        self.fake.payload_api, self.fake.payload_web = self.api_url, self._url
        self.site.renderer = ui.Renderer(self._url)
        return self._url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.fake.close()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("the sandbox is not started")
        return self._url

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def bot_url(self) -> str:
        return self.pages.bot_url

    @property
    def outbox(self) -> Outbox | None:
        """The demo's mail server, whose messages the outbox page shows."""
        return self.site.outbox

    @outbox.setter
    def outbox(self, outbox: Outbox | None) -> None:
        self.site.outbox = outbox

    def connect(self, bot_url: str) -> None:
        """Where the bot is: its webhook endpoint and its OAuth callback."""
        self.pages.bot_url = bot_url.rstrip("/")
        self.fake.hook_url = f"{self.bot_url}/webhooks/github"
        callback = f"{self.bot_url}/sign/oauth/github/callback"
        self.fake.add_oauth_app(self.client_id, self.client_secret, callback)

    def bot_env(self) -> dict[str, str]:
        """The ``CLA_GITHUB_*`` variables that point a bot at this sandbox."""
        return {
            "CLA_GITHUB_APP_ID": str(self.app_id),
            "CLA_GITHUB_PRIVATE_KEY": self.private_pem,
            "CLA_GITHUB_WEBHOOK_SECRET": self.webhook_secret,
            "CLA_GITHUB_CLIENT_ID": self.client_id,
            "CLA_GITHUB_CLIENT_SECRET": self.client_secret,
            "CLA_GITHUB_API_URL": self.api_url,
            "CLA_GITHUB_URL": self.url,
        }

    # -- webhooks --------------------------------------------------------------------------------

    async def deliver(self, event: str, payload: dict[str, Any], *, what: str) -> FakeDelivery:
        """Sign and POST one webhook to the bot; what it answered is recorded either way."""
        d = await self.fake.send_hook(event, payload)
        self._what[d.guid] = what
        if self.fake.hook_url is None:
            d.answer = NOT_CONNECTED
        return d

    def _of(self, d: FakeDelivery) -> str:
        return self._what.get(d.guid, "")

    # -- the application -------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers])
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.fake.handle)
        app.router.add_post("/api/graphql", self.fake.handle)
        self.signin.add_routes(app.router)
        self.site.add_routes(app.router)
        return app

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.content_type == "text/html":
            targets = f" {origin(self.bot_url)}" if self.bot_url else ""
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                f"script-src 'self'; form-action 'self'{targets}; frame-ancestors 'none'; "
                "base-uri 'none'",
            )
            response.headers.setdefault("Cache-Control", "no-store")
        return response
