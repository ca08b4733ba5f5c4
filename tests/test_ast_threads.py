"""CPython 3.11 keeps the AST constructor's recursion depth in one per-interpreter counter
(gh-106905): an ``ast.parse`` in another thread that runs while one thread is still building its
tree resets that counter, and the first thread fails with "SystemError: AST constructor recursion
depth mismatch". The test suite runs servers in threads (the admin API under schemathesis, the
sandbox) while Hypothesis and ``traceback`` call ``ast.parse``; ``tests/ast_threads.py`` makes
those calls take turns. This test makes a second thread parse in the middle of the first one's
tree building, deterministically, through a garbage-collector callback."""

from __future__ import annotations

import ast
import gc
import threading

from tests import ast_threads

SOURCE = "values = [1, 2, 3]\n" * 200


def _parse_with_a_second_parse_in_the_middle(stage: int) -> list[BaseException]:
    """Parse SOURCE on this thread; at the ``stage``-th collection during that call, wake a
    second thread that parses too, and give it up to a fifth of a second before going on."""
    go, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    seen = 0
    armed = False

    def second() -> None:
        go.wait(5)
        try:
            ast.parse("other = {'a': (1, 2)}\n")
        except BaseException as exc:
            errors.append(exc)
        done.set()

    def on_gc(phase: str, info: dict[str, int]) -> None:
        nonlocal seen, armed
        if not armed or phase != "start":
            return
        seen += 1
        if seen == stage:
            armed = False
            go.set()
            done.wait(0.2)

    helper = threading.Thread(target=second, daemon=True)
    helper.start()
    old = gc.get_threshold()
    gc.callbacks.append(on_gc)
    try:
        gc.set_threshold(1)
        armed = True
        try:
            tree = ast.parse(SOURCE)
            assert len(tree.body) == 200
        except SystemError as exc:
            errors.append(exc)
        armed = False
    finally:
        gc.set_threshold(*old)
        gc.callbacks.remove(on_gc)
        go.set()
        helper.join(5)
    return errors


def test_a_parse_in_another_thread_does_not_break_a_parse_under_way() -> None:
    assert ast_threads.installed()
    stages = (1, 2, 3, 5, 8, 13)
    errors = [e for s in stages for e in _parse_with_a_second_parse_in_the_middle(s)]
    assert errors == []
