"""A server the project did not write: ``mcp-server-time`` from PyPI, as a subprocess."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from flowwright import ProtocolError
from flowwright.mcp import FlowMCPClient, assert_tool_error, assert_tools

TIME_SERVER = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]


@pytest.fixture
def time_server(mcp_stdio: Callable[..., FlowMCPClient]) -> FlowMCPClient:
    return mcp_stdio(TIME_SERVER)


async def test_tools_calls_and_errors(time_server: FlowMCPClient) -> None:
    async with time_server as mcp:
        assert mcp.server_info is not None
        assert mcp.server_info.name == "mcp-time"
        await assert_tools(
            mcp,
            ["get_current_time", "convert_time"],
            schemas={
                "get_current_time": {"required": ["timezone"]},
                "convert_time": {
                    "required": ["source_timezone", "time", "target_timezone"],
                    "properties": {"time": {"type": "string"}},
                },
            },
        )
        now = await mcp.call_tool("get_current_time", {"timezone": "Europe/Paris"})
        converted = await mcp.call_tool(
            "convert_time",
            {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
        )
        await assert_tool_error(
            mcp, "get_current_time", {"timezone": "Mars/Olympus"}, match="invalid timezone"
        )
        with pytest.raises(ProtocolError, match=r"refused tools/call 'no_such_tool'.*-32602"):
            await mcp.call_tool("no_such_tool")
    assert now.structured is not None
    assert now.structured["timezone"] == "Europe/Paris"
    assert converted.structured is not None
    assert "21:00" in converted.structured["target"]["datetime"]
    assert converted.structured["time_difference"] == "+9.0h"
    # The whole exchange, JSON-RPC error included, is in the transcript.
    assert mcp.collector.filter(type="mcp_error")[-1].content.startswith(
        "tools/call → error -32602"
    )
