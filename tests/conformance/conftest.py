"""Fixtures of the conformance suite's tests: pytester, and the planted server as a process."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowwright import TestFlowRunner

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
ROOT = Path(__file__).parents[2]

Planted = Callable[..., TestFlowRunner]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


@pytest.fixture
def planted() -> Iterator[Planted]:
    """Start the planted server with the deviations given; stopped after the test."""
    runners: list[TestFlowRunner] = []

    def start(*deviations: str) -> TestFlowRunner:
        command = [sys.executable, "-m", "tests.conformance.planted", "--port", "0"]
        for deviation in deviations:
            command += ["--deviation", deviation]
        runner = TestFlowRunner(command, cwd=ROOT).start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.stop()
