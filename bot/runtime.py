"""The composition root: settings in, a running bot out; nothing happens at import time.

:func:`build_runtime` builds the long-lived parts (database engine, HTTP client session, forge
platforms, job queue, services) once; the :class:`Runtime` it returns runs the worker — each job
dispatched through the ``{JobKind: JobHandler}`` table the services register — and the
maintenance timers, and is started and stopped by the web application's cleanup context
(``cla-bot serve``), by :func:`run_worker_only` (``cla-bot worker``), or by a one-shot command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yarl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import logs
from bot.core.model import Platform
from bot.errors import SettingsError
from bot.metrics import Metrics
from bot.platforms import registry
from bot.platforms.base import ClientFactory, Connection, RateLimited
from bot.services import agreements, reconcile, retention
from bot.services.checks import CheckService, load_comment_templates
from bot.services.checks.config import Scopes
from bot.services.checks.links import StoredLinks
from bot.services.commands import CommandService, load_reply_templates
from bot.services.console import Administrators, Console, clients_for
from bot.services.jobs import ClaimedJob, JobHandler, JobQueue, RetryLater, Worker
from bot.services.mail.messages import MailTemplateError, MailTemplates
from bot.services.mail.outbox import MailService
from bot.services.mail.transport import SmtpMailer
from bot.settings import Settings, is_loopback_url
from bot.storage.agreements import AgreementTextChanged, sync_agreements
from bot.storage.communities import CommunityError, sync_file_communities
from bot.storage.crypto import FieldCipher, KeyConfigError, load_keyring
from bot.storage.db import alembic_config, create_engine, flush_erased, session_factory
from bot.storage.models import JobKind

# The start-up lines keep the logger names operators' log filters know.
log = logging.getLogger("bot.app")

_KINDS = frozenset(kind.value for kind in JobKind)


@dataclass
class Runtime:
    """The running bot's parts, built once by :func:`build_runtime`: ``handlers`` is the
    worker's dispatch table, merged from each service's ``handlers()``."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    metrics: Metrics
    queue: JobQueue
    checks: CheckService
    commands: CommandService
    http: aiohttp.ClientSession
    # Each configured forge's live connection, by name (built by its adapter's ``connect``).
    connections: dict[Platform, Connection] = field(default_factory=dict)
    # The maintainers' console: who administers which community, and what it shows them.
    console: Console | None = None
    worker: Worker | None = None
    handlers: dict[JobKind, JobHandler] = field(default_factory=dict)
    _worker_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _maintenance_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _check_task: asyncio.Task[None] | None = field(default=None, repr=False)

    def handler(self, kind: str) -> JobHandler | None:
        """The table's entry for a job's kind: none for bookkeeping (done at once), nor for a
        kind this version does not know."""
        return self.handlers.get(JobKind(kind)) if kind in _KINDS else None

    async def handle(self, job: ClaimedJob) -> None:
        with logs.context(job_id=job.id, job_kind=job.kind, pr=job.pr_key):
            await self._handle(job)

    async def _handle(self, job: ClaimedJob) -> None:
        handler = self.handler(job.kind)
        try:
            if handler is not None:
                await handler.run(job)
        except RateLimited:
            self.metrics.inc(
                "cla_rate_limit_waits_total",
                "Jobs paused because the forge's rate limit was reached.",
                platform=job.platform,
            )
            raise
        except Exception as exc:
            self.metrics.job(job.kind, type(exc).__name__)
            raise
        self.metrics.job(job.kind, "done")

    async def report_dead(self, job: ClaimedJob, error: str) -> None:
        """A dead job leaves the trace its kind's handler names (a check: status ``error`` and
        the bot's comment on its PR)."""
        handler = self.handler(job.kind)
        if handler is not None and handler.on_dead is not None:
            with logs.context(job_id=job.id, job_kind=job.kind, pr=job.pr_key):
                await handler.on_dead(job)

    def make_worker(self) -> Worker:
        pol = self.settings.policy.worker
        return Worker(
            self.queue,
            self.handle,
            concurrency=pol.concurrency,
            poll_s=pol.poll_s,
            on_dead=self.report_dead,
        )

    async def drain(self) -> int:
        """Run every ready job now, one at a time (tests, one-shot runs)."""
        return await self.make_worker().drain()

    def start_forge_checks(self) -> None:
        """In the background, once: each connected forge's start-up check says in the log
        whether its credentials work and which account the bot acts as (remembered for finding
        the bot's own comment) — serve and worker; no anonymous page asks the forge."""
        checks: list[Awaitable[None]] = [
            c.startup_check() for c in self.connections.values() if c.startup_check is not None
        ]
        if checks:
            self._check_task = asyncio.create_task(_together(checks), name="cla-forge-check")

    def start_worker(self) -> None:
        self.worker = self.make_worker()
        self._worker_task = asyncio.create_task(self.worker.run(), name="cla-worker")
        self._maintenance_task = asyncio.create_task(self._maintenance(), name="cla-maintenance")

    async def purge(self) -> retention.Purged:
        pol = self.settings.policy.retention
        async with self.sessions() as session, session.begin():
            purged = await retention.purge(
                session, pending_days=pol.pending_days, jobs_days=pol.jobs_days
            )
        await flush_erased(self.engine)
        return purged

    async def redeliver(self) -> reconcile.Redelivered | None:
        """One redelivery pass over every connected forge's delivery log (``None`` when no
        connected forge keeps one)."""
        since = reconcile.since(self.settings.policy.reconcile.redeliver_lookback_h)
        total: reconcile.Redelivered | None = None
        for name, connection in self.connections.items():
            if connection.redelivery is None:
                continue
            passed = await reconcile.redeliver_failed(
                name, connection.redelivery, self.sessions, since=since, metrics=self.metrics
            )
            total = passed if total is None else total + passed
        return total

    async def sweep(self) -> int:
        async with self.sessions() as session, session.begin():
            queued = await reconcile.sweep(
                session,
                stale_after_s=self.settings.policy.reconcile.stale_after_s,
                metrics=self.metrics,
            )
        for name, connection in self.connections.items():
            if connection.open_pulls is not None:
                queued += await reconcile.sweep_open_pulls(
                    name, connection.open_pulls, self.sessions, metrics=self.metrics
                )
        if queued:
            self.queue.notify()
        return queued

    async def _maintenance(self) -> None:
        """Retention, redelivery and the sweep on their timers (each is idempotent, so every
        replica may run them)."""
        pol = self.settings.policy
        timers = {
            "retention": (pol.retention.interval_s, self.purge),
            "redelivery": (pol.reconcile.redeliver_interval_s, self.redeliver),
            "sweep": (pol.reconcile.sweep_interval_s, self.sweep),
        }
        loop = asyncio.get_running_loop()
        due = {name: loop.time() + interval for name, (interval, _) in timers.items()}
        while True:
            name = min(due, key=due.__getitem__)
            await asyncio.sleep(max(0.0, due[name] - loop.time()))
            interval, run = timers[name]
            due[name] = loop.time() + interval
            try:
                log.info("%s pass: %s", name, await run())
            except Exception as exc:
                log.warning("%s pass failed: %s", name, type(exc).__name__)

    async def close(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        if self._check_task is not None:
            self._check_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._check_task
        if self._maintenance_task is not None:
            self._maintenance_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance_task
        if self._worker_task is not None:
            self._worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker_task
        await self.http.close()
        await self.engine.dispose()


def _cipher(settings: Settings) -> FieldCipher:
    try:
        keyring, warning = load_keyring(settings.env, var_dir=settings.var_dir)
    except KeyConfigError as exc:
        raise SettingsError(exc.name, exc.problem) from None
    if warning:
        log.warning(warning)
    return FieldCipher(keyring)


def _forge_traces(settings: Settings, metrics: Metrics) -> aiohttp.TraceConfig:
    """Count every outbound request by forge and HTTP status, in one place."""
    hosts: dict[str, str] = {}
    for each in registry.FORGES:
        for url in (each.api_url_of(settings), each.web_url_of(settings)):
            hosts[yarl.URL(url).host_port_subcomponent or ""] = each.name

    def forge(url: yarl.URL) -> str:
        return hosts.get(url.host_port_subcomponent or "", "other")

    async def on_end(
        _session: aiohttp.ClientSession, _ctx: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        metrics.inc(
            "cla_forge_requests_total",
            "Requests to the forges, by forge, method and HTTP status.",
            forge=forge(params.url),
            method=params.method,
            status=str(params.response.status),
        )

    async def on_error(
        _session: aiohttp.ClientSession,
        _ctx: object,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        metrics.inc(
            "cla_forge_requests_total",
            "Requests to the forges, by forge, method and HTTP status.",
            forge=forge(params.url),
            method=params.method,
            status=type(params.exception).__name__,
        )

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_error)
    return trace


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse to serve on a database that is not at the latest migration."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    heads = set(script.get_heads())
    async with engine.connect() as conn:
        current = await conn.run_sync(
            lambda c: set(MigrationContext.configure(c).get_current_heads())
        )
    if current != heads:
        raise SettingsError(
            "CLA_DATABASE_URL",
            "the database schema is not up to date; run `cla-bot migrate` first",
        )


def _mail_handlers(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher
) -> dict[JobKind, JobHandler]:
    """The mail job's handler: the SMTP sender when ``CLA_SMTP_URL`` is set (its templates
    checked now, at start-up); else one that keeps queued mail waiting, with the reason, until
    the queue gives up on it (mail queued before the setting was removed)."""
    if settings.mail is None:

        async def unconfigured(job: ClaimedJob) -> None:
            raise RetryLater("no SMTP server is configured (CLA_SMTP_URL)")

        return {JobKind.MAIL: JobHandler(unconfigured)}
    try:
        templates = MailTemplates(settings.templates_dir)
    except MailTemplateError as exc:
        raise SettingsError("CLA_TEMPLATES_DIR", str(exc)) from None
    service = MailService(
        sessions=sessions,
        cipher=cipher,
        mailer=SmtpMailer(settings.mail),
        settings=settings.mail,
        templates=templates,
    )
    return service.handlers()


async def sync_file(session: AsyncSession, settings: Settings) -> None:
    """Make the database match app.yaml: its communities and their links (console-made ones
    untouched), then each community's agreements and versions."""
    declared = settings.communities.communities
    await sync_file_communities(
        session,
        [
            (c.id, c.name, [(link.platform, link.owner, link.repo) for link in c.links])
            for c in declared
        ],
    )
    for community in declared:
        await sync_agreements(session, community.policy.agreements, community=community.id)


async def build_runtime(
    settings: Settings,
    *,
    clients: Mapping[Platform, ClientFactory] | None = None,
    metrics: Metrics | None = None,
) -> Runtime:
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        cipher = _cipher(settings)
        sessions = session_factory(engine)
        try:
            async with sessions() as session, session.begin():
                await sync_file(session, settings)
        except CommunityError as exc:
            raise SettingsError("app.yaml communities", str(exc)) from None
        except AgreementTextChanged as exc:
            community = settings.communities.get(exc.community)
            declared = community.policy.agreements if community else settings.policy.agreements
            async with sessions() as session:
                error = await agreements.changed_text_settings_error(
                    session,
                    declared,
                    agreement_id=exc.agreement_id,
                    version=exc.version,
                    old_sha256=exc.old_sha256,
                    new_sha256=exc.new_sha256,
                    community=exc.community,
                )
            raise error from None
    except BaseException:
        await engine.dispose()
        raise
    metrics = metrics or Metrics()
    http = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30, connect=10),
        headers={"User-Agent": "cla-bot"},
        trace_configs=[_forge_traces(settings, metrics)],
    )
    connections: dict[Platform, Connection] = {}
    for each in registry.FORGES:
        connection = each.connect(settings, http)
        if connection is not None:
            connections[each.name] = connection
    if clients is None:
        clients = {name: c.clients for name, c in connections.items()}
    queue = JobQueue(
        sessions,
        lease_s=settings.policy.worker.lease_s,
        max_attempts=settings.policy.worker.max_attempts,
    )
    checks = CheckService(
        sessions=sessions,
        cipher=cipher,
        policy=settings.policy,
        public_url=settings.public_url,
        web_urls={f.name: f.web_url_of(settings) for f in registry.FORGES},
        clients=clients,
        templates=load_comment_templates(settings.templates_dir),
        metrics=metrics,
        prove_emails=settings.mail is not None,
        scopes=Scopes.stored(
            settings.communities, StoredLinks(sessions, settings.communities.table())
        ),
    )
    commands = CommandService(
        sessions=sessions,
        cipher=cipher,
        clients=clients,
        texts=load_reply_templates(settings.templates_dir),
        public_url=settings.public_url,
        metrics=metrics,
        checks=checks,
    )
    console = Console(
        sessions=sessions,
        cipher=cipher,
        declared=lambda: settings.communities,
        administrators=Administrators(
            clients_for(
                sessions, clients, installations={f.name: f.installations for f in registry.FORGES}
            )
        ),
    )
    return Runtime(
        settings=settings,
        console=console,
        handlers={
            **checks.handlers(),
            **commands.handlers(),
            **_mail_handlers(settings, sessions, cipher),
        },
        commands=commands,
        engine=engine,
        sessions=sessions,
        cipher=cipher,
        metrics=metrics,
        queue=queue,
        checks=checks,
        http=http,
        connections=connections,
    )


