"""The client's transport before the one-hop path: websockets' asyncio client and a reader task.

Kept only so that the benchmark measures :class:`flowwright.FlowTestClient`'s frame path
(websockets' sans-I/O protocol delivering to the collector from the transport's callback)
against the design it replaced, in the same run: every frame went websockets' protocol →
its connection's assembler → a reader task (``async for frame in ws``) → the collector →
the test's task. Everything else (collector, waiter, waits, recording a sent frame just
before writing it) is the client's own, so only the frame path differs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from flowwright import FlowTestClient
from flowwright.errors import ConnectionLostError

__all__ = ["ReaderTaskClient"]


class ReaderTaskClient(FlowTestClient):
    """A :class:`FlowTestClient` whose frames reach the collector through a reader task."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._legacy: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def _open(self, url: str) -> None:
        self._closing = False
        ws = await connect(url, open_timeout=self.open_timeout, max_size=self.max_size)
        self._legacy = ws
        self._ws = ws  # type: ignore[assignment]  # only tested for None by the base class
        self._reader = asyncio.create_task(self._read(ws), name=f"bench-read-{url}")

    async def _shutdown(self, *, clean: bool = True) -> None:
        self._closing = True
        if self._legacy is not None:
            if clean:
                await self._legacy.close()
            else:
                self._legacy.transport.abort()
        if self._reader is not None:
            await self._reader
            self._reader = None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                self.collector.append(frame)
        except ConnectionClosed:
            pass
        reason = "the test closed the connection" if self._closing else "the connection closed"
        self.waiter.close(ConnectionLostError(f"{reason} (code {ws.close_code})"))

    async def _send_frame(self, frame: str) -> Any:
        assert self._legacy is not None
        sent = self.collector.append(frame, direction="sent")  # recorded first, as the client
        await self._legacy.send(frame)
        return sent
