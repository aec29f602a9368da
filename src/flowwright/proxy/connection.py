"""ProxyConnection: one client's WebSocket through the proxy, as the proxy and the test see it.

Its own module so that the proxy's parts (the lanes that carry its frames, the proxy that
opens, counts and cuts it) and the tests that read ``proxy.connections`` share one record
without importing the proxy itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection

__all__ = ["ProxyConnection"]


@dataclass(eq=False)
class ProxyConnection:
    """One client's WebSocket through the proxy, and the server connection it is relayed to."""

    number: int
    path: str
    """The path and query the client asked for (``/ws/<session>?resume_after=...``)."""
    upstream: ClientConnection
    client: ServerConnection | None = None
    state: Literal["opening", "open", "closed", "cut"] = "opening"
    frames: dict[str, int] = field(default_factory=lambda: {"server": 0, "client": 0})
    """How many frames each side sent through it."""

    @property
    def label(self) -> str:
        """``connection 2 to /ws/abc``, for the transcript."""
        return f"connection {self.number} to {self.path}"

    def abort(self) -> None:
        """Drop both sides at once, without a closing handshake."""
        for side in (self.client, self.upstream):
            if side is not None:
                side.transport.abort()
