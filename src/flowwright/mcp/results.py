"""ToolResult: a ``tools/call`` result as a test reads it (text, structured content, error)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.types import CallToolResult, ContentBlock, TextContent

__all__ = ["ToolResult"]


@dataclass(frozen=True)
class ToolResult:
    """One tool call's outcome; ``raw`` keeps the SDK's result for anything not lifted here."""

    name: str
    text: str
    """The text content blocks, joined by blank lines ("" when there are none)."""
    structured: dict[str, Any] | None
    """``structuredContent``, when the tool returned any."""
    is_error: bool
    content: list[ContentBlock]
    raw: CallToolResult

    @classmethod
    def from_sdk(cls, name: str, result: CallToolResult) -> ToolResult:
        """The result of tool ``name`` as the MCP SDK returned it."""
        texts = [block.text for block in result.content if isinstance(block, TextContent)]
        return cls(
            name=name,
            text="\n\n".join(texts),
            structured=result.structured_content,
            is_error=bool(result.is_error),
            content=list(result.content),
            raw=result,
        )

    def __str__(self) -> str:
        status = "error" if self.is_error else "ok"
        return f"{self.name} ({status}): {self.text or self.structured}"
