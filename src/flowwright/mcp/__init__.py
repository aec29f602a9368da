"""flowwright.mcp: test MCP servers with the same collector, waits and diagnostics as flows.

Every message of an MCP session (requests, responses, notifications, progress) is recorded
in the client's :class:`~flowwright.collector.MessageCollector`, so ``wait_for``, ``expect``
and their diagnostic timeouts work on MCP as they do on a flow's WebSocket. See docs/mcp.md.

Needs the ``mcp`` extra (``pip install "flowwright[mcp]"``). The names below are imported on
first use: this package also holds the pytest plugin, which a core install loads too, so only
``from flowwright.mcp import FlowMCPClient`` (or any other name) needs the MCP SDK, and without
it raises :class:`~flowwright.errors.MissingExtraError` naming the extra.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from flowwright.lazy import lazy_attributes

if TYPE_CHECKING:  # ``X as X``: an explicit re-export, to mypy --strict and ruff
    from flowwright.mcp.assertions import assert_tool_error as assert_tool_error
    from flowwright.mcp.assertions import assert_tools as assert_tools
    from flowwright.mcp.assertions import schema_differences as schema_differences
    from flowwright.mcp.client import FlowMCPClient as FlowMCPClient
    from flowwright.mcp.results import ToolResult as ToolResult


_HOMES = MappingProxyType(
    {
        "FlowMCPClient": "flowwright.mcp.client",
        "ToolResult": "flowwright.mcp.results",
        "assert_tool_error": "flowwright.mcp.assertions",
        "assert_tools": "flowwright.mcp.assertions",
        "schema_differences": "flowwright.mcp.assertions",
    }
)
"""Public name → the module it is imported from on first use."""
__all__ = sorted(_HOMES)  # the TYPE_CHECKING imports re-export them to type checkers

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES, extra="mcp")
