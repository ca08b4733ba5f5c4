"""The durable job queue: the delivery inbox is the queue.

:mod:`~bot.services.jobs.records` holds what crosses it, :mod:`~bot.services.jobs.inbox` the
group commit of deliveries, :mod:`~bot.services.jobs.queue` the SQL (enqueue, claim with a
lease, coalesce, retry, dead-letter) and :mod:`~bot.services.jobs.worker` the loop that runs
claimed jobs and decides their fate. Import the names from here.
"""

from __future__ import annotations

from bot.services.jobs.inbox import Inbox, Unstorable, database_unavailable
from bot.services.jobs.queue import JobQueue, backoff_s, enqueue
from bot.services.jobs.records import CHECK_SNAPSHOT, ClaimedJob, NewJob, now_utc
from bot.services.jobs.worker import (
    DeadHandler,
    GiveUp,
    Handler,
    JobHandler,
    RetryLater,
    Worker,
)

__all__ = [
    "CHECK_SNAPSHOT",
    "ClaimedJob",
    "DeadHandler",
    "GiveUp",
    "Handler",
    "Inbox",
    "JobHandler",
    "JobQueue",
    "NewJob",
    "RetryLater",
    "Unstorable",
    "Worker",
    "backoff_s",
    "database_unavailable",
    "enqueue",
    "now_utc",
]
