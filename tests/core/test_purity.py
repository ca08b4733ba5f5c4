"""bot/core is the functional core: standard library and bot.core only, no I/O, no clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "bot" / "core"
CORE_FILES = sorted(CORE.rglob("*.py"))

# Standard-library modules that do I/O, talk to the outside, or read the clock.
FORBIDDEN_STDLIB = {
    "asyncio",
    "ftplib",
    "glob",
    "http",
    "io",
    "logging",
    "os",
    "pathlib",
    "random",
    "secrets",
    "select",
    "selectors",
    "shutil",
    "smtplib",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "urllib",
    "uuid",
}
# Calls that read files, the environment or the clock, by name or as methods.
FORBIDDEN_CALLS = {
    "open",
    "now",
    "utcnow",
    "today",
    "getenv",
    "read_text",
    "read_bytes",
    "input",
    "print",
    "exec",
    "eval",
    "__import__",
}


def violations(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:  # relative, inside bot.core
                continue
            if node.level > 1:
                found.append(f"line {line}: relative import leaves bot.core")
                continue
            modules = [node.module or ""]
        for module in modules:
            top = module.split(".")[0]
            if module == "bot.core" or module.startswith("bot.core."):
                continue
            if top == "__future__":
                continue
            if top not in sys.stdlib_module_names:
                found.append(f"line {line}: imports {module} (not stdlib)")
            elif top in FORBIDDEN_STDLIB:
                found.append(f"line {line}: imports {module} (I/O or clock)")
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else None
            )
            if name in FORBIDDEN_CALLS:
                found.append(f"line {line}: calls {name}(")
    return found


def test_core_has_files() -> None:
    names = {path.name for path in CORE_FILES}
    assert {
        "model.py",
        "identity.py",
        "coverage.py",
        "decision.py",
        "commands.py",
        "messages.py",
    } <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import aiohttp",
        "from sqlalchemy import select",
        "import bot.storage.db",
        "from bot.platforms import base",
        "from bot import settings",
        "import os",
        "from pathlib import Path",
        "import time",
        "x = open('f')",
        "import io\nio.open('f')",
        "from datetime import datetime\nt = datetime.now()",
        "import datetime\nt = datetime.datetime.utcnow()",
        "p.read_text()",
        "from .. import settings",
    ],
)
def test_checker_catches(source: str) -> None:
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import re, string, enum",
        "from collections.abc import Mapping",
        "from bot.core.model import Commit",
        "from . import model",
        "from datetime import datetime",
    ],
)
def test_checker_allows(source: str) -> None:
    assert violations(source) == []
