"""``create_app()`` wires everything; nothing happens at import time.

The :class:`Runtime` owns the long-lived parts (database engine, HTTP client session, forge
clients, job queue, worker) and is started and stopped by the application's cleanup context, or
directly by ``cla-bot worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Coroutine, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import aiohttp
import yarl
from aiohttp import web
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import logs
from bot.core.model import Platform
from bot.errors import SettingsError
from bot.metrics import Metrics
from bot.platforms.base import ForgeClient, ForgeError, RateLimited, StaleCommitList
from bot.platforms.gitee.client import GiteePlatform
from bot.platforms.gitee.client import GiteeSettings as GiteeClientSettings
from bot.platforms.github.client import GitHubPlatform
from bot.platforms.github.client import GitHubSettings as GitHubClientSettings
from bot.services import agreements, reconcile, retention
from bot.services.checks import CheckService, ClientFactory, load_comment_templates
from bot.services.commands import CommandService, load_reply_templates
from bot.services.jobs import ClaimedJob, JobQueue, Worker
from bot.settings import Settings, is_loopback_url
from bot.storage.agreements import AgreementTextChanged, sync_agreements
from bot.storage.crypto import FieldCipher, KeyConfigError, load_keyring
from bot.storage.db import alembic_config, create_engine, flush_erased, session_factory
from bot.storage.models import JobKind
from bot.web import admin as admin_api
from bot.web import company, health, me, signing, webhooks
from bot.web import setup as setup_pages
from bot.web.keys import CIPHER, ENGINE, METRICS, QUEUE, SESSIONS, SETTINGS
from bot.web.middlewares import error_pages, security_headers
from bot.web.pages import Pages
from bot.web.ratelimit import RateLimiter
from bot.web.sessions import SessionStore

log = logging.getLogger("bot.app")

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    metrics: Metrics
    queue: JobQueue
    checks: CheckService
    commands: CommandService
    http: aiohttp.ClientSession
    gitee: GiteePlatform | None = None
    github: GitHubPlatform | None = None
    worker: Worker | None = None
    _worker_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _maintenance_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _check_task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def handle(self, job: ClaimedJob) -> None:
        with logs.context(job_id=job.id, job_kind=job.kind, pr=job.pr_key):
            await self._handle(job)

    async def _handle(self, job: ClaimedJob) -> None:
        try:
            if job.kind == JobKind.CHECK:
                await self._check(job)
            elif job.kind == JobKind.COMMAND:
                await self.commands.handle_job(job)
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

    async def _check(self, job: ClaimedJob) -> None:
        """A check from the job's PR snapshot; when the forge's commits have moved past it
        (a later push whose delivery is lost or not yet claimed, or a job recovered after a
        crash), the PR is read again at once instead of retrying a snapshot that can only stay
        stale."""
        try:
            await self.checks.handle_job(job)
        except StaleCommitList:
            if "pull" not in job.payload:
                raise  # the forge itself lags behind the head it reports: retry later
            log.info("job %s: the PR moved past the delivery's snapshot; reading it again", job.id)
            job.payload = {k: v for k, v in job.payload.items() if k != "pull"}
            await self.checks.handle_job(job)

    async def report_dead(self, job: ClaimedJob, error: str) -> None:
        """A dead check job leaves a trace on its PR (status ``error``, the bot's comment)."""
        if job.kind == JobKind.CHECK:
            with logs.context(job_id=job.id, job_kind=job.kind, pr=job.pr_key):
                await self.checks.report_failure(job)

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
        """In the background, once: say in the log whether the Gitee token works, and which
        bot account the GitHub App acts as (``GET /app``, remembered for finding the bot's own
        comment) — serve and worker; no anonymous page asks the forge."""
        checks: list[Coroutine[Any, Any, None]] = []
        if self.gitee is not None:
            checks.append(setup_pages.report_gitee_token(self.gitee))
        if self.github is not None:
            checks.append(report_github_app(self.github))
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
        if self.github is None:
            return None
        return await reconcile.redeliver_failed(
            self.github,
            self.sessions,
            since=reconcile.since(self.settings.policy.reconcile.redeliver_lookback_h),
            metrics=self.metrics,
        )

    async def sweep(self) -> int:
        async with self.sessions() as session, session.begin():
            queued = await reconcile.sweep(
                session,
                stale_after_s=self.settings.policy.reconcile.stale_after_s,
                metrics=self.metrics,
            )
        if self.gitee is not None:
            queued += await reconcile.sweep_gitee(
                self.sessions, self.gitee.client(), metrics=self.metrics
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
        name, _, problem = str(exc).partition(": ")
        raise SettingsError(name, problem or str(exc)) from None
    if warning:
        log.warning(warning)
    return FieldCipher(keyring)


def _github_platform(settings: Settings, http: aiohttp.ClientSession) -> GitHubPlatform | None:
    gh = settings.github
    if gh is None:
        return None
    return GitHubPlatform(
        session=http,
        settings=GitHubClientSettings(
            app_id=gh.app_id, private_key=gh.private_key, api_url=gh.api_url
        ),
    )


def _github_clients(platform: GitHubPlatform) -> ClientFactory:
    def factory(installation_id: int | None) -> ForgeClient:
        if installation_id is None:
            raise LookupError("a GitHub job without an installation id")
        return platform.client(installation_id)

    return factory


def _gitee_platform(settings: Settings, http: aiohttp.ClientSession) -> GiteePlatform | None:
    ge = settings.gitee
    if ge is None:
        return None
    return GiteePlatform(
        session=http, settings=GiteeClientSettings(token=ge.token, api_url=ge.api_url)
    )


def _forge_traces(settings: Settings, metrics: Metrics) -> aiohttp.TraceConfig:
    """Count every outbound request by forge and HTTP status, in one place."""
    hosts: dict[str, str] = {}
    for platform, urls in (
        ("github", (settings.github_api_url, settings.github_web_url)),
        ("gitee", (settings.gitee_api_url, settings.gitee_web_url)),
    ):
        for url in urls:
            hosts[yarl.URL(url).host_port_subcomponent or ""] = platform

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
                await sync_agreements(session, settings.policy.agreements)
        except AgreementTextChanged as exc:
            async with sessions() as session:
                error = await agreements.changed_text_settings_error(
                    session,
                    settings.policy.agreements,
                    agreement_id=exc.agreement_id,
                    version=exc.version,
                    old_sha256=exc.old_sha256,
                    new_sha256=exc.new_sha256,
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
    gitee = _gitee_platform(settings, http)
    github = _github_platform(settings, http)
    if clients is None:
        found: dict[Platform, ClientFactory] = {}
        if github is not None:
            found[Platform.GITHUB] = _github_clients(github)
        if gitee is not None:
            found[Platform.GITEE] = lambda _installation_id: gitee.client()
        clients = found
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
        web_urls={Platform.GITHUB: settings.github_web_url, Platform.GITEE: settings.gitee_web_url},
        clients=clients,
        templates=load_comment_templates(settings.templates_dir),
        metrics=metrics,
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
    return Runtime(
        settings=settings,
        commands=commands,
        engine=engine,
        sessions=sessions,
        cipher=cipher,
        metrics=metrics,
        queue=queue,
        checks=checks,
        http=http,
        gitee=gitee,
        github=github,
    )


async def index(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    rows = []
    if settings.github is None:
        rows.append(
            "<li><strong>GitHub is not connected.</strong> Set <code>CLA_GITHUB_APP_ID</code>, "
            "<code>CLA_GITHUB_PRIVATE_KEY_PATH</code> (or <code>CLA_GITHUB_PRIVATE_KEY</code>) and "
            "<code>CLA_GITHUB_WEBHOOK_SECRET</code> (16+ bytes) from a GitHub App — or register "
            'one from <code>app.yaml</code> at <a href="/setup">/setup</a>; its webhook goes '
            f"to <code>{escape(settings.public_url)}/webhooks/github</code>. To try the bot "
            "without any forge first, run <code>cla-bot demo</code>.</li>"
        )
    else:
        rows.append(
            f"<li>GitHub App <code>{escape(settings.github.app_id)}</code> is connected; "
            f"webhooks go to <code>{escape(settings.public_url)}/webhooks/github</code>.</li>"
        )
    if settings.gitee is None:
        rows.append(
            "<li><strong>Gitee is not connected.</strong> Set <code>CLA_GITEE_TOKEN</code> (the "
            "bot account's access token) and <code>CLA_GITEE_WEBHOOK_SECRET</code> (16+ bytes), "
            f"and point the repository's webhook at <code>{escape(settings.public_url)}"
            '/webhooks/gitee</code> (<a href="/setup/gitee">how</a>).</li>'
        )
    else:
        rows.append("<li>Gitee is connected.</li>")
    if loopback_warning(settings) is not None:
        rows.insert(
            0,
            '<li id="loopback-warning"><strong>Links point at this machine only.</strong> '
            f"<code>CLA_PUBLIC_URL</code> is <code>{escape(settings.public_url)}</code>, a "
            "loopback address: the signing links the bot posts on pull requests, and the "
            "webhooks the forge sends, reach nobody else. Set <code>CLA_PUBLIC_URL</code> to "
            "the address people and the forge use (in the environment, or in "
            "<code>var/github-app.env</code>) and restart.</li>",
        )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>cla-bot</title></head><body><main><h1>cla-bot</h1>"
        f"<p>Required agreement: <code>{escape(settings.policy.required_agreement)}</code>.</p>"
        f"<ul>{''.join(rows)}</ul>"
        '<p>Health: <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> · '
        '<a href="/metrics">/metrics</a></p></main></body></html>'
    )
    return web.Response(text=html, content_type="text/html")


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    clients: Mapping[Platform, ClientFactory] | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    pages = Pages(settings.templates_dir)
    app = web.Application(
        client_max_size=webhooks.MAX_BODY_BYTES + 1024,
        middlewares=[security_headers, error_pages(pages)],
        # Request bodies reach the handlers as sent: a compressed one is refused there (415)
        # instead of being inflated by the HTTP parser, without limit or traceback.
        handler_args={"auto_decompress": False},
    )
    app[SETTINGS] = settings
    app[webhooks.GITEE_REPLAYS] = webhooks.ReplayCache(
        window_s=2 * settings.policy.gitee_timestamp_window_s
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, clients=clients, metrics=metrics)
        app[RUNTIME] = runtime
        app[ENGINE] = runtime.engine
        app[SESSIONS] = runtime.sessions
        app[QUEUE] = runtime.queue
        app[METRICS] = runtime.metrics
        app[CIPHER] = runtime.cipher
        app[signing.SIGNING] = signing.SigningContext(
            settings=settings,
            pages=pages,
            store=SessionStore(
                runtime.sessions,
                runtime.cipher,
                secure_cookies=settings.public_url.startswith("https://"),
            ),
            providers=signing.providers_from(settings),
            http=runtime.http,
            login_limit=RateLimiter(limit=20, window_s=60),
            sign_limit=RateLimiter(limit=10, window_s=60),
        )

        async def gitee_bot_login() -> str | None:
            if runtime.gitee is None:
                return None
            try:  # cached after the first answer; never hold a delivery up for long
                return await asyncio.wait_for(runtime.gitee.bot_login(), timeout=2)
            except Exception:
                return None

        app[webhooks.GITEE_BOT_LOGIN] = gitee_bot_login
        if run_worker:
            runtime.start_worker()
        yield
        await runtime.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_post("/webhooks/github", webhooks.github_webhook)
    app.router.add_post("/webhooks/gitee", webhooks.gitee_webhook)
    signing.setup(app, settings)
    admin_api.setup(app)
    me.setup(app)
    company.setup(app)
    setup_pages.setup(app, settings)
    return app


async def _together(checks: list[Coroutine[Any, Any, None]]) -> None:
    await asyncio.gather(*checks)


async def report_github_app(github: GitHubPlatform, *, timeout_s: float = 15.0) -> None:
    """Ask GitHub once, at start-up, which bot account the App is (the answer is logged and
    kept for the process); a failure is only logged: it is asked again when needed."""
    try:
        await asyncio.wait_for(github.app_login.get(), timeout=timeout_s)
    except (ForgeError, TimeoutError) as exc:
        log.warning("GitHub: could not ask GET /app now: %s", exc or type(exc).__name__)


def loopback_warning(settings: Settings) -> str | None:
    """Said at start-up and on the home page: a forge is connected, but the links the bot posts
    (and the webhooks it was registered with) point at this machine only."""
    if (settings.github is None and settings.gitee is None) or not is_loopback_url(
        settings.public_url
    ):
        return None
    return (
        f"CLA_PUBLIC_URL is {settings.public_url}, a loopback address: the links the bot posts "
        "on pull requests and the forges' webhooks reach only this machine; set CLA_PUBLIC_URL "
        "to the address people and the forge use (in the environment, or in "
        "var/github-app.env)"
    )


def _describe(settings: Settings) -> None:
    if not settings.env.get("CLA_CONFIG", "").strip() and not Path("app.yaml").exists():
        log.info(
            "no ./app.yaml: using the stock policy shipped with the bot (%s); copy it here or "
            "set CLA_CONFIG to change it",
            settings.config_path,
        )
    if settings.github is None and settings.gitee is None:
        log.warning(
            "no forge is connected: set the CLA_GITHUB_* or CLA_GITEE_* variables "
            "(see README, Configuration); serving health pages only"
        )
    warning = loopback_warning(settings)
    if warning is not None:
        log.warning(warning)


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    with_worker: bool = True,
) -> int:
    _describe(settings)
    app = create_app(settings, run_worker=with_worker)

    async def check_forges(app: web.Application) -> None:
        app[RUNTIME].start_forge_checks()

    app.on_startup.append(check_forges)
    h = host or settings.host
    p = port if port is not None else settings.port
    print(f"cla-bot serving on http://{h}:{p} (public URL {settings.public_url})", flush=True)
    try:
        web.run_app(app, host=h, port=p, print=None, access_log=None, handle_signals=True)
    except SettingsError as exc:
        print(exc.report(), flush=True)
        return 2
    return 0


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

    _describe(settings)
    asyncio.run(main())
    return 0


__all__ = ["RUNTIME", "Runtime", "build_runtime", "create_app", "logs", "run_worker_only", "serve"]
