"""The conformance suite run as its users run it: pytest --pyargs, against real servers.

The reference server keeps every rule (but one it is being fixed for: its baseline says
which); a small server with one planted deviation fails exactly that rule, named; the
baseline excuses what it lists and fails a listed rule that passes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowwright import settings
from flowwright.conformance import RULES
from tests.conformance.conftest import Planted
from tests.report.page import read_page

SUITE = ("--pyargs", "flowwright.conformance", "-p", "no:cacheprovider")
QUICK = ("--conformance-answer-time", "2")  # the planted server answers at once


def table(output: str) -> dict[str, str]:
    """The summary table: rule id → result."""
    rows = re.findall(r"^([a-z][a-z-]+) +(pass|FAIL|expected|FIXED|n/a) ", output, re.MULTILINE)
    return {rule: verdict for rule, verdict in rows if rule in RULES}


def html_table(page: Path) -> dict[str, str]:
    """The HTML report's run-level conformance table: rule id → result. One row per rule, in
    the suite's order (the terminal's), each linking to the entry of the check that made it."""
    read = read_page(page.read_text(encoding="utf-8"))
    rows = read.summaries["conformance"]
    rules = [row.cells["rule"] for row in rows]
    assert rules == [rule for rule in RULES if rule in rules]  # in order, each once
    for row in rows:
        assert read.entries[row.href.removeprefix("#")] == row.linked
        assert row.cells["statement"] == RULES[row.cells["rule"]].statement
    return {row.cells["rule"]: row.cells["result"] for row in rows}


def test_the_reference_server_keeps_every_rule_under_xdist(suite: pytest.Pytester) -> None:
    # On two workers: the rows are made there, and the terminal and the HTML page still
    # get the whole table.
    result = suite.runpytest_subprocess(*SUITE, "-n", "2", "--flow-report=report.html")
    result.assert_outcomes(passed=len(RULES))
    rows = table(result.stdout.str())
    assert set(rows) == set(RULES)
    assert set(rows.values()) == {"pass"}
    result.stdout.fnmatch_lines(
        ["*flowwright conformance (dialect flowwright)*", f"{len(RULES)} pass"]
    )
    assert html_table(suite.path / "report.html") == dict.fromkeys(RULES, "pass")


@pytest.mark.parametrize(
    ("dialect", "reconnect"),
    [
        ("flowwright", "cut instead of proxy#* replayed once after the reconnect"),
        ("buttermilk", "a plain reconnect to the same session was accepted"),
    ],
)
def test_a_compliant_server_passes_all_in_either_dialect(
    suite: pytest.Pytester, planted: Planted, dialect: str, reconnect: str
) -> None:
    server = planted()
    result = suite.runpytest_subprocess(
        *SUITE, *QUICK, "--flow-server-url", server.ws_url, "--flow-dialect", dialect
    )
    result.assert_outcomes(passed=len(RULES))
    assert set(table(result.stdout.str()).values()) == {"pass"}
    result.stdout.fnmatch_lines([f"reconnect *pass      {reconnect}*"])


@pytest.mark.parametrize(
    ("deviation", "rule", "said"),
    [
        (
            "silent-unknown-flow",
            "unknown-flow",
            "run_flow for an unknown flow got no answer within",
        ),
        ("drop-second-run", "second-run", "a second run_flow on the socket got no answer: "),
        ("ignore-halt", "halt-ends", "halt was sent (#*) and the flow had not ended"),
    ],
)
def test_a_planted_deviation_fails_its_rule_by_name(
    suite: pytest.Pytester, planted: Planted, deviation: str, rule: str, said: str
) -> None:
    server = planted(deviation)
    result = suite.runpytest_subprocess(
        *SUITE, *QUICK, "--flow-server-url", server.ws_url, "--flow-report=report.html"
    )
    result.assert_outcomes(passed=len(RULES) - 1, failed=1)
    rows = table(result.stdout.str())
    assert html_table(suite.path / "report.html") == rows  # the same table in the report
    assert rows.pop(rule) == "FAIL"
    assert set(rows.values()) == {"pass"}
    result.stdout.fnmatch_lines([f"{rule}: {said}*"])  # the failure's first line


def test_a_flow_that_never_ends_is_checked_on_what_it_sent(
    suite: pytest.Pytester, planted: Planted
) -> None:
    """Isolation and unique ids look at a run's first messages when it does not end (as
    Buttermilk's mock flow never does), instead of waiting out the timeout and failing."""
    server = planted()
    checks = "-k", "sessions_messages_reach_only or no_two_messages_share"
    result = suite.runpytest_subprocess(
        *SUITE, *QUICK, "--flow-server-url", server.ws_url, "--conformance-flow", "endless", *checks
    )
    result.assert_outcomes(passed=2)
    assert table(result.stdout.str()) == {"sessions-isolated": "pass", "unique-ids": "pass"}
    result.stdout.fnmatch_lines(
        [
            "sessions-isolated *pass      a run of * messages (the first 20; it had not ended)*",
            "unique-ids *pass      * message ids, all distinct (the first 20; it had not ended)*",
        ]
    )
    assert result.duration < 30 * settings.timeout_factor / 2  # decided, not waited out


