"""The conformance suite run as its users run it: pytest --pyargs, against real servers.

The reference server keeps every rule (but one it is being fixed for: its baseline says
which); a small server with one planted deviation fails exactly that rule, named; the
baseline excuses what it lists and fails a listed rule that passes.
"""

from __future__ import annotations

import re

import pytest

from flowwright.conformance import RULES
from tests.conformance.conftest import Planted

SUITE = ("--pyargs", "flowwright.conformance", "-p", "no:cacheprovider")
QUICK = ("--conformance-answer-time", "2")  # the planted server answers at once


def table(output: str) -> dict[str, str]:
    """The summary table: rule id → result."""
    rows = re.findall(r"^([a-z][a-z-]+) +(pass|FAIL|expected|FIXED|n/a) ", output, re.MULTILINE)
    return {rule: verdict for rule, verdict in rows if rule in RULES}


def test_the_reference_server_keeps_every_rule(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(*SUITE, "--flow-report=report.html")
    result.assert_outcomes(passed=len(RULES))
    rows = table(result.stdout.str())
    assert set(rows) == set(RULES)
    assert set(rows.values()) == {"pass"}
    result.stdout.fnmatch_lines(
        ["*flowwright conformance (dialect flowwright)*", f"{len(RULES)} pass"]
    )
    html = (suite.path / "report.html").read_text()
    assert "conformance: unknown-flow" in html  # each rule's row, in the HTML report too


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
    result = suite.runpytest_subprocess(*SUITE, *QUICK, "--flow-server-url", server.ws_url)
    result.assert_outcomes(passed=len(RULES) - 1, failed=1)
    rows = table(result.stdout.str())
    assert rows.pop(rule) == "FAIL"
    assert set(rows.values()) == {"pass"}
    result.stdout.fnmatch_lines([f"{rule}: {said}*"])  # the failure's first line


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
