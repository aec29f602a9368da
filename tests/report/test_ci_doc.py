"""docs/ci.md's workflow is valid YAML whose commands use the options and command that exist;
the docs say what the report's times count from, in the report's own words."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from flowwright.report.record import TIME_ORIGIN

DOCS = Path(__file__).parents[2] / "docs"
DOC = DOCS / "ci.md"


def workflow() -> dict[str, Any]:
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    document: dict[str, Any] = yaml.safe_load(block)
    return document


def runs(job: dict[str, Any]) -> list[str]:
    return [" ".join(step["run"].split()) for step in job["steps"] if "run" in step]


def test_the_workflow_shards_the_suite_and_merges_one_report() -> None:
    jobs = workflow()["jobs"]
    shards = jobs["test"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    test_runs = runs(jobs["test"])
    assert any("apt-get install" in run and "chromium" in run for run in test_runs)
    assert "./dev setup" in test_runs
    (suite,) = [run for run in test_runs if run.startswith("./dev test")]
    assert f"--shard=${{{{ matrix.shard }}}}/{len(shards)}" in suite
    flags = set(re.findall(r"(--[\w-]+)=", suite))
    assert flags == {"--shard", "--flow-report-json", "--junitxml"}
    usage = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "--shard=" in usage
    assert "--flow-report-json=" in usage

    report = jobs["report"]
    assert report["needs"] == "test"
    assert report["if"] == "always()"  # a failed shard still gets its report
    (merge,) = [run for run in runs(report) if "flowwright.report merge" in run]
    assert merge.startswith("python -m flowwright.report merge ")
    assert "shards/results-*.json" in merge
    help_text = subprocess.run(
        [sys.executable, "-m", "flowwright.report", "merge", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "output" in help_text
    assert "results" in help_text


def test_the_docs_and_the_report_agree_on_what_t_0_is() -> None:
    for page in ("ci.md", "concepts.md", "troubleshooting.md"):
        text = " ".join((DOCS / page).read_text(encoding="utf-8").split())
        assert f"t=0: {TIME_ORIGIN}" in text, page
        assert "since the client connected" not in text, page
