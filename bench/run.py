"""flowwright's benchmarks, in one run, side by side with their baselines (``./dev bench``).

    python -m bench.run [--size smoke|full] [--json PATH]

Measures, each against a baseline doing the same work without flowwright:

1. wake latency (the server stamps and sends a frame → the waiting code resumes), p50/p99:
   ``FlowTestClient.expect`` vs a raw ``websockets`` ``recv()`` vs a 100 ms polling loop;
2. collector throughput on a pipelined burst of small envelopes, with lost messages counted;
3. concurrent osb flows against the reference server: all complete, none lost, per-flow
   time vs a lone flow;
4. the README's quick-start test on a warm server, and the reference server's boot time;
5. ``pytest -n 2`` vs ``-n 0`` on a generated suite of flow tests.

It prints a table and writes JSON (every raw figure, the machine, the date). Targets that are
missed are reported, never turned into a failing exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import flows, suite, wire
from bench.report import Row, format_table, row_dict
from bench.timing import clock_info, median, percentile, timed
from flowwright import TestFlowRunner

__all__ = ["DEFAULT_JSON", "MEASURES", "SIZES", "Size", "main", "run"]

DEFAULT_JSON = Path(__file__).with_name("results.json")
SERVER = Path(__file__).with_name("server.py")


@dataclass(frozen=True)
class Size:
    """How much of everything one run does."""

    name: str
    wake_samples: int
    polling_samples: int
    burst: int
    burst_rounds: int
    flows: int
    lone_runs: int
    quick_start_runs: int
    boot_runs: int
    suite_tests: int
    suite_rounds: int


SIZES = {
    "smoke": Size("smoke", 50, 5, 2_000, 1, 5, 1, 1, 1, 4, 1),
    "full": Size("full", 2_000, 100, 100_000, 3, 200, 5, 5, 7, 40, 2),
}

MEASURES = (
    "wake_p50",
    "wake_p99",
    "wake_p50_polling",
    "wake_p99_polling",
    "throughput",
    "concurrent_flows",
    "quick_start",
    "boot",
    "xdist",
)
"""The key of every row a report has, in table order."""


def _progress(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _measure(size: Size, workdir: Path) -> dict[str, Any]:
    """Run every measure; returns their raw results by name."""
    # Boot first, while this process is small: the runner spawns with a preexec_fn, which
    # forces fork() over vfork(), and fork() takes longer the bigger the parent's heap.
    _progress(f"server boot: {size.boot_runs} run(s) each")
    boot = flows.boot_times(workdir, size.boot_runs)
    bench_server = TestFlowRunner(
        [sys.executable, str(SERVER), "--port", "{port}"], log_path=workdir / "bench-server.log"
    )
    with bench_server:
        _progress(
            f"wake latency: {size.wake_samples} round trips each, {size.polling_samples} polled"
        )
        wake = asyncio.run(
            wire.wake_latency(bench_server.ws_url, size.wake_samples, size.polling_samples)
        )
        _progress(f"throughput: {size.burst_rounds} burst(s) of {size.burst:,} each way")
        burst = asyncio.run(wire.throughput(bench_server.ws_url, size.burst, size.burst_rounds))
    with flows.reference_server(workdir, "reference") as reference:
        _progress(f"flows: {size.lone_runs} lone, then {size.flows} at once")
        concurrency = asyncio.run(flows.concurrency(reference, size.flows, size.lone_runs))
        _progress(f"quick start on a warm server: {size.quick_start_runs} run(s) each")
        quick = asyncio.run(flows.quick_start(reference, size.quick_start_runs))
    _progress(f"pytest -n 2 vs -n 0 on {size.suite_tests} flow tests, {size.suite_rounds} round(s)")
    xdist = suite.compare_workers(workdir / "suite", size.suite_tests, size.suite_rounds)
    return {
        "wake": wake,
        "throughput": burst,
        "concurrent_flows": concurrency,
        "quick_start": quick,
        "boot": boot,
        "xdist": xdist,
    }


def _rows(results: dict[str, Any]) -> list[Row]:
    wake: wire.WakeLatency = results["wake"]
    burst: wire.Throughput = results["throughput"]
    concurrency: flows.Concurrency = results["concurrent_flows"]
    quick: flows.QuickStart = results["quick_start"]
    boot: flows.Boot = results["boot"]
    xdist: suite.SuiteTimes = results["xdist"]
    samples = f"{len(wake.flowwright_us)} samples each, flowwright and raw alternating"
    fw50, fw99 = (percentile(wake.flowwright_us, q) for q in (50, 99))
    raw50, raw99 = (percentile(wake.raw_us, q) for q in (50, 99))
    poll50, poll99 = (percentile(wake.polling_us, q) for q in (50, 99))
    polling = f"{wire.POLL_INTERVAL * 1000:g} ms polling"
    rows = [
        Row("wake_p50", "wake latency p50", "us", fw50, raw50, "raw recv()", note=samples),
        Row(
            "wake_p99",
            "wake latency p99",
            "us",
            fw99,
            raw99,
            "raw recv()",
            target="<= 1.1x raw",
            passed=fw99 <= 1.1 * raw99,
        ),
        Row("wake_p50_polling", "wake latency p50 vs polling", "us", fw50, poll50, polling),
        Row(
            "wake_p99_polling",
            "wake latency p99 vs polling",
            "us",
            fw99,
            poll99,
            polling,
            note=f"{len(wake.polling_us)} polled samples",
        ),
    ]
    errors = [run.error for run in burst.runs if run.error]
    rows.append(
        Row(
            "throughput",
            f"collector throughput ({burst.count:,} burst)",
            "msg/s",
            burst.flowwright_rate,
            burst.raw_rate,
            "raw receive loop",
            target=">= 0.9x raw, 0 lost",
            passed=burst.flowwright_rate >= 0.9 * burst.raw_rate and burst.lost == 0,
            note=(
                f"{burst.lost} lost over {len(burst.flowwright)} burst(s) each way; median rate; "
                f"a raw loop that also runs json.loads on each frame: "
                f"{burst.raw_decoded_rate:,.0f} msg/s "
                f"(flowwright {burst.flowwright_rate / burst.raw_decoded_rate:.2f}x of that)"
                + (f"; errors: {errors}" if errors else "")
            ),
        )
    )
    log = concurrency.server_log
    rows.append(
        Row(
            "concurrent_flows",
            f"{concurrency.count} concurrent osb flows, per-flow time (median)",
            "s",
            median(concurrency.per_flow_seconds),
            median(concurrency.lone_seconds),
            "a lone flow",
            target=f"{concurrency.count} complete, 0 lost",
            passed=concurrency.completed == concurrency.count
            and concurrency.lost == 0
            and concurrency.duplicates == 0,
            note=(
                f"{concurrency.completed}/{concurrency.count} complete, {concurrency.lost} lost, "
                f"{concurrency.duplicates} duplicated ({concurrency.checked_against_server} "
                f"checked against the server's transcripts); all done in "
                f"{concurrency.wall_seconds:.2f} s; the server's --config test DEBUG log wrote "
                f"{log.lines if log else 0:,} lines ({(log.bytes if log else 0) / 1e6:.1f} MB) "
                "meanwhile, included in the figures"
                + (f"; errors: {concurrency.errors[:3]}" if concurrency.errors else "")
            ),
        )
    )
    rows.append(
        Row(
            "quick_start",
            "quick-start test, warm server (median)",
            "ms",
            median(quick.flowwright_seconds) * 1000,
            median(quick.raw_seconds) * 1000,
            "same steps on a raw socket",
            note=f"{len(quick.flowwright_seconds)} run(s) each after a warm-up",
        )
    )
    rows.append(
        Row(
            "boot",
            "server boot: start → healthy (median)",
            "ms",
            median(boot.runner_seconds) * 1000,
            median(boot.raw_seconds) * 1000,
            "Popen + 2 ms /health poll",
            note=f"{len(boot.runner_seconds)} run(s) each, python -m flowwright_demo --config test",
        )
    )
    failed = [run for run in xdist.runs if run.returncode or run.passed != xdist.tests]
    rows.append(
        Row(
            "xdist",
            f"pytest -n 2 vs -n 0, {xdist.tests} flow tests (wall)",
            "s",
            xdist.seconds(2),
            xdist.seconds(0),
            "-n 0",
            target="all pass both ways",
            passed=not failed,
            note="; ".join(f"-n {run.workers}: {run.summary}" for run in xdist.runs)
            + (" — see the JSON for the failing runs' output" if failed else ""),
        )
    )
    return rows


def _machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "clock": clock_info(),
    }


def run(size: Size) -> tuple[list[Row], dict[str, Any]]:
    """Every measure at ``size``: the rows, and the whole report as JSON-ready data."""
    date = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="flowwright-bench-") as workdir, timed() as span:
        results = _measure(size, Path(workdir))
    rows = _rows(results)
    return rows, {
        "date": date,
        "size": asdict(size),
        "machine": _machine(),
        "duration_s": span.seconds,
        "rows": [row_dict(row) for row in rows],
        "raw": {name: asdict(result) for name, result in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="full", help="smoke: seconds; full: minutes"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"(default {DEFAULT_JSON})")
    args = parser.parse_args(argv)
    rows, report = run(SIZES[args.size])
    print(format_table(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n{args.size} run in {report['duration_s']:.0f} s; JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
