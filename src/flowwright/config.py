"""Process-wide defaults: the end of every timeout chain and the session's server.

A timeout resolves per call → per client → :data:`settings`, then is multiplied by
``settings.timeout_factor`` (``--flow-timeout-factor``), so a slow CI machine scales them all.
The pytest plugin fills :data:`settings` in; outside pytest the defaults apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowwright.dialect import FLOWWRIGHT, Dialect

if TYPE_CHECKING:
    from flowwright.runner import FlowServer
    from flowwright.stream import FlowStream
    from flowwright.waiter import FailOnError

__all__ = ["Settings", "settings"]


@dataclass
class Settings:
    """Defaults every client falls back on."""

    timeout: float = 30.0
    timeout_factor: float = 1.0
    fail_on_error: FailOnError = True
    dialect: Dialect = FLOWWRIGHT
    """How the server under test speaks (``--flow-dialect``); clients may name their own."""
    server: Callable[[], FlowServer] | None = None
    """Returns the session's server, starting it on first use (set by the pytest plugin)."""
    track_streams: bool = False
    """Whether streams are remembered in ``streams`` (only while the pytest plugin runs, which
    forgets them after each test: a long-lived process outside pytest must not keep them)."""
    streams: list[FlowStream] = field(default_factory=list)
    """Every flow stream opened during the current test — WebSocket clients, browser pages,
    MCP clients — whose transcripts go into failure reports and the HTML report."""

    def scale(self, timeout: float | None, fallback: float | None = None) -> float:
        """``timeout`` (else ``fallback``, else the default) times the timeout factor."""
        for value in (timeout, fallback):
            if value is not None:
                return value * self.timeout_factor
        return self.timeout * self.timeout_factor


settings = Settings()
"""The one process-wide instance."""
