"""The flowwright MCP pytest plugin (``pytest11`` entry point ``flowwright-mcp``).

Fixtures are factories of *unopened* clients, entered by the test itself
(``async with mcp_stdio("my-server --stdio") as mcp:``): the SDK's client holds anyio task
groups, which must be left in the task that entered them, and pytest-asyncio runs a
fixture's setup and teardown in tasks other than the test's. Like every flow stream, an MCP
client is in the failing test's transcript sections and in the HTML report.

The MCP SDK is imported only when a fixture is used, so a core install (no ``mcp`` extra)
loads this plugin too; a fixture used without the extra fails naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from flowwright.extras import needs_extra
from flowwright.server import FlowServer

if TYPE_CHECKING:
    from flowwright.mcp.client import FlowMCPClient

__all__ = ["mcp_http", "mcp_memory", "mcp_stdio"]

MCP_PATH = "/mcp"


def _client_class() -> type[FlowMCPClient]:
    with needs_extra("mcp", "the MCP fixtures (mcp_stdio, mcp_http, mcp_memory)"):
        from flowwright.mcp.client import FlowMCPClient
    return FlowMCPClient


@pytest.fixture
def mcp_stdio() -> Callable[..., FlowMCPClient]:
    """``mcp_stdio(command, env=None, cwd=None, timeout=None)``: a server as a subprocess."""
    return _client_class().stdio


@pytest.fixture
def mcp_http(flow_server: FlowServer) -> Callable[..., FlowMCPClient]:
    """``mcp_http(url=None, timeout=None)``: Streamable HTTP; by default the session's flow
    server at ``/mcp`` (its state and log tail then join every diagnostic)."""
    client = _client_class()

    def open_http(url: str | None = None, **options: Any) -> FlowMCPClient:
        if url is None:
            return client.http(flow_server.base_url + MCP_PATH, flow_server=flow_server, **options)
        return client.http(url, **options)

    return open_http


@pytest.fixture
def mcp_memory() -> Callable[..., FlowMCPClient]:
    """``mcp_memory(server, timeout=None)``: an ``MCPServer`` object in this process."""
    return _client_class().memory
