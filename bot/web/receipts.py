"""``/receipts/verify``: whether a receipt's identifiers match a recorded signature. It writes
nothing and answers yes or no, naming nobody (a GET form: nothing personal is in its fields)."""

from __future__ import annotations

from aiohttp import web

from bot.services import receipts
from bot.web.clientip import client_key
from bot.web.keys import SESSIONS
from bot.web.signing import SIGNING

FIELDS = ("signature", "agreement", "version", "sha256", "signed_at")
MAX_FIELD = 100


async def verify_page(request: web.Request) -> web.Response:
    ctx = request.app[SIGNING]
    given = {f: request.query.get(f, "").strip()[:MAX_FIELD] for f in FIELDS}
    result: str | None = None
    status = 200
    if any(given.values()):
        if not ctx.verify_limit.allow(client_key(request)):
            return ctx.pages.error(request, "rate_limited", status=429)
        if not given["signature"].isdigit() or not all(given.values()):
            result, status = "verify_incomplete", 400
        else:
            async with request.app[SESSIONS]() as s:
                matches = await receipts.verify(
                    s,
                    signature_id=int(given["signature"]),
                    agreement_id=given["agreement"],
                    version=given["version"],
                    sha256=given["sha256"],
                    signed_at=given["signed_at"],
                )
            result = "verify_match" if matches else "verify_no_match"
    return ctx.pages.render(
        request, "receipts_verify.html", status=status, given=given, result=result
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/receipts/verify", verify_page)
