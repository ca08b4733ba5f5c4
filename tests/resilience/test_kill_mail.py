"""A ``cla-bot worker`` SIGKILLed while it hands a queued message to the SMTP server (the
server has the message's DATA on the wire and has not answered): nothing is lost — a worker
started afterwards, its clock past the dead one's lease, sends it — and nothing is doubled —
the server that took it holds exactly one copy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from bot.sandbox.outbox import Outbox, serve
from bot.services.jobs import JobQueue, now_utc
from bot.services.mail.outbox import queue_mail
from bot.storage.models import Job, JobKind
from tests.e2e.conftest import Bot
from tests.resilience.conftest import Proc, fast_config, poll_until


class Stalling:
    """Takes the message's DATA and never answers it: the sender waits until it dies."""

    def __init__(self) -> None:
        self.data_seen = 0
        self.release = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_seen += 1
        await self.release.wait()
        return "451 4.3.0 try again later"


async def test_a_worker_killed_mid_send_neither_loses_nor_doubles_the_message(
    mail_bot: Bot,
    outbox: tuple[Outbox, int],
    db_url: str,
    bot_env: Callable[..., dict[str, str]],
    procs: Callable[..., Proc],
    tmp_path: Path,
) -> None:
    box, _ = outbox
    rt = mail_bot.runtime
    async with rt.sessions() as s, s.begin():
        await queue_mail(
            s,
            rt.cipher,
            to="kim@example.org",
            kind="test",
            lang="en",
            values={"public_url": "http://cla.test"},
        )
    stalling = Stalling()
    server, port = await serve(stalling)
    try:
        env = bot_env(
            db_url,
            CLA_CONFIG=str(fast_config(tmp_path)),
            CLA_SMTP_URL=f"smtp://127.0.0.1:{port}",
            CLA_MAIL_FROM="cla@example.org",
        )
        worker = procs(env, tmp_path, "worker")
        await worker.start()
        await poll_until(
            lambda: stalling.data_seen > 0 or worker.proc.returncode is not None,
            timeout_s=60,
            what="the worker to send the message's DATA",
        )
        assert worker.proc is not None and worker.proc.returncode is None, worker.tail()
        worker.kill()
        await worker.wait()
    finally:
        stalling.release.set()
        server.close()
        await server.wait_closed()
    async with rt.sessions() as s:
        job = (await s.scalars(select(Job).where(Job.kind == JobKind.MAIL))).one()
    assert job.status == "running" and "to" in job.payload  # not lost, not marked sent

    # A new worker, its clock past the dead worker's lease, sends to the server that works.
    rt.queue = JobQueue(
        rt.sessions, lease_s=5, max_attempts=8, clock=lambda: now_utc() + timedelta(seconds=30)
    )
    assert await rt.drain() == 1
    assert len(box.messages) == 1 and box.messages[0].recipients == ("kim@example.org",)
    assert await rt.drain() == 0
    assert len(box.messages) == 1
    async with rt.sessions() as s:
        job = (await s.scalars(select(Job).where(Job.kind == JobKind.MAIL))).one()
    assert (job.status, job.attempts, job.payload) == ("done", 2, {})
