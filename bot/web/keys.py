"""Typed application keys: everything the handlers need, wired once in ``create_app``."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.services.jobs import JobQueue
from bot.settings import Settings
from bot.storage.crypto import FieldCipher
from bot.web.ratelimit import RateLimiter

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
QUEUE = web.AppKey("queue", JobQueue)
METRICS = web.AppKey("metrics", Metrics)
CIPHER = web.AppKey("cipher", FieldCipher)
RUNTIME = web.AppKey("runtime", Runtime)
CONSOLE_LIMIT = web.AppKey("console_limit", RateLimiter)
