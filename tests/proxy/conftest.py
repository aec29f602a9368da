"""A small WebSocket server the proxy's own tests drive: it says what it was asked, and
sends what the test tells it to."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response


@dataclass
class Puppet:
    """A real server on 127.0.0.1: each ``{"send": [...]}`` frame it gets, it sends back the
    listed frames; ``{"close": [code, reason]}`` closes; a request whose path holds
    ``refuse`` is answered 403."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    connections: list[ServerConnection] = field(default_factory=list)
    received: list[str | bytes] = field(default_factory=list)

    def refuse(self, connection: ServerConnection, request: Request) -> Response | None:
        self.requests.append(request)
        if "refuse" in request.path:
            return Response(403, "Forbidden", Headers({"X-Why": "no token"}), b"no token here\n")
        return None

    async def handle(self, connection: ServerConnection) -> None:
        self.connections.append(connection)
        async for frame in connection:
            self.received.append(frame)
            if isinstance(frame, bytes):
                await connection.send(frame)
                continue
            order = json.loads(frame)
            for item in order.get("send", []):
                await connection.send(item if isinstance(item, str) else json.dumps(item))
            if "close" in order:
                await connection.close(*order["close"])


@pytest.fixture
async def puppet() -> AsyncIterator[Puppet]:
    server = Puppet()
    async with serve(
        server.handle,
        "127.0.0.1",
        0,
        process_request=server.refuse,
        select_subprotocol=lambda connection, offered: next(
            (choice for choice in offered if choice == "flowwright.v1"), None
        ),
    ) as ws_server:
        server.url = f"ws://127.0.0.1:{next(iter(ws_server.sockets)).getsockname()[1]}"
        yield server
