"""What every browser test shares: Debian's Chromium, the flags it runs with here, and the loud
skip when it (or Playwright) is missing."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CLA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> str:
    """The Chromium executable, or a skip that says what to install."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(
            f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing — install Debian's chromium "
            "(apt-get install -y chromium; .ci/run does this)"
        )
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("BROWSER TESTS SKIPPED: the playwright package is not installed")
    return CHROMIUM
