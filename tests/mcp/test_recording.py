"""MCP recording: every JSON-RPC message, both ways, lands in the client's collector, named,
categorised and paired with the request it answers, so MCP waits are flowwright waits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from flowwright import Category
from flowwright.mcp import FlowMCPClient
from tests.mcp.servers import kinds_server

NOISY_SERVER = """
from mcp.server.mcpserver import MCPServer

print("this line is not JSON-RPC", flush=True)  # on stdout, where only messages belong
server = MCPServer("noisy")

@server.tool()
def echo(text: str) -> str:
    return text

server.run("stdio")
"""


async def test_every_exchange_is_recorded_both_ways_and_categorised(
    mcp_memory: Callable[..., FlowMCPClient],
) -> None:
    async with mcp_memory(kinds_server()) as mcp:
        await mcp.tools()  # the SDK knows the tools' schemas: it lists them no more on its own
        handshake = mcp.collector.last_seq
        await mcp.call_tool("count", {"to": 2})
        await mcp.call_tool("refuse", {"reason": "no"})
        with pytest.raises(MCPError):
            await mcp.session.send_ping()  # the SDK's session, not one of the client's calls
    after = [m for m in mcp.messages if m.seq > handshake]
    assert [(m.direction, m.category, m.type, m.content) for m in after] == [
        ("sent", Category.SENT, "mcp_request", 'tools/call count {"to":2}'),
        ("received", Category.PROGRESS, "mcp_notification", "notifications/progress 1/2 step 1"),
        ("received", Category.PROGRESS, "mcp_notification", "notifications/progress 2/2 step 2"),
        ("received", Category.RESULT, "mcp_response", "tools/call → counted to 2"),
        ("sent", Category.SENT, "mcp_request", 'tools/call refuse {"reason":"no"}'),
        (
            "received",
            Category.ERROR,
            "mcp_response",
            "tools/call → is_error: Error executing tool refuse: refused: no",
        ),
        (
            "sent",
            Category.SENT,
            "mcp_request",
            after[6].content,  # its parameters are the SDK's; what matters is the label
        ),
        ("received", Category.ERROR, "mcp_error", "ping → error -32601: Method not found"),
    ]
    assert after[6].content.startswith("ping (the SDK's own request, not one of the test's calls)")
    call = after[0].outputs["message"]  # the JSON-RPC message itself
    assert (call["jsonrpc"], call["method"], call["params"]["arguments"]) == (
        "2.0",
        "tools/call",
        {"to": 2},
    )
    assert after[3].outputs["message"]["id"] == call["id"]
    assert {m.outputs["source"] for m in after} == {mcp.label}


async def test_the_handshake_is_labelled_and_progress_is_awaitable(
    mcp_memory: Callable[..., FlowMCPClient],
) -> None:
    async with mcp_memory(kinds_server()) as mcp:
        first = mcp.messages[0]
        assert first.direction == "sent"
        assert "(handshake)" in first.content
        await mcp.call_tool("count", {"to": 3})
        progress = await mcp.wait_for_progress("step 2", since=0)
    assert progress.content == "notifications/progress 2/3 step 2"
    assert progress.outputs["message"]["params"]["progress"] == 2


@pytest.mark.flow(allow_malformed=True)
async def test_a_line_that_is_not_json_rpc_is_recorded_as_malformed(
    mcp_stdio: Callable[..., FlowMCPClient], tmp_path: Path
) -> None:
    async with mcp_stdio([sys.executable, "-c", NOISY_SERVER], cwd=tmp_path) as mcp:
        assert (await mcp.call_tool("echo", {"text": "still here"})).text == "still here"
    (bad,) = [m for m in mcp.messages if m.category == Category.MALFORMED]
    assert bad.type == "mcp_invalid"
    assert bad.content.startswith("not a JSON-RPC message: ")
    assert "this line is not JSON-RPC" in bad.content
    assert bad.error is not None  # what the teardown's "malformed frame" line names
    assert bad.error.startswith("not a JSON-RPC message: ")
    assert "this line is not JSON-RPC" in bad.error
    assert "\n" not in bad.error
