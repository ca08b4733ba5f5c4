"""A closed-loop HTTP/1.1 load generator on raw asyncio transports.

Each of ``concurrency`` keep-alive connections sends one request, waits for the whole answer,
records the time from the first byte sent to the last byte received, and sends the next. The
requests come from a callable, so each can carry a unique, freshly signed body. Parsing is the
bare minimum (status line and ``Content-Length``), so that one core of load generator keeps up
with a server several times faster than the bot.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

RequestFactory = Callable[[], bytes]


@dataclass
class LoadResult:
    duration_s: float
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.sent / self.duration_s if self.duration_s > 0 else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_s, q)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_complete()

    def _try_complete(self) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
                break
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        status = int(head.split(b" ", 2)[1])
        waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by the server"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


async def _open(host: str, port: int) -> _Connection:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(_Connection, host, port)
    return proto


async def run_load(
    host: str,
    port: int,
    make_request: RequestFactory,
    *,
    concurrency: int,
    duration_s: float,
    on_answer: Callable[[int, bytes, float], None] | None = None,
) -> LoadResult:
    """Keep ``concurrency`` requests in flight for ``duration_s`` seconds."""
    result = LoadResult(duration_s=duration_s)
    deadline = time.monotonic() + duration_s

    async def lane() -> None:
        conn: _Connection | None = None
        while time.monotonic() < deadline:
            if conn is None:
                try:
                    conn = await _open(host, port)
                except OSError:
                    result.errors += 1
                    await asyncio.sleep(0.05)
                    continue
            data = make_request()
            started = time.monotonic()
            try:
                status, body = await conn.request(data)
            except ConnectionError:
                result.errors += 1
                conn = None
                continue
            elapsed = time.monotonic() - started
            result.latencies_s.append(elapsed)
            result.statuses[status] += 1
            if on_answer is not None:
                on_answer(status, body, started + elapsed)
        if conn is not None and conn.transport is not None:
            conn.transport.close()

    started = time.monotonic()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    result.duration_s = time.monotonic() - started
    return result


def http_request(
    path: str, host: str, headers: dict[str, str], body: bytes, method: str = "POST"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def load_pool(path: str) -> list[tuple[str, bytes]]:
    """(signature header, body) pairs from a pool file: one ``sig<TAB>body`` per line."""
    pool = []
    with open(path, "rb") as f:
        for line in f:
            sig, _, body = line.rstrip(b"\n").partition(b"\t")
            pool.append((sig.decode(), body))
    return pool


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.loadgen PORT POOL PREFIX CONCURRENCY DURATION``: the fallback when wrk
    is not installed; prints the same ``BENCH-JSON`` line as bench/wrk.lua."""
    import json
    import sys

    port_s, pool_path, prefix, conc_s, dur_s = (argv or sys.argv[1:])[:5]
    pool = load_pool(pool_path)
    host = f"127.0.0.1:{port_s}"
    counter = 0

    def make() -> bytes:
        nonlocal counter
        counter += 1
        sig, body = pool[counter % len(pool)]
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": f"{prefix}-py-{counter}",
            "X-Hub-Signature-256": sig,
            "User-Agent": "GitHub-Hookshot/bench",
        }
        return http_request("/webhooks/github", host, headers, body)

    result = asyncio.run(
        run_load(
            "127.0.0.1",
            int(port_s),
            make,
            concurrency=int(conc_s),
            duration_s=float(dur_s),
        )
    )
    summary = {
        "requests": result.sent,
        "duration_s": result.duration_s,
        "p50_s": result.percentile(0.5),
        "p99_s": result.percentile(0.99),
        "errors": result.errors,
        "statuses": {str(k): v for k, v in result.statuses.items()},
    }
    print("BENCH-JSON " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
