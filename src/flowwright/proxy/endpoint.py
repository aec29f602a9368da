"""ProxiedServer: the server under test as clients see it through a proxy.

Clients find their server by the :class:`~flowwright.server.FlowServer` interface; this one
gives them the proxy's URLs, and passes on what only the server behind knows (its log, its
exit: a crash behind the proxy reads as a crash through it). It needs of the proxy only its
URLs, its target and its description, so it does not import the proxy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flowwright.server import ExitCallback, FlowServer

__all__ = ["ProxiedServer"]


class _Proxy(Protocol):
    """What an endpoint reads of its :class:`~flowwright.proxy.FlowProxy`."""

    @property
    def http_url(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def server(self) -> FlowServer | None: ...

    @property
    def target(self) -> str: ...

    def describe(self) -> str: ...


class ProxiedServer:
    """The server under test as clients see it through the proxy: a
    :class:`~flowwright.server.FlowServer` whose URLs are the proxy's, and whose description
    in a failure names the proxy, its faults, and the server behind it."""

    def __init__(self, proxy: _Proxy) -> None:
        self.proxy = proxy

    @property
    def base_url(self) -> str:
        """The proxy's HTTP base URL (``http://127.0.0.1:<port>``)."""
        return self.proxy.http_url

    @property
    def ws_url(self) -> str:
        """The proxy's WebSocket base URL (``ws://127.0.0.1:<port>``)."""
        return self.proxy.url

    def describe(self, log_lines: int = 10, *, session: str | None = None) -> str:
        """The proxy's state, then the server's behind it."""
        upstream = self.proxy.server
        behind = (
            upstream.describe(log_lines, session=session)
            if upstream is not None
            else f"server: {self.proxy.target} (not started by flowwright: no process state or log)"
        )
        return f"{self.proxy.describe()}\n{behind}"

    def log_tail(self, n: int = 20) -> list[str]:
        """The log of the server behind the proxy, if flowwright can see it."""
        upstream = self.proxy.server
        return upstream.log_tail(n) if upstream is not None else []

    def on_exit(self, callback: ExitCallback) -> Callable[[], None]:
        """The exit of the server behind the proxy: a crash reads as a crash through it too."""
        upstream = self.proxy.server
        return upstream.on_exit(callback) if upstream is not None else _nothing

    def wait_exited(self, timeout: float | None = None) -> int | None:
        """The exit code of the server behind the proxy, once it has exited."""
        upstream = self.proxy.server
        return upstream.wait_exited(timeout) if upstream is not None else None


def _nothing() -> None:
    """Unsubscribing from an exit that is never reported."""
