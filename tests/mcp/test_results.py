"""ToolResult: what a test reads of a tools/call answer, from real SDK results."""

from __future__ import annotations

from collections.abc import Callable

from mcp.types import TextContent

from flowwright.mcp import FlowMCPClient
from tests.mcp.servers import kinds_server


async def test_text_structured_and_error_results(
    mcp_memory: Callable[..., FlowMCPClient],
) -> None:
    async with mcp_memory(kinds_server()) as mcp:
        echoed = await mcp.call_tool("echo", {"text": "hello"})
        lines = await mcp.call_tool("two_lines")
        forecast = await mcp.call_tool("forecast", {"city": "Brisbane"})
        refused = await mcp.call_tool("refuse", {"reason": "no"})

    assert (echoed.name, echoed.text, echoed.is_error) == ("echo", "hello", False)
    assert str(echoed) == "echo (ok): hello"
    assert lines.text == "first\n\nsecond"  # text blocks, joined by a blank line
    assert [block.text for block in lines.content if isinstance(block, TextContent)] == [
        "first",
        "second",
    ]
    assert forecast.structured == {"city": "Brisbane", "degrees": 21}
    assert forecast.raw.structured_content == forecast.structured  # the SDK's result, kept
    assert refused.is_error
    assert "refused: no" in refused.text
    assert str(refused).startswith("refuse (error): ")
