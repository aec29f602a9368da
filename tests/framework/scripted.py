"""A scripted flow server: a real websockets server whose every reply the test decides.

The framework's own behaviour (fast replies, bad frames, dropped connections) is tested
against it; the reference server's flows are tested in tests/integration.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from flowwright.protocol import AgentInfo, ErrorPayload, UIPrompt, envelope

Handler = Callable[[dict[str, Any]], list[str]]


class ScriptedServer:
    """Answers each client frame with the frames ``handler`` returns, at once."""

    def __init__(self) -> None:
        self.url = ""
        self.received: list[dict[str, Any]] = []
        self.handler: Handler = lambda message: []
        self.greeting: Callable[[str], list[str]] = lambda path: []
        """Frames sent as a connection opens, given its request path (query included)."""
        self.connections: list[ServerConnection] = []
        self.paths: list[str] = []  # the request path of each connection, query included

    async def serve(self, connection: ServerConnection) -> None:
        self.connections.append(connection)
        assert connection.request is not None
        self.paths.append(connection.request.path)
        for greeting in self.greeting(connection.request.path):
            await connection.send(greeting)
        async for frame in connection:
            message = json.loads(frame)
            self.received.append(message)
            for reply in self.handler(message):
                await connection.send(reply)

    async def send(self, *frames: str) -> None:
        for connection in self.connections:
            for frame in frames:
                await connection.send(frame)

    def drop(self) -> None:
        """Cut every connection without a closing handshake, as a crash would."""
        for connection in self.connections:
            connection.transport.abort()


@contextlib.asynccontextmanager
async def scripted_server() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    async with serve(server.serve, "127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}"
        yield server
        for connection in server.connections:
            connection.transport.abort()


HOST = AgentInfo(agent_id="host", role="host")


def prompt(text: str = "Shall I proceed?", options: list[str] | None = None) -> str:
    return envelope(
        "ui_message", UIPrompt(content=text, options=options or ["confirm", "reject"]), agent=HOST
    ).to_json()


def error(text: str) -> str:
    return envelope("system_error", ErrorPayload(source="server", content=text)).to_json()


def result(role: str, text: str) -> str:
    return envelope(
        "chat_message", {"content": text}, agent=AgentInfo(agent_id=f"{role}-1", role=role)
    ).to_json()


def completed() -> str:
    return envelope(
        "system_message", {"content": "flow_completed", "source": "orchestrator"}
    ).to_json()
