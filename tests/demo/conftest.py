"""Fixtures for the reference server's tests: one shared server process, a client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from flowwright.runner import TestFlowRunner
from tests.demo._client import DemoClient, open_client, start_server


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    """One server for most tests; each test uses its own sessions."""
    runner = start_server(tmp_path_factory.mktemp("demo-server"))
    yield runner
    assert runner.stop() == 0, runner.describe(30)


@pytest.fixture
async def client(demo_server: TestFlowRunner) -> AsyncIterator[DemoClient]:
    async with open_client(demo_server) as connected:
        yield connected
