"""The App's own endpoints: the manifest flow, installation tokens, ``GET /app``, webhook
deliveries (list, redeliver), and GitHub posting webhooks to the App."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import urllib.parse
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.fakeforge.common import hmac_sha256
from bot.sandbox.fakeforge.github.access import Access
from bot.sandbox.fakeforge.github.records import (
    FakeDelivery,
    FakeManifestApp,
    FakeToken,
    _Ctx,
    _HTTPError,
    _iso,
)
from bot.sandbox.fakeforge.keys import generate_app_keypair

log = logging.getLogger("bot.sandbox.fakeforge")


class AppAPI(Access):
    # -- the App manifest flow (https://docs.github.com/apps/sharing-github-apps/
    #    registering-a-github-app-from-a-manifest) -------------------------------------------------

    async def _new_app_from_manifest(self, request: web.Request) -> web.StreamResponse:
        """The page GitHub shows for a posted manifest, as if its owner clicked *Create*: the
        manifest must be valid JSON with ``url`` and ``hook_attributes.url``; GitHub then
        redirects to ``redirect_url`` with a one-hour, single-use ``code`` and the ``state``."""
        form = await request.post()
        try:
            manifest = json.loads(str(form.get("manifest", "")))
        except ValueError:
            return web.Response(status=422, text="manifest is not JSON")
        if (
            not isinstance(manifest, dict)
            or not isinstance(manifest.get("url"), str)
            or not isinstance(manifest.get("hook_attributes"), dict)
            or not isinstance(manifest["hook_attributes"].get("url"), str)
        ):
            return web.Response(status=422, text="manifest needs url and hook_attributes.url")
        redirect = manifest.get("redirect_url")
        if not isinstance(redirect, str):
            return web.Response(status=422, text="manifest needs a redirect_url here")
        callbacks = manifest.get("callback_urls", [])
        if not isinstance(callbacks, list) or len(callbacks) > 10:
            return web.Response(status=422, text="callback_urls: at most 10 URLs")
        code = secrets.token_hex(16)
        name = str(manifest.get("name") or "app")
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"
        state = request.query.get("state")
        self.manifest_apps[code] = FakeManifestApp(
            code=code,
            manifest=manifest,
            org=request.match_info.get("org"),
            state=state,
            expires_at=self.clock() + 3600,
            app_id=self.next_id(),
            slug=slug,
        )
        params = {"code": code}
        if state is not None:
            params["state"] = state
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(redirect + sep + urllib.parse.urlencode(params))

    async def _convert_manifest(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        reg = self.manifest_apps.get(ctx.params["code"])
        if reg is None or reg.converted or reg.expires_at <= self.clock():
            raise _HTTPError(404, "Not Found")
        reg.converted = True
        owner = self.user(reg.org or "octocat")
        perms = reg.manifest.get("default_permissions") or {}
        now = _iso(self.clock())
        body = {
            "id": reg.app_id,
            "slug": reg.slug,
            "node_id": f"MDM6QXBw{reg.app_id}",
            "client_id": f"Iv1.{secrets.token_hex(8)}",
            "owner": self._user_json(owner, ctx.api, ctx.web),
            "name": str(reg.manifest.get("name") or reg.slug),
            "description": reg.manifest.get("description"),
            "external_url": reg.manifest["url"],
            "html_url": f"{self.web_url}/apps/{reg.slug}",
            "created_at": now,
            "updated_at": now,
            "permissions": {str(k): str(v) for k, v in perms.items()},
            "events": [str(e) for e in reg.manifest.get("default_events") or []],
            "installations_count": 0,
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20),
            "pem": generate_app_keypair().private_pem,
        }
        return 201, body, {}

    # -- handlers: App ---------------------------------------------------------------------------

    async def _create_token(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        self._check_jwt(ctx)
        installation_id = int(ctx.params["installation_id"])
        inst = self.installations.get(installation_id)
        if inst is None:
            raise _HTTPError(404, "Not Found")
        if inst.suspended:
            raise _HTTPError(403, "This installation has been suspended")
        self.token_requests[installation_id] += 1
        expires_at = self.clock() + self.token_lifetime_s
        value = "ghs_" + secrets.token_urlsafe(27)
        self.tokens[value] = FakeToken(
            value, installation_id, expires_at, permissions=dict(inst.permissions)
        )
        body = {
            "token": value,
            "expires_at": _iso(expires_at),
            "permissions": dict(inst.permissions),
            "repository_selection": "all" if inst.repos is None else "selected",
        }
        return 201, body, {}

    async def _get_app(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """``GET /app``: the App the JWT authenticates (its ``slug`` makes its bot's login)."""
        self._check_jwt(ctx)
        return 200, self._app_json(ctx.api, ctx.web), {}

    async def _list_deliveries(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        self._check_jwt(ctx)
        items = list(reversed(self.deliveries))  # newest first
        wanted = ctx.query.get("status")
        if wanted == "success":
            items = [d for d in items if d.status == "OK"]
        elif wanted == "failure":
            items = [d for d in items if d.status != "OK"]
        per_page = max(1, min(100, int(ctx.query.get("per_page", 30))))
        cursor = ctx.query.get("cursor", "")
        start = int(cursor) if cursor.isdigit() else 0
        chunk = items[start : start + per_page]
        headers = {}
        if start + per_page < len(items):
            nxt = ctx.request.url.update_query(per_page=per_page, cursor=str(start + per_page))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return 200, [self._delivery_item(d) for d in chunk], headers

    def _find_delivery(self, ctx: _Ctx) -> FakeDelivery:
        self._check_jwt(ctx)
        wanted = int(ctx.params["delivery_id"])
        for d in self.deliveries:
            if d.id == wanted:
                return d
        raise _HTTPError(404, "Not Found")

    async def _get_delivery(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        d = self._find_delivery(ctx)
        sent = d.payload if d.payload is not None else ({"action": d.action} if d.action else {})
        body = {
            **self._delivery_item(d),
            "url": self.hook_url or "https://cla.example.org/webhooks/github",
            "request": {
                "headers": {"X-GitHub-Delivery": d.guid, "X-GitHub-Event": d.event},
                "payload": sent,
            },
            "response": {"headers": {}, "payload": d.answer or None},
        }
        return 200, body, {}

    async def _redeliver(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        d = self._find_delivery(ctx)
        self.redelivered.append(d.id)
        if self.hook_url is not None and d.payload is not None and not self.hooks_blocked:
            await self.send_hook(d.event, d.payload, guid=d.guid, redelivery=True)
            return 202, {}, {}
        self.add_delivery(
            guid=d.guid,
            event=d.event,
            action=d.action,
            status_code=self.redelivery_status_code,
            installation_id=d.installation_id,
            repository_id=d.repository_id,
            redelivery=True,
            payload=d.payload,
        )
        return 202, {}, {}

    # -- webhooks: GitHub posting to the App's webhook URL -----------------------------------------

    def hook_headers(self, guid: str, event: str, body: bytes) -> dict[str, str]:
        """The headers GitHub sends with a delivery, signed with ``hook_secret``."""
        return {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Hook-ID": "1",
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": self.app_id,
            "X-Hub-Signature-256": "sha256=" + hmac_sha256(self.hook_secret, body).hex(),
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
        }

    async def _post_hook(self, guid: str, event: str, body: bytes) -> tuple[int, str]:
        """POST one delivery to ``hook_url``: the status it got (0: none, in time) and the
        receiver's ``message`` (or why it could not be reached)."""
        assert self.hook_url is not None
        timeout = aiohttp.ClientTimeout(total=self.hook_timeout_s)
        headers = self.hook_headers(guid, event, body)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(self.hook_url, data=body, headers=headers) as resp,
            ):
                text = await resp.text(errors="replace")
                try:
                    answer = json.loads(text)
                except ValueError:
                    return resp.status, text[:200]
                message = answer.get("message", "") if isinstance(answer, dict) else ""
                return resp.status, str(message)[:200]
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("webhook %s %s not delivered: %s", event, guid, type(exc).__name__)
            return 0, f"could not reach {self.hook_url} ({type(exc).__name__})"

    async def send_hook(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        guid: str | None = None,
        redelivery: bool = False,
    ) -> FakeDelivery:
        """Deliver ``payload`` to ``hook_url`` as GitHub would, and record the attempt in the
        App's delivery log (with ``hooks_blocked`` the attempt fails: nothing reaches the bot).
        ``guid``: a redelivery's, the same as the first attempt's."""
        guid = guid or secrets.token_hex(16)
        started = time.monotonic()
        if self.hooks_blocked or self.hook_url is None:
            status, answer = 0, "no webhook URL to deliver to" if self.hook_url is None else ""
        else:
            status, answer = await self._post_hook(guid, event, json.dumps(payload).encode())
        inst, repo = payload.get("installation"), payload.get("repository")
        action = payload.get("action")
        d = self.add_delivery(
            guid=guid,
            event=event,
            action=action if isinstance(action, str) else None,
            status_code=status,
            installation_id=inst.get("id") if isinstance(inst, dict) else None,
            repository_id=repo.get("id") if isinstance(repo, dict) else None,
            redelivery=redelivery,
            payload=payload,
        )
        d.answer, d.duration_s = answer, time.monotonic() - started
        self.changes += 1
        return d
