"""Make ``ast.parse`` calls in different threads take turns, on CPython versions whose AST
constructor keeps its recursion depth in one per-interpreter counter (gh-106905, seen here as
"SystemError: AST constructor recursion depth mismatch" when Hypothesis describes a strategy in
the test thread while a loopback server thread formats a traceback)."""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_LOCK = threading.RLock()
_ORIGINAL = ast.parse


def _parse(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return _ORIGINAL(*args, **kwargs)


def install() -> None:
    """Wrap ``ast.parse`` once for the whole test session (a no-op where CPython is fixed)."""
    if sys.version_info < (3, 12) and ast.parse is _ORIGINAL:
        ast.parse = _parse  # type: ignore[assignment]


def installed() -> bool:
    return sys.version_info >= (3, 12) or ast.parse is _parse
