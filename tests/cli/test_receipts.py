"""``cla-bot receipt-verify`` on a real database: yes or no, and the exit code."""

from __future__ import annotations

import io
from typing import Any


async def test_receipt_verify_answers_yes_or_no(sqlite_url: str, make_settings: Any) -> None:
    import argparse
    from datetime import UTC, datetime

    from bot.cli.receipts import verify
    from bot.storage.db import create_engine, session_factory
    from bot.storage.models import AgreementVersionRow, Signature

    settings = make_settings(sqlite_url)
    engine = create_engine(sqlite_url)
    from bot.runtime import build_runtime

    await (await build_runtime(settings, clients={})).close()  # publishes the agreements
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        from sqlalchemy import select

        ver = (await s.scalars(select(AgreementVersionRow))).first()
        assert ver is not None
        sig = Signature(
            agreement_version_id=ver.id,
            source="import",
            signed_at=datetime(2026, 12, 3, 8, 48, 35, tzinfo=UTC),
        )
        s.add(sig)
        await s.flush()
        args = argparse.Namespace(
            signature=sig.id,
            agreement=ver.agreement_id,
            version=ver.version,
            sha256=ver.text_sha256,
            signed_at="2026-12-03 08:48:35 UTC",
        )
    await engine.dispose()
    out = io.StringIO()
    assert await verify(settings, args, out=out) == 0
    assert out.getvalue() == "the receipt matches a recorded signature\n"
    args.sha256 = "0" * 64
    out = io.StringIO()
    assert await verify(settings, args, out=out) == 1
    assert out.getvalue() == "the receipt does not match any recorded signature\n"
