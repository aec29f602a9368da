"""Assertions about what a flow said, whose failures show every candidate in full.

``assert any("xyz" in r.content for r in results)`` fails as ``assert False``; these say which
messages were looked at and what each said, so the miss explains itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flowwright.collector import MessageCollector
from flowwright.match import as_regex
from flowwright.message import Message
from flowwright.protocol import Category
from flowwright.stream import FlowStream

__all__ = ["assert_result", "assert_said"]


def assert_result(
    results: Iterable[Message],
    *,
    agent: str | None = None,
    contains: str | None = None,
    matches: str | re.Pattern[str] | None = None,
) -> Message:
    """The first of ``results`` from ``agent`` whose text contains ``contains`` (case-
    insensitive) and matches ``matches`` (a regex); ``AssertionError`` listing each result in
    full otherwise. ``results`` is what ``wait_for_agent_results`` returned, or any messages.
    """
    __tracebackhide__ = True
    candidates = list(results)
    regex = None if matches is None else as_regex(matches)
    needle = contains.lower() if contains is not None else None
    for message in candidates:
        if agent is not None and not message.from_agent(agent):
            continue
        if needle is not None and needle not in message.content.lower():
            continue
        if regex is not None and not regex.search(message.content):
            continue
        return message
    wanted = _describe(agent, contains, regex)
    raise AssertionError(_report(f"no result {wanted}", candidates, agent))


def assert_said(
    source: FlowStream | MessageCollector,
    pattern: str | re.Pattern[str],
    *,
    category: Category | str | None = None,
    agent: str | None = None,
    since: int = 0,
) -> Message:
    """The first received message (after ``since``) of ``category`` from ``agent`` whose text
    matches ``pattern``; ``AssertionError`` listing each candidate in full otherwise."""
    __tracebackhide__ = True
    collector = source.collector if isinstance(source, FlowStream) else source
    regex = as_regex(pattern)
    candidates = collector.filter(category=category, agent=agent, since=since)
    for message in candidates:
        if regex.search(message.content):
            return message
    kind = f"{category} message" if category else "message"
    wanted = f"no {kind}{f' from {agent!r}' if agent else ''} matches /{regex.pattern}/"
    raise AssertionError(_report(wanted, candidates, None))


def _describe(agent: str | None, contains: str | None, regex: re.Pattern[str] | None) -> str:
    parts = [f"from {agent!r}"] if agent else []
    if contains is not None:
        parts.append(f"contains {contains!r}")
    if regex is not None:
        parts.append(f"matches /{regex.pattern}/")
    return " and ".join(parts) or "at all"


def _report(wanted: str, candidates: list[Message], agent: str | None) -> str:
    own = sum(1 for m in candidates if agent and m.from_agent(agent))
    count = f"{len(candidates)} candidate(s)" + (f", {own} from {agent!r}" if agent else "")
    lines = [f"{wanted} ({count}):"]
    lines += [f"  {message.in_full()}" for message in candidates] or ["  (none)"]
    return "\n".join(lines)
