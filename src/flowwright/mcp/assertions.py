"""Assertions on an MCP server: its tool list and input schemas, and its error results.

Each failure says everything that differs at once (missing tools, unexpected tools, every
schema path that does not match), so one run tells the whole story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mcp.types import Tool

from flowwright.match import as_regex
from flowwright.mcp.client import FlowMCPClient
from flowwright.mcp.results import ToolResult

__all__ = ["assert_tool_error", "assert_tools", "schema_differences"]


async def assert_tools(
    client: FlowMCPClient,
    expected_names: Iterable[str],
    *,
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
    exact: bool = True,
    timeout: float | None = None,
) -> list[Tool]:
    """Assert the server lists these tools (no others, unless ``exact=False``).

    ``schemas`` maps a tool name to a *partial* input schema that its ``inputSchema`` must
    contain: ``{"run_flow": {"required": ["flow"], "properties": {"flow": {"type":
    "string"}}}}``. Dicts match key by key (extra keys allowed), lists element for element.
    Returns the tools.
    """
    __tracebackhide__ = True
    tools = await client.tools(timeout=timeout)
    listed = {tool.name: tool for tool in tools}
    expected = list(expected_names)
    problems = [f"missing tool {name!r}" for name in expected if name not in listed]
    if exact:
        problems += [f"unexpected tool {name!r}" for name in listed if name not in expected]
    for name, schema in (schemas or {}).items():
        if name not in listed:
            if name not in expected:
                problems.append(f"a schema is given for {name!r}, which the server does not list")
            continue
        problems += [
            f"{name}: inputSchema{difference}"
            for difference in schema_differences(schema, listed[name].input_schema)
        ]
    if problems:
        raise AssertionError(
            f"the tools of {client.label} are not as expected:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + f"\n  listed: {sorted(listed)}\n  expected: {sorted(expected)}"
        )
    return tools


def schema_differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` does not contain ``expected``: ``[".properties.k.type: expected
    'integer', got 'string'"]``; empty when it does."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path or ' (root)'}: expected an object, got {actual!r}"]
        differences = []
        for key, value in expected.items():
            if key not in actual:
                differences.append(f"{path}.{key}: missing (expected {value!r})")
            else:
                differences += schema_differences(value, actual[key], f"{path}.{key}")
        return differences
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            difference
            for index, (want, got) in enumerate(zip(expected, actual, strict=True))
            for difference in schema_differences(want, got, f"{path}[{index}]")
        ]
    if expected != actual:
        return [f"{path or ' (root)'}: expected {expected!r}, got {actual!r}"]
    return []


async def assert_tool_error(
    client: FlowMCPClient,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    match: str | re.Pattern[str] | None = None,
    timeout: float | None = None,
) -> ToolResult:
    """Call a tool and assert it answers with an error result (``is_error``) whose text
    matches ``match`` (a regex, case-insensitive). Returns the result."""
    __tracebackhide__ = True
    result = await client.call_tool(name, arguments, timeout=timeout)
    if not result.is_error:
        raise AssertionError(
            f"tools/call {name!r} with {dict(arguments or {})} succeeded; an error result "
            f"(is_error) was expected. It returned: {result.text or result.structured!r}"
        )
    if match is not None:
        regex = as_regex(match)
        if not regex.search(result.text):
            raise AssertionError(
                f"tools/call {name!r} failed as expected, but its error does not match "
                f"/{regex.pattern}/: {result.text!r}"
            )
    return result
