"""FlowServer: what flowwright needs of the server under test, whoever started it.

Clients, pages and MCP sessions know a server only through this interface: where it is, how
to describe it in an error, its log tail, and its exit. A server flowwright started itself
(:class:`~flowwright.runner.TestFlowRunner`) knows all of it; one it did not
(:class:`RemoteServer`, a replay, a proxy in front of another) answers what it can and no-ops
the rest — so no caller ever asks which kind it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["ExitCallback", "FlowServer", "RemoteServer"]

ExitCallback = Callable[[int], None]
"""Called with the exit code when a server process exits."""


class FlowServer(Protocol):
    """The server under test, as clients, pages and diagnostics see it."""

    @property
    def base_url(self) -> str:
        """The HTTP base URL (``http://host:port``)."""
        ...

    @property
    def ws_url(self) -> str:
        """The WebSocket base URL (``ws://host:port``)."""
        ...

    def describe(self, log_lines: int = 10, *, session: str | None = None) -> str:
        """The server's state (and log tail, if known), for error messages; with ``session``,
        the log lines of that session first."""
        ...

    def log_tail(self, n: int = 20) -> list[str]:
        """The last ``n`` lines the server logged (none when flowwright cannot see its log)."""
        ...

    def on_exit(self, callback: ExitCallback) -> Callable[[], None]:
        """Call ``callback(returncode)`` when the server's process exits (never, for a server
        flowwright did not start); returns a function that unsubscribes."""
        ...

    def wait_exited(self, timeout: float | None = None) -> int | None:
        """Block until the process exits (or ``timeout``); its exit code, else ``None``."""
        ...


class RemoteServer:
    """A server flowwright did not start (``--flow-server-url``): known only by its URL."""

    def __init__(self, url: str) -> None:
        base = url.replace("ws", "http", 1) if url.startswith("ws") else url
        self.base_url = base.rstrip("/")

    @property
    def ws_url(self) -> str:
        """The WebSocket base URL (``ws://host:port``)."""
        return self.base_url.replace("http", "ws", 1)

    def describe(self, log_lines: int = 10, *, session: str | None = None) -> str:
        """Its URL: a server flowwright did not start has no process state or log."""
        return f"server: {self.base_url} (not started by flowwright: no process state or log)"

    def log_tail(self, n: int = 20) -> list[str]:
        """Nothing: its log is not flowwright's to see."""
        return []

    def on_exit(self, callback: ExitCallback) -> Callable[[], None]:
        """Never called: its process is not flowwright's to watch."""
        return _nothing

    def wait_exited(self, timeout: float | None = None) -> int | None:
        """``None`` at once: its exit cannot be seen."""
        return None


def _nothing() -> None:
    """Unsubscribing from an exit that is never reported."""
