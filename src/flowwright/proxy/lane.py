"""One direction of one proxied connection: its frames, in order, each at its due time.

The faults decide what becomes of a frame (:mod:`flowwright.proxy.faults`); a lane carries
that out in time: frames leave in the order they came, a delay holds back those behind it, a
throttled frame's transfer time too, a reordered one waits until enough others passed, and a
cut or a close goes out after what was due before it. A lane hands each frame it reads to
its owner, the proxy (``_on_frame``: record it, apply the faults, schedule it here); the
owner is a protocol in this module, so that it does not import the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from flowwright.proxy.connection import ProxyConnection
from flowwright.proxy.faults import Fault

__all__: list[str] = []  # the proxy's own machinery: nothing here is public

Frame = str | bytes
_REFUSALS = frozenset({1002, 1007, 1009})
"""Close codes websockets sends when it fails a connection over a frame it received."""


class _Owner(Protocol):
    """What a lane calls back on its :class:`~flowwright.proxy.FlowProxy`."""

    def _on_frame(self, lane: _Lane, data: Frame) -> None: ...

    def _cut(self, connection: ProxyConnection) -> None: ...

    def _note(self, connection: ProxyConnection, text: str) -> None: ...


@dataclass(slots=True)
class _Item:
    kind: Literal["frame", "cut", "close"]
    due: float
    data: Frame = ""
    seq: int = 0
    code: int | None = None  # close: the code to pass on; None: the source dropped, so drop
    reason: str = ""


@dataclass(slots=True)
class _Held:
    remaining: int
    items: list[_Item]
    faults: list[Fault]


class _Lane:
    """One direction of one connection: a reader that applies the faults, a sender that
    sends in order at each frame's due time (so a delay holds back the frames behind)."""

    def __init__(
        self,
        proxy: _Owner,
        connection: ProxyConnection,
        side: Literal["server", "client"],
        source: ClientConnection | ServerConnection,
        sink: ClientConnection | ServerConnection,
    ) -> None:
        self.proxy = proxy
        self.connection = connection
        self.side = side
        self.source = source
        self.sink = sink
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.last_due = 0.0
        self.held: list[_Held] = []
        self.cutting = False  # a cut is on its way: what arrives now is lost with it

    @property
    def arrow(self) -> str:
        return "server → client" if self.side == "server" else "client → server"

    async def read(self) -> None:
        try:
            async for data in self.source:
                self.proxy._on_frame(self, data)
        except ConnectionClosed:
            pass
        finally:
            self.finish()

    def finish(self) -> None:
        """The source closed: pass its close on, after the frames still due (or, after a cut,
        just wake the sender, which stops)."""
        if self.connection.state == "cut":
            self.put(_Item("close", 0.0))
            return
        self.release(lambda held: True)
        code = self.source.close_code
        passed = None if code in (None, 1006) else 1000 if code in (1005, 1015) else code
        reason = self.source.close_reason or ""
        sent = self.source.protocol.close_sent
        if passed is None and sent is not None and sent.code in _REFUSALS:
            # The proxy's own WebSocket refused a frame (not UTF-8, bad framing) and closed:
            # the other side learns why, as it would have without the proxy.
            passed, reason = sent.code, sent.reason
            self.proxy._note(
                self.connection,
                f"{self.connection.label}: the {self.side} sent what WebSocket forbids "
                f"({sent.code} {sent.reason}); closed both sides with {sent.code}",
            )
        self.put(_Item("close", self.due(0.0), code=passed, reason=reason))

    async def send(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = await self.queue.get()
            wait = item.due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # the fault's own delay: what it injects
            if self.connection.state == "cut":
                return
            if item.kind == "frame":
                try:
                    await self.sink.send(item.data)
                except ConnectionClosed:
                    return
            elif item.kind == "cut":
                self.proxy._cut(self.connection)
                return
            else:
                if item.code is None:
                    self.sink.transport.abort()  # the other side dropped: so does this one
                else:
                    with contextlib.suppress(ConnectionClosed):
                        await self.sink.close(item.code, item.reason)
                return

    def due(self, delay: float, transfer: float = 0.0) -> float:
        """When a frame arriving now goes out: after its delay and after every frame before
        it; its transfer time on a throttled link holds back the frames behind."""
        start = max(asyncio.get_running_loop().time() + delay, self.last_due)
        self.last_due = start + transfer
        return self.last_due

    def put(self, *items: _Item) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def passed(self) -> None:
        """A frame went ahead: count down the held frames, send those whose turn it is."""
        for held in self.held:
            held.remaining -= 1
        self.release(lambda held: held.remaining <= 0)

    def release(self, which: Any) -> None:
        ready = [held for held in self.held if which(held)]
        self.held = [held for held in self.held if held not in ready]
        for held in ready:
            due = self.due(0.0)
            for item in held.items:
                item.due = due
            self.put(*held.items)
