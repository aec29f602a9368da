"""The HTML page rendered from a results document: failures first, every value as text, only
its own script runs, and shards merged show as one report."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from markupsafe import escape

from flowwright.report import TestRecord, merge, render, write_html
from flowwright.report.results import build
from tests.report.page import read_page
from tests.report.planted import PLANT, png


def run(*records: TestRecord, shard: str | None = None, duration: float = 1.0) -> dict[str, Any]:
    return build(records, shard=shard, started=0.0, duration=duration, exitstatus=0)


def nodeids_in_order(page: str) -> list[str]:
    return re.findall(r'<span class="nodeid">([^<]*)</span>', page)


def test_failures_come_first_open_then_the_rest_by_node_id() -> None:
    page = render(
        run(
            TestRecord(nodeid="t.py::test_c", outcome="passed"),
            TestRecord(nodeid="t.py::test_b", outcome="error", errors=["[setup] boom"]),
            TestRecord(nodeid="t.py::test_a", outcome="skipped", skip_reason="not today"),
            TestRecord(nodeid="t.py::test_d", outcome="failed", errors=["[call] assert 1 == 2"]),
        )
    )
    assert nodeids_in_order(page) == [
        "t.py::test_b",
        "t.py::test_d",
        "t.py::test_a",
        "t.py::test_c",
    ]
    opened = re.findall(r'<details class="test" data-status="(\w+)"[^>]*\bopen>', page)
    assert opened == ["error", "failed"]
    assert '<button type="button" data-status="failed">failed (1)</button>' in page
    assert "xfailed (" not in page  # no button for an outcome no test had
    assert "reason: not today" in page
    assert "[call] assert 1 == 2" in page


def test_every_value_is_text_and_only_the_pages_script_runs() -> None:
    record = TestRecord(
        nodeid=f"t.py::test_x[{PLANT}]",
        outcome="failed",
        errors=[PLANT],
        output=[{"name": PLANT, "text": PLANT}],
        attachments=[
            {"name": PLANT, "kind": "text", "path": None, "data": PLANT},
            {"name": "axe", "kind": "violations", "path": None, "data": [{"help": PLANT}]},
        ],
    )
    first, second = render(run(record)), render(run(record))
    for page in (first, second):
        assert PLANT not in page
        assert page.count(str(escape(PLANT))) >= 6
        (script,) = re.findall(r"<script\b[^>]*>", page)
        (nonce,) = re.findall(r"script-src 'nonce-([^']+)'", page)
        assert script == f'<script nonce="{nonce}">'
    assert re.findall(r"nonce-([^']+)'", first) != re.findall(r"nonce-([^']+)'", second)


def test_attachments_are_inlined_and_long_cells_cut() -> None:
    nodes = [{"target": ["#send"]}, {"target": ["main", "h1"]}]
    record = TestRecord(
        nodeid="t.py::test_ui",
        attachments=[
            {
                "name": "shot",
                "kind": "image",
                "path": "shot.png",
                "mime": "image/png",
                "data": base64.b64encode(png()).decode(),
            },
            {
                "name": "axe",
                "kind": "violations",
                "path": None,
                "data": [{"id": "color-contrast", "nodes": nodes, "help": "x" * 400}],
            },
        ],
    )
    page = render(run(record))
    assert f'src="data:image/png;base64,{base64.b64encode(png()).decode()}"' in page
    assert "<th>id</th><th>nodes</th><th>help</th>" in page
    assert "<td>2: #send; main, h1</td>" in page  # axe-core's nodes: which elements
    assert f"<td>{'x' * 299}…</td>" in page  # a cell is cut at 300 characters
    assert not re.search(r"https?://", page)  # nothing from the network


def test_merged_shards_show_as_one_report(tmp_path: Path) -> None:
    merged = merge(
        [
            run(TestRecord(nodeid="a.py::test_1"), shard="1/2", duration=1.25),
            run(TestRecord(nodeid="b.py::test_2", outcome="failed"), shard="2/2", duration=2.5),
        ]
    )
    path = tmp_path / "out" / "report.html"
    write_html(merged, path)
    page = path.read_text(encoding="utf-8")
    assert nodeids_in_order(page) == ["b.py::test_2", "a.py::test_1"]
    assert "duration <b>3.750s</b>" in page
    assert "merged from 2 runs:" in page
    assert "1/2 (1 tests, 1.250s), 2/2 (1 tests, 2.500s)" in page


def test_an_empty_run_says_so() -> None:
    page = render(run())
    assert "no tests were run" in page
    assert nodeids_in_order(page) == []


def checked(rule: str, result: str, evidence: str = "") -> dict[str, Any]:
    """A conformance-style row, attached with a summary name."""
    row = {"rule": rule, "result": result, "evidence": evidence}
    return {"name": f"conformance: {rule}", "kind": "violations", "path": None, "data": [row]}


def summarised(attachment: dict[str, Any], name: str = "conformance") -> dict[str, Any]:
    return attachment | {"summary": name}


def test_summary_rows_of_every_test_make_one_run_level_table_linking_to_each() -> None:
    page = render(
        run(
            TestRecord(nodeid="t.py::test_b", attachments=[summarised(checked("b-rule", "pass"))]),
            TestRecord(
                nodeid="t.py::test_a",
                outcome="failed",
                attachments=[
                    summarised(checked("c-rule", "FAIL", f"c-rule: {PLANT}")),
                    checked("not-summarised", "pass"),  # only in its test's entry
                ],
            ),
            TestRecord(nodeid="t.py::test_plain"),
            TestRecord(
                nodeid="t.py::test_c",
                attachments=[
                    summarised(checked("a-rule", "pass")),
                    summarised({"name": "n", "kind": "violations", "data": [{"k": 1}]}, "other"),
                ],
            ),
        )
    )
    read = read_page(page)
    assert list(read.summaries) == ["conformance", "other"]
    rows = read.summaries["conformance"]
    assert [(row.cells["rule"], row.cells["result"]) for row in rows] == [
        ("a-rule", "pass"),
        ("b-rule", "pass"),
        ("c-rule", "FAIL"),
    ]  # by the first column, whatever order the tests came in
    assert [read.entries[row.href.removeprefix("#")] for row in rows] == [
        "t.py::test_c",
        "t.py::test_b",
        "t.py::test_a",
    ]  # each row links to its own test's entry
    assert [row.linked for row in rows] == ["t.py::test_c", "t.py::test_b", "t.py::test_a"]
    assert rows[2].cells["evidence"] == f"c-rule: {PLANT}"  # shown as text...
    assert PLANT not in page  # ...never as markup
    assert page.index('id="summary-conformance"') < page.index('class="test"')  # at the top
    assert page.count("<h3>violations: conformance: a-rule</h3>") == 1  # the test's own row too
    assert [row.cells for row in read.summaries["other"]] == [
        {"k": "1", "test": "passed t.py::test_c"}
    ]


def test_merged_shards_give_one_summary_table_with_both_shards_rows() -> None:
    merged = merge(
        [
            run(
                TestRecord(nodeid="a.py::test_z", attachments=[summarised(checked("z", "pass"))]),
                shard="1/2",
            ),
            run(
                TestRecord(
                    nodeid="b.py::test_y",
                    outcome="failed",
                    attachments=[summarised(checked("y", "FAIL"))],
                ),
                shard="2/2",
            ),
        ]
    )
    read = read_page(render(merged))
    assert list(read.summaries) == ["conformance"]
    assert [
        (row.cells["rule"], read.entries[row.href[1:]]) for row in read.summaries["conformance"]
    ] == [("y", "b.py::test_y"), ("z", "a.py::test_z")]


def test_a_run_without_summary_rows_has_no_run_level_table() -> None:
    page = render(run(TestRecord(nodeid="t.py::test_a", attachments=[checked("x", "pass")])))
    assert read_page(page).summaries == {}
    assert '<section class="run-summary"' not in page