def test_two_shards_merge_into_one_report_with_one_table(
    suite: pytest.Pytester, planted: Planted
) -> None:
    server = planted()
    ran: list[set[str]] = []
    for index in (1, 2):
        shard = suite.runpytest_subprocess(
            *SUITE,
            *QUICK,
            "--flow-server-url",
            server.ws_url,
            f"--shard={index}/2",
            f"--flow-report-json=shard-{index}.json",
        )
        assert shard.ret == pytest.ExitCode.OK
        results = json.loads((suite.path / f"shard-{index}.json").read_text())
        ran.append({test["nodeid"] for test in results["tests"]})
    assert all(ran)
    assert not ran[0] & ran[1]
    merge = ["merge", "report.html", "shard-1.json", "shard-2.json"]
    merged = subprocess.run(
        [sys.executable, "-m", "flowwright.report", *merge],
        cwd=suite.path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert merged.returncode == 0, merged.stderr
    page = suite.path / "report.html"
    assert html_table(page) == dict.fromkeys(RULES, "pass")
    linked = {row.linked for row in read_page(page.read_text()).summaries["conformance"]}
    assert linked == ran[0] | ran[1]  # every check of both shards has its row


def test_the_baseline_excuses_a_known_deviation_and_flags_a_fixed_one(
    suite: pytest.Pytester, planted: Planted
) -> None:
    baseline = suite.path / "baseline.toml"
    baseline.write_text('[expected-failures]\nhalt-ends = "halt is accepted and ignored"\n')
    known = planted("ignore-halt")
    excused = suite.runpytest_subprocess(
        *SUITE, *QUICK, "--flow-server-url", known.ws_url, "--conformance-baseline", str(baseline)
    )
    excused.assert_outcomes(passed=len(RULES) - 1, xfailed=1)
    assert excused.ret == pytest.ExitCode.OK
    excused.stdout.fnmatch_lines(["halt-ends *expected  baseline: halt is accepted and ignored"])

    fixed = planted()
    flagged = suite.runpytest_subprocess(
        *SUITE, *QUICK, "--flow-server-url", fixed.ws_url, "--conformance-baseline", str(baseline)
    )
    flagged.assert_outcomes(passed=len(RULES) - 1, failed=1)
    flagged.stdout.fnmatch_lines(
        [f"halt-ends: fixed — the server now keeps this rule; remove it from {baseline}"]
    )
    assert table(flagged.stdout.str())["halt-ends"] == "FIXED"


def test_a_baseline_is_written_from_the_deviations_found(
    suite: pytest.Pytester, planted: Planted
) -> None:
    server = planted("ignore-halt", "silent-unknown-flow")
    written = suite.path / "found.toml"
    first = suite.runpytest_subprocess(
        *SUITE,
        *QUICK,
        "--flow-server-url",
        server.ws_url,
        "--conformance-write-baseline",
        str(written),
    )
    first.assert_outcomes(passed=len(RULES) - 2, failed=2)
    text = written.read_text()
    assert "halt-ends = " in text
    assert "unknown-flow = " in text
    again = suite.runpytest_subprocess(
        *SUITE, *QUICK, "--flow-server-url", server.ws_url, "--conformance-baseline", str(written)
    )
    again.assert_outcomes(passed=len(RULES) - 2, xfailed=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[expected-failures]\nhalt-endz = "typo"\n', "names no such rule(s): halt-endz"),
        ("[expected-failures\n", "is not TOML"),
        ('[other]\nx = "y"\n', "has table(s) *other*; it holds one"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(
    suite: pytest.Pytester, content: str, message: str
) -> None:
    baseline = suite.path / "baseline.toml"
    baseline.write_text(content)
    result = suite.runpytest_subprocess(*SUITE, "--conformance-baseline", str(baseline))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--conformance-baseline: *{message}*"])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--conformance-answer-time", "soon"], "--conformance-answer-time must be a positive"),
        (["-o", "conformance_answer_time=0"], "conformance_answer_time (ini) must be a positive"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_where_it_was_given(
    suite: pytest.Pytester, args: list[str], error: str
) -> None:
    suite.makepyfile("def test_nothing(): pass")
    result = suite.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{error} number, not *"])
