"""``create_app()``: the HTTP application — routes, middlewares and the pages' wiring.

The long-lived parts come from :func:`bot.runtime.build_runtime`, built and closed by the
application's cleanup context; this module holds nothing else, and nothing below ``web``
imports it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from html import escape

from aiohttp import web

from bot.core.model import Platform
from bot.metrics import Metrics
from bot.platforms import registry
from bot.platforms.base import ClientFactory
from bot.runtime import build_runtime, loopback_warning
from bot.settings import SAVED_ENV_FILES, Settings
from bot.web import admin as admin_api
from bot.web import company, console, health, me, receipts, signing, webhooks
from bot.web import setup as setup_pages
from bot.web.keys import CIPHER, ENGINE, METRICS, QUEUE, RUNTIME, SESSIONS, SETTINGS
from bot.web.middlewares import error_pages, security_headers
from bot.web.pages import Pages
from bot.web.ratelimit import RateLimiter
from bot.web.sessions import SessionStore

# What the page shows as code in a forge's prose: a setting's name, the policy file.
_CODE = re.compile(r"\bCLA_[A-Z0-9_]+\b|\bapp\.yaml\b")


def with_code(text: str) -> str:
    """``text`` as HTML (escaped), with the settings it names (``CLA_…``, ``app.yaml``) as code."""
    return _CODE.sub(lambda m: f"<code>{m.group(0)}</code>", escape(text))


def _saved_files() -> str:
    return " or ".join(f"<code>var/{escape(name)}</code>" for name in SAVED_ENV_FILES)


async def index(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    connections = request.app[RUNTIME].connections
    rows = []
    for forge in registry.FORGES:
        hook = f"{settings.public_url}/webhooks/{forge.name}"
        if forge.name in connections:
            rows.append(
                f"<li>{escape(forge.display_name)} is connected; webhooks go to "
                f"<code>{escape(hook)}</code>.</li>"
            )
            continue
        how = f' (<a href="{escape(forge.setup_path)}">how</a>)' if forge.setup_path else ""
        rows.append(
            f"<li><strong>{escape(forge.display_name)} is not connected.</strong> "
            f"{with_code(forge.not_connected)} Its webhook goes to <code>{escape(hook)}</code>"
            f"{how}. To try the bot without any forge first, run <code>cla-bot demo</code>."
            "</li>"
        )
    if loopback_warning(settings) is not None:
        rows.insert(
            0,
            '<li id="loopback-warning"><strong>Links point at this machine only.</strong> '
            f"<code>CLA_PUBLIC_URL</code> is <code>{escape(settings.public_url)}</code>, a "
            "loopback address: the signing links the bot posts on pull requests, and the "
            "webhooks the forge sends, reach nobody else. Set <code>CLA_PUBLIC_URL</code> to "
            "the address people and the forge use (in the environment, or in "
            f"{_saved_files()}) and restart.</li>",
        )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>cla-bot</title></head><body><main><h1>cla-bot</h1>"
        f"<p>Required agreement: <code>{escape(settings.policy.required_agreement)}</code>.</p>"
        f"<ul>{''.join(rows)}</ul>"
        '<p>Health: <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> · '
        '<a href="/metrics">/metrics</a></p></main></body></html>'
    )
    return web.Response(text=html, content_type="text/html")


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    clients: Mapping[Platform, ClientFactory] | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    pages = Pages(settings.templates_dir)
    app = web.Application(
        client_max_size=webhooks.MAX_BODY_BYTES + 1024,
        middlewares=[security_headers, error_pages(pages)],
        # Request bodies reach the handlers as sent: a compressed one is refused there (415)
        # instead of being inflated by the HTTP parser, without limit or traceback.
        handler_args={"auto_decompress": False},
    )
    app[SETTINGS] = settings

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, clients=clients, metrics=metrics)
        app[RUNTIME] = runtime
        app[ENGINE] = runtime.engine
        app[SESSIONS] = runtime.sessions
        app[QUEUE] = runtime.queue
        app[METRICS] = runtime.metrics
        app[CIPHER] = runtime.cipher
        app[signing.SIGNING] = signing.SigningContext(
            settings=settings,
            pages=pages,
            store=SessionStore(
                runtime.sessions,
                runtime.cipher,
                secure_cookies=settings.public_url.startswith("https://"),
            ),
            providers=signing.providers_from(settings),
            http=runtime.http,
            login_limit=RateLimiter(limit=20, window_s=60),
            sign_limit=RateLimiter(limit=10, window_s=60),
        )

        if run_worker:
            runtime.start_worker()
        yield
        await runtime.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_post("/webhooks/{forge}", webhooks.receive)
    signing.setup(app, settings)
    admin_api.setup(app)
    me.setup(app)
    console.setup(app)
    company.setup(app)
    receipts.setup(app)
    setup_pages.setup(app, settings)
    signing.setup_communities(app)  # last: the other /sign/… routes win
    return app


__all__ = ["RUNTIME", "create_app", "index"]
