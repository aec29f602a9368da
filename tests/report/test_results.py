"""The results document: built per run, written, read back, refused when it is not one,
and merged from shards into the same shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowwright.report import ResultsError, TestRecord, load, merge
from flowwright.report.results import build, write_json


def document(shard: str, *nodeids: str, duration: float = 1.5) -> dict[str, object]:
    records = [TestRecord(nodeid=nodeid, outcome="passed", duration=0.5) for nodeid in nodeids]
    return build(records, shard=shard, started=100.0, duration=duration, exitstatus=0)


def test_a_run_is_one_run_and_its_tests(tmp_path: Path) -> None:
    failed = TestRecord(nodeid="t.py::test_b", outcome="failed", errors=["[call] boom"])
    results = build(
        [TestRecord(nodeid="t.py::test_a"), failed],
        shard="1/2",
        started=100.0,
        duration=2.5,
        exitstatus=1,
    )
    assert (results["format"], results["version"]) == ("flowwright-report", 1)
    assert results["runs"] == [
        {"shard": "1/2", "started": 100.0, "duration": 2.5, "exitstatus": 1, "tests": 2}
    ]
    assert results["tests"][1] == failed.to_dict()
    assert results["tests"][1]["errors"] == ["[call] boom"]

    path = tmp_path / "out" / "deeper" / "results.json"  # directories are created
    write_json(results, path)
    assert load(path) == results


def test_merging_keeps_every_run_and_test_in_order() -> None:
    merged = merge([document("1/2", "a", "b"), document("2/2", "c", duration=2.0)])
    assert (merged["format"], merged["version"]) == ("flowwright-report", 1)
    assert [run["shard"] for run in merged["runs"]] == ["1/2", "2/2"]
    assert [test["nodeid"] for test in merged["tests"]] == ["a", "b", "c"]
    again = merge([merged, document("3/3", "d")])  # a merged document merges like a run's
    assert [test["nodeid"] for test in again["tests"]] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "cannot read a results file"),
        ("{not json", "cannot read a results file"),
        ("[1, 2]", "not a flowwright results file (--flow-report-json)"),
        ('{"format": "junit"}', "not a flowwright results file (--flow-report-json)"),
        (
            '{"format": "flowwright-report", "version": 2}',
            "results format version 2; this flowwright reads version 1",
        ),
    ],
)
def test_what_is_not_a_results_file_is_refused_by_name(
    tmp_path: Path, text: str | None, problem: str
) -> None:
    path = tmp_path / "results.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ResultsError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_the_document_is_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    record = TestRecord(nodeid="t.py::test_ü", output=[{"name": "stdout", "text": "é"}])
    write_json(build([record], shard=None, started=0, duration=0, exitstatus=0), path)
    text = path.read_text(encoding="utf-8")
    assert "test_ü" in text  # not escaped to \\u: readable as it is
    assert json.loads(text)["tests"][0]["output"] == [{"name": "stdout", "text": "é"}]
