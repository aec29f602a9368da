"""flowwright.mcp: test MCP servers with the same collector, waits and diagnostics as flows.

Every message of an MCP session (requests, responses, notifications, progress) is recorded
in the client's :class:`~flowwright.collector.MessageCollector`, so ``wait_for``, ``expect``
and their diagnostic timeouts work on MCP as they do on a flow's WebSocket. See docs/mcp.md.
"""

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
