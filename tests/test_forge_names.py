"""Outside ``bot/platforms/`` the bot names no forge: it asks the registry's adapters.

Read from the source (nothing is imported): in ``bot/core``, ``bot/services``, ``bot/web`` and
``bot/storage`` (migrations excepted: they hold historic data), no identifier (a name, an
attribute, a definition, an argument, an import) and no string literal contains a forge's name,
in any case. Docstrings and comments are prose, not code, and may name forges as examples.
Templates are not Python and are not read.

``REMAINING`` lists the modules that still name a forge, each with what keeps it doing so; a
module listed here that names none fails too, so that the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORGES = ("github", "gitee")
FOLDERS = ("core", "services", "web", "storage")

REMAINING: dict[str, str] = {}


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.add(id(body[0].value))
    return found


def _names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword) and node.arg:
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.name, node.asname or ""]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    return []


def forge_names(path: Path) -> list[str]:
    """Every forge name ``path`` holds as code: ``line: token``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        tokens = _names(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            tokens.append(node.value)
        for token in tokens:
            if any(forge in token.lower() for forge in FORGES):
                found.append(f"{getattr(node, 'lineno', 0)}: {token!r}")
    return found


def _modules() -> list[Path]:
    return [
        path
        for folder in FOLDERS
        for path in sorted((ROOT / "bot" / folder).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def test_no_forge_is_named_outside_platforms() -> None:
    named = {
        path.relative_to(ROOT).as_posix(): names
        for path in _modules()
        if (names := forge_names(path))
    }
    unexpected = {rel: names for rel, names in named.items() if rel not in REMAINING}
    assert unexpected == {}
    assert sorted(set(REMAINING) - set(named)) == []  # cleaned: drop it from REMAINING


def test_the_scan_sees_identifiers_and_strings_but_not_prose(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        '"""GitHub and Gitee in prose."""\n'
        "# github in a comment\n"
        "from bot.platforms.github import routing\n"
        "def f(gitee_url: str) -> str:\n"
        '    """Gitee again."""\n'
        '    return settings.GitHub_web_url + "/webhooks/gitee"\n',
        encoding="utf-8",
    )
    assert sorted(forge_names(source)) == [
        "3: 'bot.platforms.github'",
        "4: 'gitee_url'",
        "6: '/webhooks/gitee'",
        "6: 'GitHub_web_url'",
    ]
