"""--shard=i/n splits a suite deterministically; merge makes one report of the shards' JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flowwright.report.shard import select_shard

SUITE = """
import pytest

@pytest.mark.parametrize("n", range(7))
def test_numbered(n):
    assert n != 5

def test_alone():
    pass
"""


def test_shards_are_even_disjoint_and_independent_of_order() -> None:
    ids = [f"t.py::test_{name}" for name in "kdbzafgcieh"]
    shards = [select_shard(ids, ids, i, 3)[0] for i in (1, 2, 3)]
    assert sorted(t for shard in shards for t in shard) == sorted(ids)
    assert [len(shard) for shard in shards] == [4, 4, 3]
    reordered = list(reversed(ids))
    assert [set(select_shard(reordered, reordered, i, 3)[0]) for i in (1, 2, 3)] == [
        set(shard) for shard in shards
    ]


def test_two_shards_run_every_test_once_and_merge_into_one_report(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_sharded=SUITE)
    ran: list[set[str]] = []
    for index in (1, 2):
        result = suite.runpytest_subprocess(
            f"--shard={index}/2", f"--flow-report-json=shard-{index}.json"
        )
        result.stdout.fnmatch_lines(["*4 deselected*"])
        results = json.loads((suite.path / f"shard-{index}.json").read_text())
        assert results["runs"][0]["shard"] == f"{index}/2"
        ran.append({test["nodeid"] for test in results["tests"]})
    assert not ran[0] & ran[1]
    assert len(ran[0] | ran[1]) == 8

    merged = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowwright.report",
            "merge",
            "report.html",
            "shard-1.json",
            "shard-2.json",
            "--json",
            "merged.json",
        ],
        cwd=suite.path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert merged.returncode == 0, merged.stderr
    assert "report.html: 8 tests from 2 file(s)" in merged.stdout
    page = (suite.path / "report.html").read_text()
    for nodeid in ran[0] | ran[1]:
        assert f'<span class="nodeid">{nodeid}</span>' in page
    assert "merged from 2 runs" in page
    combined = json.loads((suite.path / "merged.json").read_text())
    assert sorted(t["outcome"] for t in combined["tests"]) == ["failed"] + ["passed"] * 7


def test_merge_refuses_what_is_not_a_results_file(suite: pytest.Pytester) -> None:
    (suite.path / "junit.xml").write_text("<testsuites/>")
    done = subprocess.run(
        [sys.executable, "-m", "flowwright.report", "merge", "out.html", "junit.xml"],
        cwd=suite.path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "junit.xml: cannot read a results file" in done.stderr
    assert not (suite.path / "out.html").exists()


@pytest.mark.parametrize("value", ["0/2", "3/2", "1/0", "one/two", "1-2"])
def test_a_bad_shard_is_a_usage_error_naming_the_valid_form(
    suite: pytest.Pytester, value: str
) -> None:
    suite.makepyfile("def test_nothing(): pass")
    result = suite.runpytest_subprocess(f"--shard={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--shard='{value}' is not a shard: give i/n with 1 <= i <= n*"])