async def _together(checks: list[Awaitable[None]]) -> None:
    await asyncio.gather(*checks)


def connected(settings: Settings) -> bool:
    """Whether any forge is configured."""
    return any(f.settings_of(settings) is not None for f in registry.FORGES)


def loopback_warning(settings: Settings) -> str | None:
    """Said at start-up and on the home page: a forge is connected, but the links the bot posts
    (and the webhooks it was registered with) point at this machine only."""
    if not connected(settings) or not is_loopback_url(settings.public_url):
        return None
    return (
        f"CLA_PUBLIC_URL is {settings.public_url}, a loopback address: the links the bot posts "
        "on pull requests and the forges' webhooks reach only this machine; set CLA_PUBLIC_URL "
        "to the address people and the forge use (in the environment, or in "
        "var/github-app.env)"
    )


def describe(settings: Settings) -> None:
    """Say at start-up which policy file is used, what is not connected, and whether the
    links the bot posts reach anyone (``cla-bot serve`` and ``cla-bot worker``)."""
    if not settings.env.get("CLA_CONFIG", "").strip() and not Path("app.yaml").exists():
        log.info(
            "no ./app.yaml: using the stock policy shipped with the bot (%s); copy it here or "
            "set CLA_CONFIG to change it",
            settings.config_path,
        )
    if not connected(settings):
        log.warning(
            "no forge is connected: set the %s variables (see README, Configuration); "
            "serving health pages only",
            " or ".join(f"CLA_{f.name.upper()}_*" for f in registry.FORGES),
        )
    warning = loopback_warning(settings)
    if warning is not None:
        log.warning(warning)


def run_worker_only(settings: Settings) -> int:
    async def main() -> None:
        runtime = await build_runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runtime.start_forge_checks()
        runtime.start_worker()
        log.info("worker %s started", runtime.queue.worker_id)
        await stop.wait()
        await runtime.close()

    describe(settings)
    asyncio.run(main())
    return 0


__all__ = [
    "Runtime",
    "build_runtime",
    "check_schema",
    "connected",
    "describe",
    "loopback_warning",
    "run_worker_only",
]
