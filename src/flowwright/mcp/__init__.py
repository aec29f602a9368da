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

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flowwright.extras import needs_extra

if TYPE_CHECKING:
    from flowwright.mcp.assertions import assert_tool_error, assert_tools, schema_differences
    from flowwright.mcp.client import FlowMCPClient
    from flowwright.mcp.results import ToolResult

__all__ = [
    "FlowMCPClient",
    "ToolResult",
    "assert_tool_error",
    "assert_tools",
    "schema_differences",
]

_HOMES = MappingProxyType(
    {
        "FlowMCPClient": "flowwright.mcp.client",
        "ToolResult": "flowwright.mcp.results",
        "assert_tool_error": "flowwright.mcp.assertions",
        "assert_tools": "flowwright.mcp.assertions",
        "schema_differences": "flowwright.mcp.assertions",
    }
)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562), naming the extra if it is missing."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'flowwright.mcp' has no attribute {name!r}")
    with needs_extra("mcp", "flowwright.mcp"):
        value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once imported, a plain attribute
    return value
