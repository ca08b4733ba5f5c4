"""``python -m bench [BENCHMARK …] [--quick]``: the six benchmarks, each with its
same-run baseline, printed as Markdown tables (also written to ``var/bench/latest.md``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from bench import ingest as ingest_mod
from bench import latency as latency_mod
from bench import scale as scale_mod
from bench import signgreen, traffic
from bench.common import PG_URL, VAR, Table, machine_line, ms, ratio

BENCHMARKS = {
    "ingest": "1. webhook ingest: deliveries/s, p50/p99 ack, accepted = stored = processed",
    "traffic": "2. forge requests per event (method and route), GitHub and Gitee",
    "scale": "3. time to decide a 250-author PR with 1,000 and 1,000,000 signatures stored",
    "latency": "4. delivery → status, idle and under ingest load",
    "sign": "5. sign → green: one signer blocking 50 PRs on both platforms",
    "memory": "6. peak RSS of `cla-bot serve` during the ingest benchmark",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of cla-bot against the fake forges of\n"
        "bot/sandbox/fakeforge, each with a baseline measured in the same run;\n"
        "PostgreSQL figures too when CLA_TEST_POSTGRES_URL is set. Benchmarks:\n\n"
        + "\n".join(f"  {k:8} {v}" for k, v in BENCHMARKS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "benchmarks",
        nargs="*",
        metavar="BENCHMARK",
        help=f"which to run (default: all): {', '.join(BENCHMARKS)}",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a few seconds per load level, fewer probes, 100,000 instead of 1,000,000 signatures",
    )
    p.add_argument("--duration", type=float, help="seconds per ingest load level (default 20)")
    p.add_argument("--probes", type=int, help="delivery → status probes when idle (default 30)")
    p.add_argument(
        "--signatures",
        default=None,
        help="comma-separated sizes for the scale benchmark (default 1000,1000000)",
    )
    return p


def memory_table(outcomes: Sequence[ingest_mod.Outcome]) -> Table:
    base = outcomes[0]
    t = Table(
        "6. Memory: peak RSS during the ingest benchmark",
        ["process", "RSS after start", "peak RSS", "× baseline"],
    )
    for o in outcomes:
        t.add(
            o.target,
            f"{o.idle_rss_mb:.0f} MB",
            f"{o.peak_rss_mb:.0f} MB",
            ratio(o.peak_rss_mb, base.peak_rss_mb),
        )
    t.notes.append("target: ≤ 200 MB for cla-bot serve; peak = VmHWM of the process")
    return t


def ingest_table(outcomes: Sequence[ingest_mod.Outcome], body_bytes: int) -> Table:
    base = outcomes[0]
    t = Table(
        "1. Webhook ingest (signed pull_request deliveries, unique ids)",
        [
            "server",
            "concurrency",
            "deliveries/s",
            "× baseline",
            "p50 ack",
            "p99 ack",
            "non-2xx",
            "accepted",
            "stored",
            "processed",
        ],
    )
    for o in outcomes:
        last = list(o.loads)[-1]
        for c, load in o.loads.items():
            show = o is not base and c == last
            t.add(
                o.target,
                c,
                f"{load.rate:,.0f}",
                ratio(load.rate, base.loads[c].rate),
                ms(load.p50_s),
                ms(load.p99_s),
                load.refused,
                f"{o.accepted:,}" if show else "",
                f"{o.stored:,}" if show else "",
                f"{o.processed:,}" if show else "",
            )
    t.notes.append(
        f"bodies ~{body_bytes / 1000:.0f} KB, 256 PRs on the fake GitHub; targets: ≥ 0.5× the "
        "baseline on SQLite, ≥ 0.35× on PostgreSQL, p99 ≤ 50 ms, zero loss"
    )
    for o in outcomes[1:]:
        extra = ", ".join(f"{k} {v}" for k, v in o.other.items()) or "none"
        t.notes.append(
            f"{o.target}: accepted (202) {o.accepted:,}, stored {o.stored:,} (stored − accepted "
            f"= {o.stored - o.accepted}: answers cut off when the load generator stopped), "
            f"processed (done or coalesced) {o.processed:,}, not processed: {extra}; queue "
            f"drained {o.drain_s:.1f} s after the load"
        )
    return t


async def main(args: argparse.Namespace) -> int:
    chosen = args.benchmarks or list(BENCHMARKS)
    unknown = [b for b in chosen if b not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    duration = args.duration or (3.0 if args.quick else 20.0)
    probes = args.probes or (10 if args.quick else 30)
    sizes = (
        [int(s) for s in args.signatures.split(",")]
        if args.signatures
        else ([1000, 100_000] if args.quick else [1000, 1_000_000])
    )
    out: list[str] = [await machine_line()]
    print(out[0], flush=True)
    if not PG_URL:
        print("(set CLA_TEST_POSTGRES_URL for the PostgreSQL figures)", flush=True)

    def show(table: Table) -> None:
        text = table.render()
        out.append(text)
        print("\n" + text, flush=True)

    started = time.monotonic()
    outcomes: list[ingest_mod.Outcome] | None = None
    if "ingest" in chosen or "memory" in chosen:
        kinds = None if "ingest" in chosen else ["sqlite"]
        outcomes, body_bytes = await ingest_mod.ingest(duration, kinds=kinds)
        if "ingest" in chosen:
            show(ingest_table(outcomes, body_bytes))
    if "traffic" in chosen:
        show(traffic.table(await traffic.traffic()))
    if "scale" in chosen:
        show(scale_mod.table(await scale_mod.scale(sizes, rounds=5 if args.quick else 20)))
    if "latency" in chosen:
        floor, results = await latency_mod.latency(max(duration, 4.0), probes)
        show(latency_mod.table(floor, results))
    if "sign" in chosen:
        show(signgreen.table(*await signgreen.sign_to_green()))
    if "memory" in chosen and outcomes is not None:
        show(memory_table(outcomes))
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "latest.md").write_text("\n\n".join(out) + "\n")
    print(f"\n(all tables in {VAR / 'latest.md'}; {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_parser().parse_args())))
