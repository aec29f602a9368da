"""The proxy's pytest fixture (its own ``pytest11`` entry point, ``flowwright-proxy``).

``flow_proxy`` starts a :class:`~flowwright.proxy.FlowProxy` in front of the test's server
and, for the test's duration, makes it *the* server clients find (the test's settings,
:mod:`flowwright.context`): ``flow_client``, ``FlowTestClient.create()`` and the web plugin's
``ui_flow`` / ``flow_page`` then all go through it, whatever order the test names its
fixtures in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from flowwright.context import current
from flowwright.server import FlowServer

if TYPE_CHECKING:
    from flowwright.proxy.relay import FlowProxy

__all__ = ["flow_proxy", "pytest_collection_modifyitems"]

_ROUTED = ("flow_client", "ui_flow", "flow_page")
"""Fixtures that find their server in the test's settings: set up after ``flow_proxy``."""


@pytest_asyncio.fixture
async def flow_proxy() -> AsyncIterator[FlowProxy]:
    """A fault-injecting proxy in front of the test's server, routing the test's clients.

    ``async with flow_proxy.fault(drop(category="result", count=1)):`` scripts a fault;
    ``flow_proxy.url`` / ``flow_proxy.http_url`` point anything else at it.
    """
    scope = current()
    saved = scope.settings
    if saved.server is None:
        raise pytest.UsageError("flow_proxy needs the flowwright plugin's server")
    from flowwright.proxy.relay import FlowProxy  # its websockets server: only when used

    server: FlowServer = await asyncio.to_thread(saved.server)
    async with FlowProxy(server) as proxy:
        scope.settings = saved.replace(server=lambda: proxy.endpoint)
        try:
            yield proxy
        finally:
            scope.settings = saved


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Set ``flow_proxy`` up before the fixtures it routes, in every test that uses both.

    pytest sets up a test's fixtures in the order of ``item.fixturenames`` (dependencies
    first); a fixture cannot request ``flow_proxy`` only when a test does, so the order is
    fixed here instead of asking each test to name ``flow_proxy`` first.
    """
    for item in items:
        names: list[str] | None = getattr(item, "fixturenames", None)
        if not names or "flow_proxy" not in names:
            continue
        routed = [names.index(name) for name in _ROUTED if name in names]
        first = min(routed, default=None)
        if first is not None and names.index("flow_proxy") > first:
            names.remove("flow_proxy")
            names.insert(first, "flow_proxy")
