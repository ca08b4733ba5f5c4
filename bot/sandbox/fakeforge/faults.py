"""Faults the HTTP fakes inject on request: the next matching requests wait, then answer an
error of the test's choosing (or are served normally). Both fake forges keep a list of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    method: str
    route: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay_s: float = 0.0
    times: int = 1


def take_fault(faults: Iterable[Fault], method: str, route: str) -> Fault | None:
    """The first fault for (method, route template) with uses left, one use spent."""
    for f in faults:
        if f.method == method and f.route == route and f.times > 0:
            f.times -= 1
            return f
    return None
