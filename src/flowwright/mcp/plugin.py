"""The flowwright MCP pytest plugin (``pytest11`` entry point ``flowwright-mcp``).

Fixtures are factories of *unopened* clients, entered by the test itself
(``async with mcp_stdio("my-server --stdio") as mcp:``): the SDK's client holds anyio task
groups, which must be left in the task that entered them, and pytest-asyncio runs a
fixture's setup and teardown in tasks other than the test's. A failing test's report ends
with the transcript of every MCP client it made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer

from flowwright.mcp.client import FlowMCPClient
from flowwright.runner import FlowServer

__all__ = ["mcp_http", "mcp_memory", "mcp_stdio", "pytest_runtest_makereport"]

MCP_PATH = "/mcp"

_clients_key = pytest.StashKey[list[FlowMCPClient]]()


@pytest.fixture
def _mcp_clients(request: pytest.FixtureRequest) -> list[FlowMCPClient]:
    """The test's MCP clients, kept on its item for the failure report."""
    clients: list[FlowMCPClient] = []
    request.node.stash[_clients_key] = clients
    return clients


@pytest.fixture
def mcp_stdio(
    _mcp_clients: list[FlowMCPClient],
) -> Callable[..., FlowMCPClient]:
    """``mcp_stdio(command, env=None, cwd=None, timeout=None)``: a server as a subprocess."""

    def open_stdio(command: str | Sequence[str], **options: Any) -> FlowMCPClient:
        client = FlowMCPClient.stdio(command, **options)
        _mcp_clients.append(client)
        return client

    return open_stdio


@pytest.fixture
def mcp_http(
    _mcp_clients: list[FlowMCPClient], flow_server: FlowServer
) -> Callable[..., FlowMCPClient]:
    """``mcp_http(url=None, timeout=None)``: Streamable HTTP; by default the session's flow
    server at ``/mcp`` (its state and log tail then join every diagnostic)."""

    def open_http(url: str | None = None, **options: Any) -> FlowMCPClient:
        if url is None:
            client = FlowMCPClient.http(
                flow_server.base_url + MCP_PATH, flow_server=flow_server, **options
            )
        else:
            client = FlowMCPClient.http(url, **options)
        _mcp_clients.append(client)
        return client

    return open_http


@pytest.fixture
def mcp_memory(_mcp_clients: list[FlowMCPClient]) -> Callable[..., FlowMCPClient]:
    """``mcp_memory(server, timeout=None)``: an ``MCPServer`` object in this process."""

    def open_memory(server: MCPServer, **options: Any) -> FlowMCPClient:
        client = FlowMCPClient.memory(server, **options)
        _mcp_clients.append(client)
        return client

    return open_memory


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        for index, client in enumerate(item.stash.get(_clients_key, [])):
            report.sections.append(
                (
                    f"flowwright MCP transcript: client {index + 1} ({client.label})",
                    client.collector.format_tail(200),
                )
            )
    return report
