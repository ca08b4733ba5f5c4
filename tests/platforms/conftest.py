"""Fixtures for the platform tests: the App's key pair, the fake GitHub, an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox.fakeforge.github import AppKeyPair, FakeGitHub, generate_app_keypair

APP_ID = "4242"
NOW = 1_700_000_000.0


class Clock:
    """A clock the test moves (``now``), for the platform and the fake alike."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def app_keys() -> AppKeyPair:
    """The App's RSA key pair, generated once per test session."""
    return generate_app_keypair()


@pytest.fixture
async def fake_github(app_keys: AppKeyPair) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(app_id=APP_ID, public_key_pem=app_keys.public_pem) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _no_openapi_violations(request: pytest.FixtureRequest) -> object:
    """Every test that used the fake GitHub ends with ``fake.violations == []``."""
    if "fake_github" not in request.fixturenames:
        yield
        return
    fake: FakeGitHub = request.getfixturevalue("fake_github")
    yield
    assert fake.violations == [], "requests or answers outside GitHub's OpenAPI description"


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
