"""GitHub's delivery log, for the redelivery pass: list the App's recent deliveries
(``GET /app/hook/deliveries``, App JWT), group the attempts by GUID, and redeliver one
(``POST /app/hook/deliveries/{id}/attempts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import gidgethub.aiohttp

from bot.platforms.base import Redeliveries
from bot.platforms.github.client import GitHubPlatform

# How long one App JWT serves a pass: well inside its 9 minutes of life (auth.make_app_jwt),
# so that no call of a pass, however slow, carries an expired one.
JWT_REUSE_S = 300


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class GitHubRedelivery:
    """The App's delivery log through ``platform``'s session and App JWT: one API object, and
    one JWT for every call of a pass (signing one is an RSA operation), renewed when it is
    older than :data:`JWT_REUSE_S`."""

    def __init__(self, platform: GitHubPlatform) -> None:
        self._platform = platform
        settings = platform.settings
        self._api = gidgethub.aiohttp.GitHubAPI(
            platform.session, settings.requester, base_url=settings.api_url
        )
        self._jwt: tuple[str, float] | None = None  # the JWT, and when it was made

    def _app_jwt(self) -> str:
        now = self._platform.clock()
        if self._jwt is None or not 0 <= now - self._jwt[1] < JWT_REUSE_S:
            self._jwt = (self._platform.app_jwt(), now)
        return self._jwt[0]

    async def failed_since(self, since: datetime, *, limit: int) -> Redeliveries:
        """Every GUID delivered since ``since`` (newest first, at most ``limit`` attempts read)
        that no attempt delivered, with its latest attempt's id."""
        attempts: dict[str, list[dict[str, Any]]] = {}
        seen = 0
        async for item in self._api.getiter(
            "/app/hook/deliveries?per_page=100", jwt=self._app_jwt()
        ):
            seen += 1
            when = _parse_time(item.get("delivered_at"))
            if when is not None and when < since:
                break  # newest first: the rest is older than this pass looks
            guid = item.get("guid")
            if isinstance(guid, str):
                attempts.setdefault(guid, []).append(item)
            if seen >= limit:
                break
        failed = {
            guid: max(int(i.get("id", 0)) for i in items)
            for guid, items in attempts.items()
            if not any(i.get("status") == "OK" for i in items)
        }
        return Redeliveries(seen, failed)

    async def redeliver(self, attempt_id: int) -> None:
        await self._api.post(
            "/app/hook/deliveries/{delivery_id}/attempts",
            url_vars={"delivery_id": str(attempt_id)},
            data=b"",  # no body: the operation takes none
            jwt=self._app_jwt(),
        )
