"""What a failing MCP test says: schema diffs, call timeouts, a server that is gone."""

from __future__ import annotations

import sys
from collections.abc import Callable

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

from flowwright import (
    ClientStateError,
    ConnectError,
    ConnectionLostError,
    FlowTimeoutError,
)
from flowwright.context import current
from flowwright.mcp import FlowMCPClient, assert_tools, schema_differences


def stalling_server() -> MCPServer:
    server = MCPServer("stalling")

    @server.tool()
    async def stall(seconds: float) -> str:
        """Answers only after ``seconds``."""
        await anyio.sleep(seconds)  # the server under test is slow on purpose
        return "done"

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return server


async def test_schema_mismatches_are_listed_together(
    mcp_memory: Callable[..., FlowMCPClient],
) -> None:
    async with mcp_memory(stalling_server()) as mcp:
        with pytest.raises(AssertionError) as failure:
            await assert_tools(
                mcp,
                ["add", "subtract"],
                schemas={
                    "add": {"required": ["a", "b", "c"], "properties": {"a": {"type": "string"}}}
                },
            )
    text = str(failure.value)
    assert "missing tool 'subtract'" in text
    assert "unexpected tool 'stall'" in text
    assert "add: inputSchema.required: expected ['a', 'b', 'c'], got ['a', 'b']" in text
    assert "add: inputSchema.properties.a.type: expected 'string', got 'integer'" in text


def test_schema_differences_is_a_containment_check() -> None:
    actual = {"type": "object", "properties": {"k": {"type": "integer", "default": 3}}}
    assert schema_differences({"properties": {"k": {"type": "integer"}}}, actual) == []
    assert schema_differences({"properties": {"q": {}}}, actual) == [
        ".properties.q: missing (expected {})"
    ]


async def test_a_call_that_outlives_its_timeout(mcp_memory: Callable[..., FlowMCPClient]) -> None:
    async with mcp_memory(stalling_server()) as mcp:
        with pytest.raises(FlowTimeoutError) as failure:
            await mcp.call_tool("stall", {"seconds": 30}, timeout=0.3)
        assert (await mcp.call_tool("add", {"a": 2, "b": 3})).structured == {"result": 5}
    text = str(failure.value)
    assert "waiting for the answer to tools/call 'stall'" in text
    assert 'tools/call stall {"seconds":30}' in text
    assert "mcp client: memory: stalling (open)" in text


async def test_a_server_that_cannot_start(mcp_stdio: Callable[..., FlowMCPClient]) -> None:
    client = mcp_stdio(
        [sys.executable, "-c", "import sys; print('no such server', file=sys.stderr)"]
    )
    with pytest.raises(ConnectError) as failure:
        async with client:
            pass
    text = str(failure.value)
    assert "could not open an MCP session with stdio:" in text
    assert "no such server" in text  # the server's stderr, in the message


DYING_SERVER = """
import os, sys
from mcp.server.mcpserver import MCPServer

server = MCPServer("dying")

@server.tool()
def die() -> str:
    print("dying on purpose", file=sys.stderr, flush=True)
    os._exit(3)

server.run("stdio")
"""


async def test_a_server_that_exits_mid_call_is_a_lost_connection(
    mcp_stdio: Callable[..., FlowMCPClient],
) -> None:
    async with mcp_stdio([sys.executable, "-c", DYING_SERVER]) as mcp:
        with pytest.raises(ConnectionLostError) as lost:
            await mcp.call_tool("die")
        with pytest.raises(ConnectionLostError):
            await mcp.tools()
    # Was "ProtocolError: the server refused tools/call 'die' with JSON-RPC error -32000:
    # Connection closed" (and tools() raised the SDK's bare MCPError).
    assert lost.value.message.startswith("the MCP connection to stdio: ")
    assert lost.value.message.endswith("ended while waiting for the answer to tools/call 'die'")
    assert "dying on purpose" in lost.value.diagnostics  # the server's stderr tail


async def test_using_a_client_that_is_not_open(
    mcp_memory: Callable[..., FlowMCPClient],
) -> None:
    client = mcp_memory(stalling_server())
    with pytest.raises(ClientStateError, match="not open: use it inside 'async with"):
        await client.call_tool("add", {"a": 1, "b": 2})
    async with client:
        pass
    with pytest.raises(ConnectionLostError, match="the MCP connection to memory: stalling ended"):
        await client.wait_for(category="progress", timeout=5)


async def test_an_mcp_client_joins_the_tests_flow_streams(
    mcp_memory: Callable[..., FlowMCPClient],
) -> None:
    async with mcp_memory(stalling_server()) as mcp:
        await mcp.call_tool("add", {"a": 1, "b": 2})
    assert (current().streams or [])[-1] is mcp  # failure sections and the report show it
    assert mcp.title == "mcp client (memory: stalling)"
    assert any(m.type.startswith("mcp_") for m in mcp.collector)
