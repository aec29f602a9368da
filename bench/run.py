"""flowwright's benchmarks, in one run, side by side with their baselines (``./dev bench``).

    python -m bench.run [--size smoke|full] [--json PATH] [--only GROUP[,GROUP...]]

Measures, each against a baseline doing the same work without flowwright, in the same run:

1. wake latency (the server stamps and sends a frame → the waiting code resumes), p50/p99:
   ``FlowTestClient.expect`` vs a raw ``websockets`` ``recv()`` and ``recv()`` + ``json.loads``;
2. throughput on pipelined bursts of envelopes (100k, and 1M at full size) vs the same two
   raw loops, with lost messages counted and any disconnect reported with who closed it;
3. memory per message held vs the frame kept as ``str`` and as a ``json.loads`` dict;
4. the cost of a wait, a reply and a query by agent with 0 … 100k messages held (the growth,
   last ÷ first);
5. the reference server's boot to its printed URL vs a bare Starlette + uvicorn app;
6. ``pytest -n 2`` vs ``-n 0`` on the demo suite (examples/) and on tests/flows;
7. concurrent osb flows on the reference server (all complete, none lost) and the README's
   quick-start test on a warm server;
8. on request only (``--only design``): the client's frame path against the one it replaced
   (websockets' asyncio client and a reader task, ``bench/asyncio_client.py``), wake latency
   and bursts, interleaved with both raw baselines.

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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import boot, cost, flows, suite, wire
from bench.report import Row, format_table, row_dict
from bench.suite import Selection
from bench.timing import clock_info, median, now_ns, percentile, timed
from flowwright import TestFlowRunner

__all__ = [
    "DEFAULT_JSON",
    "GROUPS",
    "MEASURES",
    "SIZES",
    "SUITES",
    "Size",
    "main",
    "measures",
    "run",
]

DEFAULT_JSON = Path(__file__).with_name("results.json")
SERVER = Path(__file__).with_name("server.py")

SUITES = (
    ("xdist_demo", Selection("the demo suite", ("-c", "examples/pytest.ini", "examples")), 1.4),
    ("xdist_flows", Selection("tests/flows", ("tests/flows",)), 1.0),
)
"""Each ``pytest -n 2`` vs ``-n 0`` row: its key, its suite, how many times faster ``-n 2``
must be (the demo suite: 1.4; tests/flows: faster at all)."""


@dataclass(frozen=True)
class Size:
    """How much of everything one run does."""

    name: str
    wake_samples: int
    burst: int
    burst_rounds: int
    large_burst: int
    memory_count: int
    cost_levels: tuple[int, ...]
    cost_samples: int
    boot_runs: int
    suite_rounds: int  # 0: no pytest -n comparison (seconds of worker start-up per run)
    flows: int
    lone_runs: int
    quick_start_runs: int


SIZES = {
    "smoke": Size(
        name="smoke",
        wake_samples=50,
        burst=2_000,
        burst_rounds=1,
        large_burst=10_000,
        memory_count=2_000,
        cost_levels=(0, 1_000, 10_000),
        cost_samples=24,
        boot_runs=1,
        suite_rounds=0,
        flows=5,
        lone_runs=1,
        quick_start_runs=1,
    ),
    "full": Size(
        name="full",
        wake_samples=2_000,
        burst=100_000,
        burst_rounds=3,
        large_burst=1_000_000,
        memory_count=20_000,
        cost_levels=(0, 1_000, 10_000, 100_000),
        cost_samples=30,
        boot_runs=7,
        suite_rounds=2,
        flows=200,
        lone_runs=5,
        quick_start_runs=5,
    ),
}

WAKE_TARGET = 1.15  # wake p50 at most this times recv() + json.loads
BURST_TARGET = 0.8  # burst throughput at least this times recv() + json.loads
MEMORY_TARGET = 2.0  # bytes held per message at most this times the frame as str
GROWTH_TARGET = 1.5  # a wait's, a reply's, a query's cost at the last level ÷ at the first
BOOT_TARGET = 2.0  # reference server boot at most this times the bare app's


GROUPS: dict[str, tuple[str, ...]] = {
    "wake": ("wake_p50", "wake_p50_raw", "wake_p99"),
    "burst": ("burst", "burst_raw"),
    "burst_large": ("burst_large", "burst_large_raw"),
    "memory": ("memory", "memory_dict"),
    "costs": ("wait_cost", "reply_cost", "query_cost"),
    "boot": ("boot",),
    "xdist": tuple(key for key, _, _ in SUITES),
    "flows": ("concurrent_flows", "quick_start"),
    "design": ("design_wake", "design_burst", "design_burst_large"),
}
"""Each group of measures (``--only``), and the keys of its rows, in table order."""
ON_REQUEST = frozenset({"design"})
"""Groups measured only when ``--only`` names them: a comparison of designs, not a target."""
MEASURES = tuple(key for group, keys in GROUPS.items() if group not in ON_REQUEST for key in keys)
"""The key of every row a full report has, in table order."""


def _groups(size: Size, only: Sequence[str] | None) -> list[str]:
    """The groups a run measures: those asked for (by default all but those measured on
    request), less ``xdist`` when ``size`` runs no suites (the smoke size)."""
    if only is None:
        chosen = [group for group in GROUPS if group not in ON_REQUEST]
    else:
        chosen = [group for group in GROUPS if group in only]
    return [group for group in chosen if group != "xdist" or size.suite_rounds]


def measures(size: Size, only: Sequence[str] | None = None) -> tuple[str, ...]:
    """The keys of the rows a report of ``size`` has, in table order."""
    return tuple(key for group in _groups(size, only) for key in GROUPS[group])


_started = now_ns()


def _progress(text: str) -> None:
    print(f"bench: +{(now_ns() - _started) / 1e9:.1f}s {text}", file=sys.stderr, flush=True)


def _measure(size: Size, groups: Sequence[str], workdir: Path) -> dict[str, Any]:
    """Run the measures of ``groups``; returns their raw results by name."""
    results: dict[str, Any] = {}
    # Process spawns first, while this process is small (a fork copies its page tables).
    if "boot" in groups:
        _progress(f"boot to printed URL: {size.boot_runs} run(s) each")
        results["boot"] = boot.boot_times(workdir, size.boot_runs)
    for key, selection, _ in SUITES if "xdist" in groups else ():
        _progress(f"pytest -n 2 vs -n 0 on {selection.name}: {size.suite_rounds} round(s)")
        results[key] = suite.compare_workers(selection, size.suite_rounds)
    if "flows" in groups:
        with flows.reference_server(workdir, "reference") as reference:
            _progress(f"flows: {size.lone_runs} lone, then {size.flows} at once")
            results["concurrent_flows"] = asyncio.run(
                flows.concurrency(reference, size.flows, size.lone_runs)
            )
            _progress(f"quick start on a warm server: {size.quick_start_runs} run(s) each")
            results["quick_start"] = asyncio.run(
                flows.quick_start(reference, size.quick_start_runs)
            )
    wire_groups = {"wake", "memory", "costs", "burst", "burst_large", "design"}.intersection(groups)
    if not wire_groups:
        return results
    bench_server = TestFlowRunner(
        [sys.executable, str(SERVER), "--port", "{port}"], log_path=workdir / "bench-server.log"
    )
    with bench_server:
        url = bench_server.ws_url
        if "wake" in groups:
            _progress(f"wake latency: {size.wake_samples} round trips each")
            results["wake"] = asyncio.run(wire.wake_latency(url, size.wake_samples))
        if "memory" in groups:
            _progress(f"memory held: {size.memory_count:,} messages each")
            results["memory"] = asyncio.run(wire.held_memory(url, size.memory_count))
        if "costs" in groups:
            _progress(f"wait, reply and query cost with {list(size.cost_levels)} messages held")
            results["costs"] = asyncio.run(
                cost.costs(url, list(size.cost_levels), size.cost_samples)
            )
        if "burst" in groups:
            _progress(f"bursts: {size.burst_rounds} of {size.burst:,} each way")
            results["burst"] = asyncio.run(wire.throughput(url, size.burst, size.burst_rounds))
        if "burst_large" in groups:
            _progress(f"bursts: 1 of {size.large_burst:,} each way")
            results["burst_large"] = asyncio.run(wire.throughput(url, size.large_burst, 1))
        if "design" in groups:
            kinds = wire.DESIGN_KINDS
            _progress(f"design: wake latency, {size.wake_samples} round trips each of {kinds}")
            results["design_wake"] = asyncio.run(wire.wake_latency(url, size.wake_samples, kinds))
            _progress(f"design: bursts, {size.burst_rounds} of {size.burst:,} each of {kinds}")
            results["design_burst"] = asyncio.run(
                wire.throughput(url, size.burst, size.burst_rounds, kinds)
            )
            _progress(f"design: bursts, 1 of {size.large_burst:,} each of {kinds}")
            results["design_burst_large"] = asyncio.run(
                wire.throughput(url, size.large_burst, 1, kinds)
            )
    return results


def _wake_rows(wake: wire.WakeLatency) -> list[Row]:
    samples = f"{len(wake.flowwright_us)} samples each, the three taking turns"
    fw50, fw99 = (percentile(wake.flowwright_us, q) for q in (50, 99))
    raw50 = percentile(wake.raw_us, 50)
    json50, json99 = (percentile(wake.raw_json_us, q) for q in (50, 99))
    return [
        Row(
            "wake_p50",
            "wake latency p50",
            "us",
            fw50,
            json50,
            "recv() + json.loads",
            target=f"<= {WAKE_TARGET}x",
            passed=fw50 <= WAKE_TARGET * json50,
            note=samples,
        ),
        Row("wake_p50_raw", "wake latency p50", "us", fw50, raw50, "raw recv()"),
        Row("wake_p99", "wake latency p99", "us", fw99, json99, "recv() + json.loads"),
    ]


def _burst_rows(key: str, burst: wire.Throughput) -> list[Row]:
    fw, decoded, raw = (burst.rate(kind) for kind in ("flowwright", "raw_json", "raw"))
    runs = burst.of("flowwright")
    disconnects = burst.disconnects
    growth = [run.rss_growth / run.received for run in runs if run.rss_growth and run.received]
    note = (
        f"{burst.lost:,} lost, {len(disconnects)} disconnect(s) over {len(burst.runs)} "
        f"burst(s) ({len(runs)} per client kind; median rate)"
        + (f"; flowwright's RSS grew {median(growth):,.0f} B per message" if growth else "")
        + "".join(f"; DISCONNECT {text}" for text in disconnects)
    )
    title = f"burst of {burst.count:,}"
    return [
        Row(
            key,
            title,
            "msg/s",
            fw,
            decoded,
            "recv() + json.loads",
            target=f">= {BURST_TARGET}x, 0 lost, no disconnect",
            passed=fw >= BURST_TARGET * decoded and burst.lost == 0 and not disconnects,
            note=note,
        ),
        Row(f"{key}_raw", title, "msg/s", fw, raw, "raw recv()"),
    ]


def _design_rows(
    wake: wire.WakeLatency, burst: wire.Throughput, large: wire.Throughput
) -> list[Row]:
    """The frame path against the reader task it replaced; each note gives both designs'
    figures as ratios to ``recv()`` + ``json.loads`` from the same interleaved runs."""
    p50 = {kind: percentile(wake.of(kind), 50) for kind in wire.DESIGN_KINDS}
    p99 = {kind: percentile(wake.of(kind), 99) for kind in wire.DESIGN_KINDS}
    wake_note = "; ".join(
        f"{kind}: p50 {p50[kind]:,.1f} µs ({p50[kind] / p50['raw_json']:.2f}x recv+json), "
        f"p99 {p99[kind]:,.1f} µs ({p99[kind] / p99['raw_json']:.2f}x)"
        for kind in wire.DESIGN_KINDS
    )
    rows = [
        Row(
            "design_wake",
            "wake latency p50, one hop vs reader task",
            "us",
            p50["flowwright"],
            p50["reader_task"],
            "reader task (websockets asyncio)",
            note=f"{len(wake.flowwright_us)} samples each, the four taking turns: {wake_note}",
        )
    ]
    for key, runs in (("design_burst", burst), ("design_burst_large", large)):
        rates = {kind: runs.rate(kind) for kind in wire.DESIGN_KINDS}
        lost = {kind: sum(run.lost for run in runs.of(kind)) for kind in wire.DESIGN_KINDS}
        note = "; ".join(
            f"{kind}: {rates[kind]:,.0f} msg/s ({rates[kind] / rates['raw_json']:.2f}x "
            f"recv+json), {lost[kind]:,} lost"
            for kind in wire.DESIGN_KINDS
        )
        rows.append(
            Row(
                key,
                f"burst of {runs.count:,}, one hop vs reader task",
                "msg/s",
                rates["flowwright"],
                rates["reader_task"],
                "reader task (websockets asyncio)",
                note=note + "".join(f"; DISCONNECT {text}" for text in runs.disconnects),
            )
        )
    return rows


def _memory_rows(memory: wire.Memory) -> list[Row]:
    return [
        Row(
            "memory",
            "memory per message held",
            "B",
            memory.flowwright,
            memory.as_str,
            "the frame as str",
            target=f"<= {MEMORY_TARGET}x",
            passed=memory.flowwright <= MEMORY_TARGET * memory.as_str,
            note=(
                f"{memory.count:,} messages of {memory.frame_bytes} bytes each held after the "
                "socket closed (tracemalloc)"
            ),
        ),
        Row(
            "memory_dict",
            "memory per message held",
            "B",
            memory.flowwright,
            memory.as_dict,
            "json.loads dict",
        ),
    ]


def _cost_rows(costs: cost.Costs) -> list[Row]:
    first, last = costs.levels[0], costs.levels[-1]
    rows = []
    for key, what, figure in (
        ("wait_cost", cost.WAIT, costs.wait),
        ("reply_cost", cost.REPLY, costs.reply),
        ("query_cost", cost.QUERY, costs.query),
    ):
        levels = ", ".join(f"{n:,}: {figure(n):,.0f} µs" for n in costs.levels)
        rows.append(
            Row(
                key,
                f"{key.split('_')[0]} cost, {last:,} held",
                "us",
                figure(last),
                figure(first),
                f"{first:,} held",
                target=f"<= {GROWTH_TARGET}x",
                passed=figure(last) <= GROWTH_TARGET * figure(first),
                note=f"{what}, median of {len(costs.wait_us[first])} per level: {levels}",
            )
        )
    return rows


def _suite_row(key: str, times: suite.SuiteTimes, speedup: float) -> Row:
    """``-n 2`` vs ``-n 0``; the target: ``-n 2`` at least ``speedup`` times faster (1: faster)."""
    failed = times.failed
    workers, serial = times.seconds(2), times.seconds(0)
    ran = "; ".join(f"-n {run.workers}: {run.summary} in {run.seconds:.1f} s" for run in times.runs)
    return Row(
        key,
        f"pytest -n 2 vs -n 0, {times.name} (wall)",
        "s",
        workers,
        serial,
        "-n 0",
        target=f"-n 2 {f'>= {speedup:g}x ' if speedup > 1 else ''}faster, all pass",
        passed=not failed and workers * speedup < serial,
        note=f"pytest {' '.join(times.args)}, after an untimed -n 0 run: {ran}"
        + (" — see the JSON for the failing runs' output" if failed else ""),
    )


def _boot_rows(boots: boot.Boot) -> list[Row]:
    reference, bare = median(boots.reference_seconds), median(boots.bare_seconds)
    return [
        Row(
            "boot",
            "server boot to printed URL (median)",
            "ms",
            reference * 1000,
            bare * 1000,
            "bare Starlette + uvicorn",
            target=f"<= {BOOT_TARGET}x",
            passed=reference <= BOOT_TARGET * bare,
            note=f"{len(boots.reference_seconds)} run(s) each, taking turns, after an untimed "
            f"warm-up of each; the reference server: {' '.join(boots.reference_command[1:])}",
        )
    ]


def _flow_rows(concurrency: flows.Concurrency, quick: flows.QuickStart) -> list[Row]:
    log = concurrency.server_log
    return [
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
        ),
        Row(
            "quick_start",
            "quick-start test, warm server (median)",
            "ms",
            median(quick.flowwright_seconds) * 1000,
            median(quick.raw_seconds) * 1000,
            "same steps on a raw socket",
            note=f"{len(quick.flowwright_seconds)} run(s) each after a warm-up",
        ),
    ]


def _rows(results: dict[str, Any]) -> list[Row]:
    """The rows of whatever was measured, in table order."""
    rows: list[Row] = []
    if "wake" in results:
        rows += _wake_rows(results["wake"])
    for key in ("burst", "burst_large"):
        if key in results:
            rows += _burst_rows(key, results[key])
    if "memory" in results:
        rows += _memory_rows(results["memory"])
    if "costs" in results:
        rows += _cost_rows(results["costs"])
    if "boot" in results:
        rows += _boot_rows(results["boot"])
    rows += [_suite_row(key, results[key], speedup) for key, _, speedup in SUITES if key in results]
    if "concurrent_flows" in results:
        rows += _flow_rows(results["concurrent_flows"], results["quick_start"])
    if "design_wake" in results:
        rows += _design_rows(
            results["design_wake"], results["design_burst"], results["design_burst_large"]
        )
    return rows


def _machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "clock": clock_info(),
    }


def run(size: Size, only: Sequence[str] | None = None) -> tuple[list[Row], dict[str, Any]]:
    """Every measure at ``size`` (or those of the groups in ``only``): the rows, and the
    whole report as JSON-ready data."""
    groups = _groups(size, only)
    date = datetime.now(UTC).isoformat(timespec="seconds")
    machine = _machine()
    with tempfile.TemporaryDirectory(prefix="flowwright-bench-") as workdir, timed() as span:
        results = _measure(size, groups, Path(workdir))
    rows = _rows(results)
    not_measured = {
        key: "not asked for: --only"
        if only is not None and group not in only
        else "on request only: --only design"
        if group in ON_REQUEST
        else "full size only: each pytest -n 2 run spends seconds starting its workers"
        for group, keys in GROUPS.items()
        if group not in groups
        for key in keys
    }
    return rows, {
        "date": date,
        "size": asdict(size),
        "groups": groups,
        "machine": machine,
        "duration_s": span.seconds,
        "rows": [row_dict(row) for row in rows],
        "not_measured": not_measured,
        "raw": {name: asdict(result) for name, result in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="full", help="smoke: seconds; full: minutes"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"(default {DEFAULT_JSON})")
    parser.add_argument(
        "--only",
        type=lambda text: text.split(","),
        metavar="GROUP[,GROUP]",
        help=f"measure only these groups, of: {', '.join(GROUPS)}",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(GROUPS))
    if unknown:
        parser.error(f"no such group: {', '.join(unknown)} (the groups: {', '.join(GROUPS)})")
    rows, report = run(SIZES[args.size], args.only)
    print(format_table(rows))
    skipped: dict[str, list[str]] = {}
    for key, reason in report["not_measured"].items():
        skipped.setdefault(reason, []).append(key)
    for reason, keys in skipped.items():
        print(f"- not measured ({reason}): {', '.join(keys)}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n{args.size} run in {report['duration_s']:.0f} s; JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
