"""The pytest plugins' options: the core plugin's, declared and validated, and the two helpers
every flowwright plugin declares and reads its own with.

Every option is both a command-line flag and an ini setting, the flag winning, so a project
can keep its settings in its configuration and a run can override one. A bad value is a
``pytest.UsageError`` naming what is expected: the run stops before any test.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowwright.dialect import FLOWWRIGHT, Dialect, resolve_dialect

__all__ = ["Options", "add_options", "declare_options", "given_as", "option", "read_options"]


def add_options(
    parser: pytest.Parser,
    group: pytest.OptionGroup,
    options: Iterable[tuple[str, str, str]],
) -> None:
    """Declare each ``(flag, ini name, help)`` as a command-line option and an ini setting."""
    for flag, name, help_text in options:
        group.addoption(flag, dest=name, default=None, help=help_text)
        parser.addini(name, help=help_text, default=None)


def option(config: pytest.Config, name: str) -> str | None:
    """A setting's value: the command line's, else the ini file's; ``None`` (an empty ini
    value too) when neither gives one."""
    value = config.getoption(name)
    return value if value is not None else config.getini(name) or None


def given_as(config: pytest.Config, name: str) -> str:
    """How the user gave setting ``name``, for an error to name: ``--flow-timeout`` on the
    command line, else ``flow_timeout (ini)`` — what they must go and change."""
    if config.getoption(name) is not None:
        return "--" + name.replace("_", "-")
    return f"{name} (ini)"


_URL_SCHEMES = ("ws://", "wss://", "http://", "https://")


@dataclass(frozen=True)
class Options:
    """The plugin's validated settings (command line first, then ini)."""

    server_url: str | None
    server_cmd: tuple[str, ...] | None
    timeout: float
    timeout_factor: float
    dialect: Dialect = FLOWWRIGHT
    record_dir: Path | None = None
    keep_messages: int | None = None
    server_given_as: str = "--flow-server-url"
    """Where the server was named (``--flow-server-url``, or the ini's ``flow_server_url``):
    what a failure to reach it tells the user to check."""

    def describe_server(self) -> str:
        if self.server_url:
            return self.server_url
        if self.server_cmd:
            return shlex.join(self.server_cmd)
        return "embedded reference server (started on first use)"


def declare_options(parser: pytest.Parser) -> None:
    """The core plugin's options, each on the command line and in the ini file."""
    group = parser.getgroup("flowwright", "flowwright: agent flow testing")
    options = [
        (
            "--flow-server-url",
            "flow_server_url",
            "use a running flow server at this URL (ws://host:port) instead of starting one",
        ),
        (
            "--flow-server-cmd",
            "flow_server_cmd",
            "command that starts the server under test; '{port}' is replaced by a free port, "
            "otherwise the server must print its http://host:port URL on stdout",
        ),
        (
            "--flow-timeout",
            "flow_timeout",
            "default timeout of every wait, in seconds (default 30)",
        ),
        (
            "--flow-timeout-factor",
            "flow_timeout_factor",
            "multiply every timeout by this positive number, for slow machines (default 1)",
        ),
        (
            "--flow-record",
            "flow_record",
            "write each test's flow sessions to this directory as JSONL recordings "
            "(replay them with 'flowwright replay FILE')",
        ),
        (
            "--flow-keep-messages",
            "flow_keep_messages",
            "hold at most this many messages per stream in memory, spilling older ones to a "
            "JSONL file (waits and reports still see them all): for very long runs",
        ),
        (
            "--flow-dialect",
            "flow_dialect",
            "how the server under test speaks: 'flowwright' (default), 'buttermilk', or "
            "'package.module:NAME' for a Dialect of your own",
        ),
    ]
    add_options(parser, group, options)


def read_options(config: pytest.Config) -> Options:
    """The core plugin's options, validated: a bad value stops the run before any test."""

    def get(name: str) -> str | None:
        return option(config, name)

    def said(name: str) -> str:
        return given_as(config, name)

    url, cmd = get("flow_server_url"), get("flow_server_cmd")
    if url and cmd:
        raise pytest.UsageError(
            "--flow-server-url and --flow-server-cmd exclude each other: give one of them"
        )
    if url and not url.startswith(_URL_SCHEMES):
        raise pytest.UsageError(
            f"{said('flow_server_url')} {url!r} is not a URL: it must start with one of "
            f"{', '.join(_URL_SCHEMES)}"
        )
    command = tuple(shlex.split(cmd)) if cmd else None
    if cmd is not None and not command:
        raise pytest.UsageError(
            f"{said('flow_server_cmd')} is empty: give the command that starts the server"
        )
    if command and shutil.which(command[0]) is None:
        where = "is not an executable file" if "/" in command[0] else "is not on PATH"
        raise pytest.UsageError(f"{said('flow_server_cmd')}: {command[0]!r} {where}")
    try:
        dialect = resolve_dialect(get("flow_dialect"))
    except ValueError as exc:
        raise pytest.UsageError(f"{said('flow_dialect')}: {exc}") from None
    return Options(
        server_url=url,
        server_cmd=command,
        timeout=_positive(get("flow_timeout"), said("flow_timeout"), default=30.0),
        timeout_factor=_positive(
            get("flow_timeout_factor"), said("flow_timeout_factor"), default=1.0
        ),
        dialect=dialect,
        record_dir=_record_dir(config, get("flow_record")),
        keep_messages=_count(get("flow_keep_messages"), said("flow_keep_messages")),
        server_given_as=said("flow_server_url"),
    )


def _count(value: str | None, flag: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise pytest.UsageError(f"{flag} must be a positive whole number, not {value!r}")
    return number


def _record_dir(config: pytest.Config, value: str | None) -> Path | None:
    """``--flow-record`` relative to where pytest was started (the ini's own directory for
    the ini setting); refused if it names a file."""
    if not value:
        return None
    base = config.invocation_params.dir
    if config.getoption("flow_record") is None and config.inipath is not None:
        base = config.inipath.parent
    path = base / value
    if path.exists() and not path.is_dir():
        raise pytest.UsageError(
            f"{given_as(config, 'flow_record')} {str(path)!r} is a file, not a directory"
        )
    return path


def _positive(value: str | None, flag: str, *, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number == float("inf"):
        raise pytest.UsageError(
            f"{flag} must be a positive number of seconds or factor (e.g. 2 or 0.5), not {value!r}"
        )
    return number
