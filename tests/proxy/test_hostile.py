"""The proxy under hostile input from either side: what it cannot relay it answers or
closes, saying so in its transcript; it never stops relaying for the other connections."""

from __future__ import annotations

import asyncio
import base64
import os

from flowwright import settings
from flowwright.proxy import FlowProxy
from tests.proxy.conftest import Puppet


def handshake(path: str, host: str = "127.0.0.1") -> bytes:
    """A valid WebSocket handshake request, as raw bytes."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def send_raw(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


async def test_a_client_that_leaves_mid_handshake_leaves_no_server_connection_open(
    puppet: Puppet,
) -> None:
    """The proxy opens the server's side while the client waits for its 101; a client gone
    by then never reaches the relay, and its server connection is closed all the same."""
    async with FlowProxy(puppet.url) as proxy:
        for number in range(5):
            _, writer = await send_raw(proxy.port, handshake(f"/ws/half{number}"))
            writer.transport.abort()  # gone before the answer
        since = 0
        for _ in range(5):
            note = await proxy.wait_for(
                category="note", pattern="left during its handshake", since=since, timeout=10
            )
            since = note.seq
        assert [c.state for c in proxy.connections] == ["closed"] * 5
        assert len(puppet.connections) == 5
        async with asyncio.timeout(10 * settings.timeout_factor):
            await asyncio.gather(*(c.wait_closed() for c in puppet.connections))
