"""The client's connection against real websockets servers: every message whole and in order
from the transport's callback, no drop of a busy connection, and each end told as whose it was.

Each test runs a tiny websockets server of its own whose behaviour it decides: one that stops
reading its socket (so it answers no ping and reads no close frame until told to), one that
sends what no client should accept, one that closes with a code of its own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response

from flowwright import ConnectError, ConnectionLostError, FlowTestClient
from flowwright.connection import FrameConnection
from flowwright.protocol import envelope
from tests.timing import scaled

Handler = Callable[[ServerConnection], Awaitable[None]]


def frame(n: int) -> str:
    return envelope("system_update", {"content": "working", "n": n}).to_json()


DONE = envelope("system_message", {"content": "done"}).to_json()


@dataclass
class Server:
    """A websockets server on 127.0.0.1 running ``handler`` per connection; it never pings."""

    handler: Handler
    url: str = ""
    connections: list[ServerConnection] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    async def _serve(self, connection: ServerConnection) -> None:
        self.connections.append(connection)
        with contextlib.suppress(ConnectionClosed):  # a client that left is the test's point
            await self.handler(connection)
        await connection.wait_closed()

    def _respond(self, connection: ServerConnection, request: Request, response: Response) -> None:
        self.requests.append(request)
        response.headers["x-flowwright-session-token"] = "issued-token"


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Server]:
    server = Server(handler)
    async with serve(
        server._serve, "127.0.0.1", 0, ping_interval=None, process_response=server._respond
    ) as ws_server:
        server.url = f"ws://127.0.0.1:{next(iter(ws_server.sockets)).getsockname()[1]}/ws/s"
        yield server
        for connection in server.connections:
            connection.transport.abort()


class Sink(list[str | bytes]):
    """Collects what the connection delivers; ``arrived`` is set once ``count`` have."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.expected = count
        self.arrived = asyncio.Event()

    def append(self, frame: str | bytes) -> None:
        super().append(frame)
        if len(self) >= self.expected:
            self.arrived.set()


async def nothing(ws: ServerConnection) -> None:
    """The server says nothing, and reads what the client says."""


async def stop_reading(connection: ServerConnection) -> None:
    """The server reads nothing more: no ping is answered, no close frame read."""
    connection.transport.pause_reading()


# ------------------------------------------------------------------ delivery


async def test_every_message_arrives_whole_and_in_order() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        await ws.send(b"\x00two")
        await ws.send(["thr", "ee"])  # a fragmented text message
        await ws.send([b"fo", b"ur"])  # a fragmented binary one
        await ws.ping()  # answered by the connection itself, never delivered
        await ws.send("five")

    async with serving(handler) as server:
        sink = Sink(5)
        connection = await FrameConnection.open(server.url, sink)
        await sink.arrived.wait()
        await connection.close()
    assert sink == ["one", b"\x00two", "three", b"four", "five"]
    assert connection.end is not None
    assert connection.end.describe() == "the test closed the connection (code 1000): close()"


async def test_server_pings_are_answered_while_the_test_awaits_something_else() -> None:
    answered = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for n in range(2000):
            await ws.send(frame(n))
        await (await ws.ping())  # the pong comes back behind 2000 frames read
        answered.set()

    async with serving(handler) as server, FlowTestClient(server.url) as client:
        await asyncio.wait_for(answered.wait(), scaled(10))
        assert len(client.collector) == 2000


async def test_handshake_headers_go_out_and_the_session_token_comes_back() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(DONE)

    async with serving(handler) as server:
        async with FlowTestClient(server.url, headers={"Authorization": "Bearer t0k"}) as client:
            await client.wait_for(pattern="^done$", since=0, timeout=10)
        assert server.requests[0].headers["Authorization"] == "Bearer t0k"
        assert client.session_token == "issued-token"


async def test_a_handshake_that_never_comes_fails_after_open_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accepts the TCP connection, never answers the handshake

    tcp = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with tcp:
        port = next(iter(tcp.sockets)).getsockname()[1]
        with pytest.raises(ConnectError, match=r"no WebSocket handshake within open_timeout=0.2s"):
            await FlowTestClient(f"ws://127.0.0.1:{port}", open_timeout=0.2).connect()
        for writer in accepted:
            writer.close()
            await writer.wait_closed()


async def test_a_refused_handshake_is_a_connect_error_naming_the_status() -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(HTTPStatus.FORBIDDEN, "no\n")

    async with serve(nothing, "127.0.0.1", 0, process_request=refuse) as ws_server:
        url = f"ws://127.0.0.1:{next(iter(ws_server.sockets)).getsockname()[1]}/ws/s"
        ended: list[object] = []
        with pytest.raises(InvalidStatus, match="HTTP 403"):
            await FrameConnection.open(url, Sink(1), on_end=lambda *end: ended.append(end))
        with pytest.raises(ConnectError, match=r"could not connect to .*: .*HTTP 403"):
            await FlowTestClient(url).connect()
    assert ended == []  # a connection never open has no end to tell


# ------------------------------------------------------------------ keepalive


