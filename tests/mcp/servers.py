"""A small MCP server of the tests' own (the real SDK's MCPServer), one tool per kind of
answer: text, structured content, an error result, progress."""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

__all__ = ["Forecast", "kinds_server"]


class Forecast(BaseModel):
    city: str
    degrees: int


def kinds_server() -> MCPServer:
    server = MCPServer("kinds")

    @server.tool()
    def echo(text: str) -> str:
        """Say it back."""
        return text

    @server.tool()
    def two_lines() -> list[str]:
        """Two text blocks."""
        return ["first", "second"]

    @server.tool()
    def forecast(city: str) -> Forecast:
        """Structured content."""
        return Forecast(city=city, degrees=21)

    @server.tool()
    def refuse(reason: str) -> str:
        """Always an error result."""
        raise ToolError(f"refused: {reason}")

    @server.tool()
    async def count(to: int, ctx: Context) -> str:
        """Reports progress at each step."""
        for step in range(1, to + 1):
            await ctx.report_progress(step, to, f"step {step}")
        return f"counted to {to}"

    return server
