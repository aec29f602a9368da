"""Formatting for diagnostics: how a process's exit and output tail read in an error message.

Shared by every source that describes a process — the runner's server, an MCP stdio server —
so a crash reads the same wherever it is reported.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence

__all__ = ["TRANSCRIPT_SECTION", "describe_returncode", "format_output_tail", "strip_ansi"]

TRANSCRIPT_SECTION = "flowwright transcript"
"""The title prefix of the report sections holding a failing test's flow transcripts (the
core plugin writes them; the report plugin puts them into JUnit XML)."""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
"""Terminal colour and cursor codes, which servers such as Buttermilk put in their logs."""


def describe_returncode(code: int | None) -> str:
    """``exit code 3`` / ``killed by SIGKILL`` / ``still running``."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def format_output_tail(heading: str, tail: Sequence[str], width: int = 240) -> list[str]:
    """A process's last output lines for a diagnostic: a heading, then ``  | line``, clipped."""
    if not tail:
        return []
    clipped = [line if len(line) <= width else line[: width - 1] + "…" for line in tail]
    return [f"{heading}, last {len(tail)} lines:", *(f"  | {line}" for line in clipped)]


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor codes."""
    return _ANSI.sub("", text)
