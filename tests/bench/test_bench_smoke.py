"""The benchmark's smoke size, run as ``./dev bench`` runs it, so that it cannot rot.

Asserted: the report's structure (every row, every ratio a positive number, the machine and
the date), and the invariants that hold on any machine at any load — nothing lost, no
connection dropped, every flow complete, and a wait's and a reply's cost flat as the history
grows (O(1), not O(n)). Targets on speed are the report's business, never asserted here.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.run import GROUPS, SIZES, measures
from bench.timing import median

ROOT = Path(__file__).resolve().parents[2]
SMOKE = SIZES["smoke"]
GROWTH_BOUND = 3.0
"""Cost at the last level (10k held) ÷ at the first (0 held), medians of interleaved samples:
an O(1) wait or reply stays near 1 however loaded the machine (load hits every level alike),
while an O(n) one is 10k times the per-message cost above its fixed cost (about 100 times today)."""


@dataclass(frozen=True)
class SmokeRun:
    report: dict[str, Any]
    table: str

    @property
    def rows(self) -> dict[str, dict[str, Any]]:
        return {row["key"]: row for row in self.report["rows"]}

    @property
    def raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = self.report["raw"]
        return raw


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> SmokeRun:
    """One smoke run in a subprocess, with its own event loops and servers, as from a shell."""
    path = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--size", "smoke", "--json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return SmokeRun(json.loads(path.read_text(encoding="utf-8")), done.stdout)


def test_every_measure_has_one_row_in_order(smoke: SmokeRun) -> None:
    assert [row["key"] for row in smoke.report["rows"]] == list(measures(SMOKE))
    for row in smoke.report["rows"]:
        assert row["measure"] in smoke.table
        assert row["target"] == "—" or row["passed"] in (True, False)
    assert smoke.report["not_measured"] == {
        **dict.fromkeys(
            ["xdist_demo", "xdist_flows"],
            "full size only: each pytest -n 2 run spends seconds starting its workers",
        ),
        **dict.fromkeys(GROUPS["design"], "on request only: --only design"),
    }
    assert "not measured (full size only: " in smoke.table


def test_every_ratio_is_a_positive_number(smoke: SmokeRun) -> None:
    for row in smoke.report["rows"]:
        for name in ("flowwright", "baseline", "ratio"):
            value = row[name]
            assert isinstance(value, int | float), (row["key"], name, value)
            assert math.isfinite(value), (row["key"], name, value)
            assert value > 0, (row["key"], name, value)
        assert row["ratio"] == pytest.approx(row["flowwright"] / row["baseline"])
        assert row["passed"] in (True, False, None)


def test_the_report_names_the_machine_and_the_date(smoke: SmokeRun) -> None:
    machine = smoke.report["machine"]
    assert machine["cores"] >= 1
    assert machine["python"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["clock"]["name"] == "time.monotonic_ns"
    assert smoke.report["date"]
    assert smoke.report["size"]["name"] == "smoke"


def test_wake_latency_has_every_sample(smoke: SmokeRun) -> None:
    wake = smoke.raw["wake"]
    for waiter in ("flowwright_us", "raw_us", "raw_json_us"):
        assert len(wake[waiter]) == SMOKE.wake_samples, waiter


@pytest.mark.parametrize("key", ["burst", "burst_large"])
def test_no_message_of_a_burst_is_lost(smoke: SmokeRun, key: str) -> None:
    burst = smoke.raw[key]
    assert sorted(run["kind"] for run in burst["runs"]) == sorted(
        ["flowwright", "raw", "raw_json"] * (SMOKE.burst_rounds if key == "burst" else 1)
    )
    for run in burst["runs"]:
        assert (run["received"], run["lost"], run["duplicates"]) == (burst["count"], 0, 0), run
        assert run["in_order"], run


@pytest.mark.parametrize("key", ["burst", "burst_large"])
def test_no_connection_drops_until_the_client_closes_it(smoke: SmokeRun, key: str) -> None:
    """The server saw every burst's connection end with the client's normal close (1000)."""
    for run in smoke.raw[key]["runs"]:
        assert (run["error"], run["disconnect"]) == (None, None), run
        saw = run["server_saw"]
        assert saw["received"] == {"code": 1000, "reason": ""}, run
        assert saw["server_closed_first"] is False, run


def test_memory_per_message_is_measured_against_the_frame(smoke: SmokeRun) -> None:
    memory = smoke.raw["memory"]
    assert memory["count"] == SMOKE.memory_count
    assert memory["as_str"] >= memory["frame_bytes"]  # a str holds at least its characters
    assert memory["as_dict"] > memory["as_str"]
    assert memory["flowwright"] > 0


def _growth(smoke: SmokeRun, figures: str) -> tuple[float, str]:
    levels = smoke.raw["costs"]["levels"]
    assert levels == list(SMOKE.cost_levels)
    samples = {int(n): values for n, values in smoke.raw["costs"][figures].items()}
    medians = {n: median(values) for n, values in samples.items()}
    first, last = medians[levels[0]], medians[levels[-1]]
    shown = ", ".join(f"{n:,} held: {medians[n]:,.0f} µs" for n in levels)
    return last / first, shown


def test_a_wait_costs_the_same_however_many_messages_came_since_the_last_action(
    smoke: SmokeRun,
) -> None:
    growth, shown = _growth(smoke, "wait_us")
    assert growth <= GROWTH_BOUND, f"a wait's cost grows with the history ({shown})"


def test_a_reply_costs_the_same_however_many_messages_are_held(smoke: SmokeRun) -> None:
    growth, shown = _growth(smoke, "reply_us")
    assert growth <= GROWTH_BOUND, f"a reply's cost grows with the history ({shown})"


def test_a_query_by_agent_costs_the_same_however_many_messages_are_held(
    smoke: SmokeRun,
) -> None:
    growth, shown = _growth(smoke, "query_us")
    assert growth <= GROWTH_BOUND, f"a query by agent's cost grows with the history ({shown})"


def test_every_concurrent_flow_completes_with_nothing_lost(smoke: SmokeRun) -> None:
    flows = smoke.raw["concurrent_flows"]
    assert flows["count"] == flows["completed"] == SMOKE.flows
    assert (flows["lost"], flows["duplicates"], flows["errors"]) == (0, 0, [])
    assert flows["checked_against_server"] == SMOKE.flows
    assert flows["expected_steps"][-1].endswith("finished")
    assert smoke.rows["concurrent_flows"]["passed"] is True


def test_the_design_comparison_runs_on_request(tmp_path: Path) -> None:
    """``--only design``: the frame path against the reader task it replaced, both whole."""
    path = tmp_path / "design.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--size=smoke", "--only=design", f"--json={path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(path.read_text(encoding="utf-8"))
    assert [row["key"] for row in report["rows"]] == list(GROUPS["design"])
    for key in ("design_burst", "design_burst_large"):
        runs = report["raw"][key]["runs"]
        assert sorted(run["kind"] for run in runs) == [
            "flowwright",
            "raw",
            "raw_json",
            "reader_task",
        ]
        for run in runs:
            assert (run["lost"], run["disconnect"]) == (0, None), run
    assert len(report["raw"]["design_wake"]["reader_task_us"]) == SMOKE.wake_samples
