"""pytest's --junitxml: failing tests carry their flow transcripts; exit codes as usual."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

FLOW_TESTS = """
from flowwright import FlowTestClient

async def test_passes():
    async with FlowTestClient.create() as client:
        await client.start_flow("chat", "hello there")
        await client.wait_for_ui_message()

async def test_waits_for_what_never_comes():
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", "What is the hate speech policy?")
        await client.wait_for_ui_message()
        await client.send_manager_response("yes")
        await client.wait_for_completion()
        await client.wait_for(category="result", pattern="never said", timeout=0.5)
"""


def test_a_failing_flow_test_carries_its_transcript(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_flows=FLOW_TESTS)
    result = suite.runpytest_subprocess("--junitxml=junit.xml")
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cases = {case.get("name"): case for case in ET.parse(suite.path / "junit.xml").iter("testcase")}

    failing = cases["test_waits_for_what_never_comes"]
    assert [child.tag for child in failing] == ["failure", "system-out"]
    out = failing.find("system-out")
    assert out is not None
    assert out.text is not None
    lines = out.text.splitlines()
    assert lines[0].startswith("flowwright transcript 1: client (ws://127.0.0.1:")
    assert any(">#1 +" in line and "sent run_flow" in line for line in lines)
    assert any("system_message [orchestrator] flow_started: osb" in line for line in lines)
    assert lines[-1].endswith("on: in the error above)")  # the error holds the rest

    passing = cases["test_passes"]
    assert passing.find("system-out") is None
    assert "flowwright transcript" not in ET.tostring(passing, encoding="unicode")


def test_exit_codes_stay_pytest_s(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_ok(): pass")
    assert suite.runpytest_subprocess("--junitxml=j.xml").ret == pytest.ExitCode.OK
    result = suite.runpytest_subprocess("--junitxml=j.xml", "--flow-report=r.html", "-k", "none")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
