"""Mail through the durable queue on the real database, sent to a real SMTP server on loopback:
queued only with its transaction, nothing personal stored in the clear, retried while the
server cannot take it, dead at once when it refuses, and never sent twice for one job."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sandbox.outbox import Outbox, serve
from bot.services.jobs import JobQueue, Worker
from bot.services.mail.messages import MailTemplates
from bot.services.mail.outbox import MailService, queue_mail
from bot.services.mail.transport import SmtpMailer
from bot.settings import MailSettings
from bot.storage.crypto import FieldCipher
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Job, JobKind, JobStatus

ROOT = Path(__file__).resolve().parents[3]
TO = "amy.private@example.com"
URL = "https://cla.example.org/secret-page"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


def mail_settings(port: int) -> MailSettings:
    return MailSettings(
        host="127.0.0.1",
        port=port,
        tls="when-offered",
        username=None,
        password=None,
        sender="cla@example.org",
        sender_name="CLA bot",
    )


class Setup:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, port: int
    ) -> None:
        self.clock = Clock()
        self.sessions = sessions
        self.queue = JobQueue(sessions, lease_s=60, max_attempts=3, clock=self.clock)
        settings = mail_settings(port)
        self.service = MailService(
            sessions=sessions,
            cipher=cipher,
            mailer=SmtpMailer(settings, timeout_s=2),
            settings=settings,
            templates=MailTemplates(ROOT / "templates"),
            clock=self.clock,
        )
        self.cipher = cipher
        self.deaths: list[str] = []

        async def on_dead(job: Any, error: str) -> None:
            self.deaths.append(error)

        async def handle(job: Any) -> None:
            await self.service.handlers()[JobKind(job.kind)].run(job)

        self.worker = Worker(self.queue, handle, on_dead=on_dead, concurrency=1, poll_s=0.01)

    async def put(self, *, lang: str = "en") -> None:
        async with self.sessions() as session, session.begin():
            await queue_mail(
                session, self.cipher, to=TO, kind="test", lang=lang, values={"public_url": URL}
            )

    async def job(self) -> Job:
        async with self.sessions() as session:
            return (await session.scalars(select(Job))).one()


@pytest.fixture
async def outbox() -> AsyncIterator[tuple[Outbox, int]]:
    box = Outbox()
    server, port = await serve(box)
    yield box, port
    server.close()
    await server.wait_closed()


async def test_mail_is_queued_only_with_its_transaction(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    setup = Setup(sessions, cipher, port=1)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await queue_mail(
                session, cipher, to=TO, kind="test", lang="en", values={"public_url": URL}
            )
            raise RuntimeError("the signature was not recorded after all")
    async with sessions() as session:
        assert (await session.scalars(select(Job))).all() == []
    await setup.put()
    job = await setup.job()
    assert (job.kind, job.platform, job.status) == (JobKind.MAIL, "mail", JobStatus.QUEUED)
    stored = json.dumps(job.payload)
    assert TO not in stored and "amy" not in stored and URL not in stored
    assert sorted(job.payload) == ["kind", "lang", "row", "to", "to_bidx", "values"]


async def test_a_queued_message_is_sent_once_and_its_payload_dropped(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    outbox: tuple[Outbox, int],
) -> None:
    box, port = outbox
    setup = Setup(sessions, cipher, port)
    await setup.put(lang="zh")
    assert await setup.worker.drain() == 1
    [got] = box.messages
    assert got.recipients == (TO,)
    assert got.message["Subject"] == f"来自 {URL} 的 CLA 机器人的测试邮件"
    job = await setup.job()
    assert got.message["Message-ID"].startswith(f"<cla-bot.{job.id}.")
    assert (job.status, job.payload) == (JobStatus.DONE, {})
    assert await setup.worker.drain() == 0
    assert len(box.messages) == 1


async def test_a_server_that_cannot_be_reached_is_tried_again_later(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    box = Outbox()
    server, port = await serve(box)
    server.close()
    await server.wait_closed()  # nothing listens on the port now
    setup = Setup(sessions, cipher, port)
    await setup.put()
    assert await setup.worker.drain() == 1
    job = await setup.job()
    assert (job.status, job.attempts, setup.deaths) == (JobStatus.QUEUED, 1, [])
    assert job.last_error == f"127.0.0.1:{port} cannot be reached (SMTPConnectError)"
    server, _ = await serve(box, port=port)  # the server is back
    try:
        setup.clock.now += timedelta(hours=1)
        assert await setup.worker.drain() == 1
    finally:
        server.close()
        await server.wait_closed()
    assert len(box.messages) == 1
    assert (await setup.job()).status == JobStatus.DONE


class Refusing:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 no such mailbox"


async def test_a_refused_message_is_dead_at_once(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> None:
    server, port = await serve(Refusing())
    try:
        setup = Setup(sessions, cipher, port)
        await setup.put()
        assert await setup.worker.drain() == 1
    finally:
        server.close()
        await server.wait_closed()
    job = await setup.job()
    reason = "the server refused the message (SMTPRecipientsRefused 550)"
    assert (job.status, job.attempts, job.last_error) == (JobStatus.DEAD, 1, reason)
    assert setup.deaths == [reason]


async def test_a_message_the_server_took_is_not_sent_again_by_a_later_worker(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    outbox: tuple[Outbox, int],
) -> None:
    """The worker died after the server accepted the message and the marker was committed,
    before the job was completed: the worker that takes the job over does not send it again."""
    box, port = outbox
    setup = Setup(sessions, cipher, port)
    await setup.put()
    job = await setup.queue.claim()
    assert job is not None
    await setup.service.run_job(job)  # sent; then the process dies before completing the job
    assert len(box.messages) == 1
    async with sessions() as session, session.begin():
        await session.execute(update(Job).values(lease_until=setup.clock.now))
    setup.clock.now += timedelta(minutes=5)  # the lease ran out
    assert await setup.worker.drain() == 1
    assert len(box.messages) == 1
    assert (await setup.job()).status == JobStatus.DONE
