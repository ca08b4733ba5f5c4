"""Process-local counters rendered in the Prometheus text format at ``/metrics``."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
        self._help: dict[str, str] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, help_text: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._help.setdefault(name, help_text)
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def delivery(self, platform: str, event: str, outcome: str) -> None:
        self.inc(
            "cla_webhook_deliveries_total",
            "Webhook deliveries by platform, event and outcome.",
            platform=platform,
            event=event,
            outcome=outcome,
        )

    def job(self, kind: str, outcome: str) -> None:
        self.inc(
            "cla_jobs_total", "Jobs finished, by kind and outcome.", kind=kind, outcome=outcome
        )

    def check(self, platform: str, outcome: str) -> None:
        self.inc(
            "cla_checks_total",
            "PR checks by platform and outcome.",
            platform=platform,
            outcome=outcome,
        )

    def value(self, name: str, **labels: str) -> float:
        return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self, gauges: Iterable[tuple[str, str, float]] = ()) -> str:
        lines: list[str] = []
        with self._lock:
            for name in sorted(self._counters):
                lines.append(f"# HELP {name} {self._help[name]}")
                lines.append(f"# TYPE {name} counter")
                for key, v in sorted(self._counters[name].items()):
                    lab = ",".join(f'{k}="{_escape(val)}"' for k, val in key)
                    lines.append(f"{name}{{{lab}}} {v:g}" if lab else f"{name} {v:g}")
        for name, help_text, value in gauges:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {value:g}")
        return "\n".join(lines) + "\n"
