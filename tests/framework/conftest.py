"""Fixtures of the framework's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.framework.scripted import ScriptedServer, scripted_server


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    """A real WebSocket server whose replies the test scripts."""
    async with scripted_server() as server:
        yield server
