"""Coverage-guided fuzzing (atheris) of what both webhook endpoints do with a delivery before
anything is stored: signature checks on arbitrary headers, then JSON decoding and routing of
arbitrary bodies (signed here, so that routing is reached). Any exception other than the
documented ``PayloadError`` family (``PayloadError``, ``NotJson``) — which the endpoints
answer 400 — would be a 5xx.

Run by ``make soak`` (``-max_total_time=SECONDS``); not part of ``make test``::

    python tests/resilience/atheris_webhooks.py -max_total_time=300
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import atheris

with atheris.instrument_imports():
    from bot.platforms.gitee import routing as gitee_routing
    from bot.platforms.gitee import sansio as gitee_sansio
    from bot.platforms.github import routing
    from bot.platforms.github.webhooks import verify_github_signature
    from bot.platforms.payload import PayloadError

SECRET = "fuzz-webhook-secret-0123456789"


def _route_github(event: str, body: bytes) -> None:
    with contextlib.suppress(PayloadError):
        routing.route(event, body)


def _route_gitee(event: str, body: bytes) -> None:
    with contextlib.suppress(PayloadError):
        gitee_routing.route(event, body, bot_login="cla-robot")


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    header = fdp.ConsumeUnicodeNoSurrogates(80)
    event = fdp.PickValueInList(
        [
            "pull_request",
            "issue_comment",
            "installation",
            "installation_repositories",
            "Merge Request Hook",
            "Note Hook",
            fdp.ConsumeUnicodeNoSurrogates(20),
        ]
    )
    body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096))
    verify_github_signature(SECRET, body, header)
    headers = {
        "X-Gitee-Token": header,
        "X-Gitee-Timestamp": fdp.ConsumeUnicodeNoSurrogates(16),
        "X-Gitee-Event": event,
    }
    with contextlib.suppress(gitee_sansio.GiteeAuthError):
        gitee_sansio.verify(headers, secret=SECRET, now_ms=int(time.time() * 1000), window_s=3600)
    gitee_sansio.delivery_key(headers, body)
    _route_github(event, body)
    _route_gitee(event, body)


def main() -> None:
    import shutil
    import tempfile

    # Seeds: the real payloads, copied (libFuzzer writes new inputs into its corpus directory).
    corpus = Path(tempfile.mkdtemp(prefix="cla-atheris-"))
    from bot.sandbox.fakeforge.github import DATA

    for path in [*DATA.glob("webhooks/*.json"), *DATA.glob("gitee/*hook*.json")]:
        shutil.copy(path, corpus / path.name)
    atheris.Setup([*sys.argv, str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
