"""How a process's exit and output read in an error message."""

from __future__ import annotations

import signal

from flowwright.diagnostics import describe_returncode, format_output_tail, strip_ansi


def test_exit_codes_and_signals_read_as_words() -> None:
    assert describe_returncode(None) == "still running"
    assert describe_returncode(3) == "exit code 3"
    assert describe_returncode(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_returncode(-200) == "killed by signal 200"


def test_an_output_tail_is_headed_indented_and_clipped() -> None:
    assert format_output_tail("server log", []) == []
    lines = format_output_tail("server log", ["short", "x" * 300], width=20)
    assert lines[0] == "server log, last 2 lines:"
    assert lines[1] == "  | short"
    assert lines[2] == "  | " + "x" * 19 + "…"


def test_terminal_codes_are_stripped() -> None:
    assert strip_ansi("\x1b[32mINFO\x1b[0m ready \x1b[1;31m!\x1b[0m") == "INFO ready !"
