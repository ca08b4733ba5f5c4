"""The ingest baseline: a bare aiohttp server whose handler verifies the HMAC of the raw body
and answers 202 — what any webhook receiver must do at the least. Run as
``python -m bench.baseline PORT SECRET``; it prints ``ready`` once listening."""

from __future__ import annotations

import hashlib
import hmac
import sys

from aiohttp import web


def make_app(secret: str) -> web.Application:
    key = secret.encode()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        given = request.headers.get("X-Hub-Signature-256", "")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return web.json_response({"message": "bad signature"}, status=401)
        return web.json_response({"message": "accepted"}, status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=26 * 1024 * 1024)
    app.router.add_post("/webhooks/github", hook)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    port, secret = int(sys.argv[1]), sys.argv[2]
    print("ready", flush=True)
    web.run_app(make_app(secret), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