async def test_frames_arriving_keep_the_connection_alive_when_no_pong_can() -> None:
    """The pong of every keepalive ping is stuck (the server reads nothing), as a pong is
    behind a long backlog, while frames keep coming for ten ping timeouts: a plain
    websockets client gives up (1011); flowwright's client does not, and gets every frame."""
    timeout = scaled(0.2)
    frames = 100

    async def backlog(ws: ServerConnection) -> None:
        await stop_reading(ws)
        for n in range(frames):
            await ws.send(frame(n))
            await asyncio.sleep(timeout / 10)  # the server's pace: ten ping timeouts in all
        await ws.send(DONE)
        ws.transport.resume_reading()

    async with serving(backlog) as server:
        async with connect(
            server.url, ping_interval=timeout / 4, ping_timeout=timeout, close_timeout=timeout
        ) as plain:
            with pytest.raises(ConnectionClosed) as dropped:
                async for _ in plain:
                    pass
        assert dropped.value.sent is not None
        assert (dropped.value.sent.code, dropped.value.sent.reason) == (
            1011,
            "keepalive ping timeout",
        )

        client = FlowTestClient(server.url, ping_interval=timeout / 4, ping_timeout=timeout)
        async with client:
            await client.wait_for(pattern="^done$", since=0, timeout=30)
            assert client.is_connected
        assert len(client.collector.filter(type="system_update")) == frames
        assert server.connections[-1].close_code == 1000  # the test's own clean close


async def test_a_silent_server_is_dropped_by_flowwright_and_the_error_says_so() -> None:
    timeout = scaled(0.2)

    async with serving(stop_reading) as server:
        client = FlowTestClient(server.url, ping_interval=timeout / 4, ping_timeout=timeout)
        async with client:
            with pytest.raises(ConnectionLostError) as lost:
                await client.wait_for_completion(timeout=30)
        served = server.connections[0]
        served.transport.resume_reading()  # now it reads what the client said as it left
        await served.wait_closed()
    first = str(lost.value).splitlines()[0]
    assert first.startswith(
        "flowwright closed the connection (code 1011 'keepalive ping timeout'): nothing "
        f"arrived from the server for {timeout:g}s after a keepalive ping"
    )
    assert "the server closed" not in str(lost.value)
    assert lost.value.code == 1011
    assert (served.close_code, served.close_reason) == (1011, "keepalive ping timeout")


# ------------------------------------------------------------------ who closed it


async def test_a_message_over_max_size_is_refused_by_flowwright() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("x" * 2000)

    async with serving(handler) as server:
        async with FlowTestClient(server.url, max_size=1000) as client:
            with pytest.raises(ConnectionLostError) as lost:
                await client.wait_for_completion(timeout=30)
        await server.connections[0].wait_closed()
        received = server.connections[0].close_code
    assert re.match(
        r"flowwright closed the connection \(code 1009 '.*exceeds limit of 1000 bytes'\): "
        r"the server sent a message larger than max_size \(1,000 bytes\)",
        str(lost.value),
    )
    assert received == 1009


async def test_text_that_is_not_utf8_is_refused_by_flowwright() -> None:
    async def handler(ws: ServerConnection) -> None:
        ws.transport.write(Frame(Opcode.TEXT, b'{"type": "\xff"}').serialize(mask=False))

    async with serving(handler) as server:
        async with FlowTestClient(server.url) as client:
            with pytest.raises(ConnectionLostError) as lost:
                await client.wait_for_completion(timeout=30)
        await server.connections[0].wait_closed()
        received = server.connections[0].close_code
    assert str(lost.value).startswith(
        "flowwright closed the connection (code 1007 'invalid start byte at position 10'): "
        "the server sent a text message that is not UTF-8"
    )
    assert received == 1007
    assert len(client.collector) == 0  # nothing half-decoded was recorded


async def test_a_server_that_closes_is_named_with_its_code_and_reason() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(4001, "enough")

    async with serving(handler) as server, FlowTestClient(server.url) as client:
        with pytest.raises(ConnectionLostError) as lost:
            await client.wait_for_completion(timeout=30)
    assert str(lost.value).startswith("the server closed the connection (code 4001 'enough')")
    assert (lost.value.code, lost.value.reason) == (4001, "enough")


async def test_the_server_sees_1000_for_a_close_and_1006_for_a_cut() -> None:
    async with serving(nothing) as server:
        async with FlowTestClient(server.url):
            pass
        client = FlowTestClient(server.url)
        await client.connect()
        client.cut_connection()
        with pytest.raises(ConnectionLostError, match="the test cut the connection"):
            await client.wait_for_completion(timeout=30)
        await client.close()
        for served in server.connections:
            await served.wait_closed()
    clean, cut = server.connections
    assert clean.close_code == 1000
    assert cut.close_code == 1006


# ------------------------------------------------------------------ sending


async def count(ws: ServerConnection, expected: int) -> int:
    received = 0
    async for _ in ws:
        received += 1
        if received == expected:
            break
    return received


async def test_send_waits_while_the_socket_is_full_then_goes_or_fails() -> None:
    async with serving(stop_reading) as server, FlowTestClient(server.url) as client:
        served = server.connections[0]
        big = base64.b64encode(os.urandom(3 * 2**14)).decode()  # 64 KiB, deflate or not
        sent = 0
        while True:  # until the kernel's buffers and the transport's are full
            sending = asyncio.create_task(client.send(big))
            await asyncio.sleep(0)  # one turn of the loop: a send that can write returns
            if not sending.done():
                break
            sent += 1
            assert sent < 10_000, "the socket never filled"
        assert not sending.done()
        served.transport.resume_reading()
        reading = asyncio.create_task(count(served, sent + 1))
        await sending  # the server reads: the send completes
        assert await reading == sent + 1

        await stop_reading(served)
        while True:
            sending = asyncio.create_task(client.send(big))
            await asyncio.sleep(0)
            if not sending.done():
                break
        served.transport.abort()  # the server goes away while the test waits to send
        with pytest.raises(ConnectionLostError, match=r"^cannot send: the server closed"):
            await sending
