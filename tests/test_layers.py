"""The house's floors: no module under bot/ imports a module on a higher floor.

core < config/policy/communities/errors/logs/metrics < platforms < settings < storage < services < runtime < web
< sandbox < cli. ``settings`` sits above ``platforms`` because it asks the registry for every
forge's settings; the adapters share its parsing helpers through ``config``. Module-level and
function-level imports both count, so a lazy import cannot hide an upward one. The walk reads the
source only (nothing is imported).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
FLOORS = tuple(
    [
        "core",
        "shared",
        "platforms",
        "settings",
        "storage",
        "services",
        "runtime",
        "web",
        "sandbox",
        "cli",
    ]
)
SHARED = frozenset({"config", "policy", "communities", "errors", "logs", "metrics"})


def floor_of(module: str) -> str | None:
    """The floor of a dotted module name under ``bot``; ``None`` for ``bot`` itself and for
    anything outside it (the standard library, third parties)."""
    parts = module.split(".")
    if parts[0] != "bot" or len(parts) < 2:
        return None
    head = parts[1]
    if head in SHARED:
        return "shared"
    if head == "__main__":
        return "cli"
    return head if head in FLOORS else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.AST, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement names, with its line; ``from a import b`` names both
    ``a`` and ``a.b`` (``b`` may be a module)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def upward_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """``module``'s imports of a higher floor, as ``line: module (floor) imports target
    (floor)``; one per line and target floor."""
    mine = floor_of(module)
    if mine is None:
        return []
    out: list[str] = []
    seen: set[tuple[int, str]] = set()
    for line, target in imported(ast.parse(source), module, is_package=is_package):
        theirs = floor_of(target)
        if theirs is None or FLOORS.index(theirs) <= FLOORS.index(mine) or (line, theirs) in seen:
            continue
        seen.add((line, theirs))
        out.append(f"{line}: {module} ({mine}) imports {target} ({theirs})")
    return out


def test_no_module_imports_a_higher_floor() -> None:
    found: list[str] = []
    for path in sorted(BOT.rglob("*.py")):
        module = module_name(path)
        source = path.read_text(encoding="utf-8")
        found += [
            f"{path.relative_to(ROOT)}:{e}"
            for e in upward_imports(source, module, is_package=path.name == "__init__.py")
        ]
    assert found == []


def test_every_module_has_a_floor() -> None:
    """A new top-level module or package under bot/ is given its floor here, not skipped."""
    unplaced = sorted(
        module_name(path)
        for path in BOT.rglob("*.py")
        if module_name(path) != "bot" and floor_of(module_name(path)) is None
    )
    assert unplaced == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "bot.services.example",
            "from bot.web.app import create_app\n",
            ["1: bot.services.example (services) imports bot.web.app (web)"],
        ),
        (
            "bot.services.example",
            "def later() -> None:\n    from bot.runtime import build_runtime\n",
            ["2: bot.services.example (services) imports bot.runtime (runtime)"],
        ),
        (
            "bot.core.example",
            "import bot.storage.models\n",
            ["1: bot.core.example (core) imports bot.storage.models (storage)"],
        ),
        (
            "bot.storage.example",
            "from bot import settings\nfrom bot import cli\n",
            ["2: bot.storage.example (storage) imports bot.cli (cli)"],
        ),
        (
            "bot.platforms.example",
            "from bot.settings import Settings\nfrom bot.config import url_setting\n",
            ["1: bot.platforms.example (platforms) imports bot.settings (settings)"],
        ),
        (
            "bot.web.example",
            "from ..sandbox import demo\n",
            ["1: bot.web.example (web) imports bot.sandbox (sandbox)"],
        ),
        (
            "bot.web.example",
            "from bot.runtime import build_runtime\nfrom bot.services import jobs\n",
            [],
        ),
        ("bot.cli.example", "from bot.sandbox.demo import run_demo\n", []),
        ("bot.core.example", "import asyncio\nfrom bot.core import model\n", []),
    ],
)
def test_the_walk_catches_an_upward_import(module: str, source: str, expected: list[str]) -> None:
    assert upward_imports(source, module) == expected


@pytest.mark.parametrize(
    ("module", "floor"),
    [
        ("bot.core.model", "core"),
        ("bot.config", "shared"),
        ("bot.errors", "shared"),
        ("bot.platforms.base", "platforms"),
        ("bot.settings", "settings"),
        ("bot.storage.db", "storage"),
        ("bot.services.jobs", "services"),
        ("bot.runtime", "runtime"),
        ("bot.web.app", "web"),
        ("bot.sandbox.demo", "sandbox"),
        ("bot.cli.main", "cli"),
        ("bot.__main__", "cli"),
        ("bot", None),
        ("aiohttp.web", None),
    ],
)
def test_floors_of_names(module: str, floor: str | None) -> None:
    assert floor_of(module) == floor
