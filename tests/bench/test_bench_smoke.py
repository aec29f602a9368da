"""The benchmark's smoke size, run as ``./dev bench`` runs it, so that it cannot rot.

Only structure and correctness are asserted (every measure reported, nothing lost, every
flow complete, every test of the generated suite passing, every ratio a positive number),
never a timing: timings belong to the machine, and a missed target is the report's business.
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

from bench.run import MEASURES, SIZES

ROOT = Path(__file__).resolve().parents[2]
SMOKE = SIZES["smoke"]


@dataclass(frozen=True)
class SmokeRun:
    report: dict[str, Any]
    table: str

    @property
    def rows(self) -> dict[str, dict[str, Any]]:
        return {row["key"]: row for row in self.report["rows"]}

    @property
    def raw(self) -> dict[str, Any]:
        return self.report["raw"]


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
    assert [row["key"] for row in smoke.report["rows"]] == list(MEASURES)
    for row in smoke.report["rows"]:
        assert row["measure"] in smoke.table


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
    assert len(wake["flowwright_us"]) == len(wake["raw_us"]) == SMOKE.wake_samples
    assert len(wake["polling_us"]) == SMOKE.polling_samples


def test_no_message_of_a_burst_is_lost(smoke: SmokeRun) -> None:
    burst = smoke.raw["throughput"]
    runs = burst["flowwright"] + burst["raw"] + burst["raw_decoded"]
    assert len(runs) == 3 * SMOKE.burst_rounds
    for run in runs:
        assert run["error"] is None
        assert (run["received"], run["lost"], run["duplicates"]) == (SMOKE.burst, 0, 0)
        assert run["in_order"]


def test_every_concurrent_flow_completes_with_nothing_lost(smoke: SmokeRun) -> None:
    flows = smoke.raw["concurrent_flows"]
    assert flows["count"] == flows["completed"] == SMOKE.flows
    assert (flows["lost"], flows["duplicates"], flows["errors"]) == (0, 0, [])
    assert flows["checked_against_server"] == SMOKE.flows
    assert flows["expected_steps"][-1].endswith("finished")
    assert smoke.rows["concurrent_flows"]["passed"] is True


def test_the_generated_suite_passes_with_and_without_workers(smoke: SmokeRun) -> None:
    runs = smoke.raw["xdist"]["runs"]
    assert sorted(run["workers"] for run in runs) == sorted([0, 2] * SMOKE.suite_rounds)
    for run in runs:
        assert (run["returncode"], run["passed"]) == (0, SMOKE.suite_tests), run["output_tail"]
