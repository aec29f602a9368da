"""Fixtures of the report tests: a pytester suite with the plugin's ini."""

from __future__ import annotations

import pytest

from tests.report.planted import REPORTED_SUITE

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


@pytest.fixture
def reported(suite: pytest.Pytester) -> pytest.Pytester:
    """The planted suite, run on two xdist workers, with both report files written."""
    suite.makepyfile(test_reported=REPORTED_SUITE)
    result = suite.runpytest_subprocess(
        "-n", "2", "--flow-report=out/report.html", "--flow-report-json=out/results.json"
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*flowwright report: *out/report.html*"])
    return suite
