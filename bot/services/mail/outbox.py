"""Mail goes through the durable job queue: queued in the caller's transaction (so it is sent
if and only if what it tells of is committed), retried with backoff while the server cannot
take it, never lost on a crash.

A queued message holds no personal data in the clear: the address and the template's values
are encrypted (bound to the job's random ``row`` token), and the address's blind index lets
an erasure find it. Once the server has accepted the message, the job's payload is replaced by
a marker in its own transaction, so a worker that takes the job over later does not send it
again; only a crash in the instant between the server's acceptance and that commit can repeat
it, and the repeat carries the same Message-ID. Completing the job drops the payload.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.errors import BotError
from bot.services.jobs import ClaimedJob, GiveUp, JobHandler, NewJob, RetryLater, enqueue, now_utc
from bot.services.mail.messages import Attachment, MailTemplates, compose, digest, message_id
from bot.services.mail.transport import Mailer, MailRefused, MailUnavailable
from bot.settings import MailSettings
from bot.storage.crypto import FieldCipher
from bot.storage.identity_keys import email_bidx
from bot.storage.models import Job, JobKind

PLATFORM = "mail"  # the jobs table's platform column for mail (it names no forge)
TABLE, TO, VALUES = "jobs", "mail_to", "mail_values"
SENT = "sent_at"
ATTACHMENTS = "attachments"  # in a message's values: [{"filename", "content_type", "text"}]


class BadMailRequest(BotError):
    """A stored mail job cannot be read (written by a newer version, or damaged)."""


@dataclass(frozen=True, slots=True)
class MailRequest:
    """One message to send, as the queue stores it (encrypted fields stay encrypted)."""

    kind: str  # the template
    lang: str
    row: str  # binds the ciphertexts to this request
    to_ct: str
    values_ct: str
    to_bidx: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lang": self.lang,
            "row": self.row,
            "to": self.to_ct,
            "values": self.values_ct,
            "to_bidx": self.to_bidx,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MailRequest:
        fields = ("kind", "lang", "row", "to", "values", "to_bidx")
        if not all(isinstance(data.get(f), str) and data[f] for f in fields):
            raise BadMailRequest(
                "a mail job's payload lacks "
                + ", ".join(f for f in fields if not isinstance(data.get(f), str) or not data[f])
            )
        return cls(
            data["kind"], data["lang"], data["row"], data["to"], data["values"], data["to_bidx"]
        )


async def queue_mail(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    to: str,
    kind: str,
    lang: str,
    values: Mapping[str, Any],
) -> None:
    """Queue ``kind`` in ``lang`` to ``to`` in the caller's transaction."""
    row = secrets.token_hex(16)
    request = MailRequest(
        kind=kind,
        lang=lang,
        row=row,
        to_ct=cipher.encrypt(to, table=TABLE, column=TO, row=row),
        values_ct=cipher.encrypt(json.dumps(dict(values)), table=TABLE, column=VALUES, row=row),
        to_bidx=email_bidx(cipher, to),
    )
    await enqueue(
        session,
        NewJob(
            platform=PLATFORM,
            delivery_key=f"mail:{row}",
            event="mail",
            action=kind,
            kind=JobKind.MAIL,
            payload=request.to_json(),
        ),
    )


class MailService:
    """Sends queued mail through ``mailer``."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        mailer: Mailer,
        settings: MailSettings,
        templates: MailTemplates,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.mailer = mailer
        self.settings = settings
        self.templates = templates
        self.clock = clock

    def handlers(self) -> dict[JobKind, JobHandler]:
        return {JobKind.MAIL: JobHandler(self.run_job)}

    async def run_job(self, job: ClaimedJob) -> None:
        if SENT in job.payload:
            return  # the server took it before; the queue had not recorded it yet
        request = MailRequest.from_json(job.payload)
        to = self.cipher.decrypt(request.to_ct, table=TABLE, column=TO, row=request.row)
        values = json.loads(
            self.cipher.decrypt(request.values_ct, table=TABLE, column=VALUES, row=request.row)
        )
        files = values.pop(ATTACHMENTS, [])
        message = compose(
            self.templates,
            self.settings,
            kind=request.kind,
            lang=request.lang,
            to=to,
            values=values,
            msgid=message_id(job.id, digest(job.payload), self.settings.sender),
            now=self.clock(),
            attachments=[
                Attachment(f["filename"], f["content_type"], f["text"].encode()) for f in files
            ],
        )
        try:
            await self.mailer.send(message)
        except MailUnavailable as exc:
            raise RetryLater(exc.reason) from None
        except MailRefused as exc:
            raise GiveUp(exc.reason) from None
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Job).where(Job.id == job.id).values(payload={SENT: self.clock().isoformat()})
            )
