"""The proxy under hostile input from either side: what it cannot relay it answers or
closes, saying so in its transcript; it never stops relaying for the other connections."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from flowwright import settings
from flowwright.proxy import FlowProxy, corrupt, drop
from tests.framework.test_fuzz_client import MAKERS
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


async def test_a_request_head_too_slow_or_too_large_is_answered_not_dropped(
    puppet: Puppet,
) -> None:
    """A client that never finishes its request head (a half-open handshake, a slow loris)
    gets a 408 after the open timeout, one whose head exceeds 64 KiB a 431; each is noted,
    and a socket opened meanwhile is relayed as ever."""
    async with FlowProxy(puppet.url, open_timeout=0.5) as proxy:
        slow = [await send_raw(proxy.port, handshake("/ws/slow")[:40]) for _ in range(3)]
        large, large_writer = await send_raw(
            proxy.port, b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n"
        )
        async with connect(proxy.url + "/ws/beside") as socket:
            beside = json.dumps({"type": "system_message", "outputs": {"content": "beside"}})
            await socket.send(json.dumps({"send": [beside]}))
            assert await socket.recv() == beside
        async with asyncio.timeout(10 * settings.timeout_factor):
            assert (await large.read()).startswith(b"HTTP/1.1 431 Request Header Fields")
            for reader, _ in slow:
                answer = await reader.read()
                assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
                assert answer.endswith(b"no whole request within 0.5 s (HTTP 408)\n")
        for _, writer in [*slow, (large, large_writer)]:
            writer.close()
        notes = proxy.collector.filter(category="note", direction="note", pattern="^refused")
        assert sorted(note.content for note in notes) == [
            "refused a request: a request head over 65536 bytes (HTTP 431)",
            *["refused a request: no whole request within 0.5 s (HTTP 408)"] * 3,
        ]


@pytest.mark.flow(allow_malformed=True)  # spoiled frames are the point
async def test_a_corrupt_fault_on_a_frame_it_cannot_read_spoils_it_and_relays_on(
    puppet: Puppet,
) -> None:
    """``wrong_type`` on a frame too deep for json spoils it as ``not_json`` (it raised
    RecursionError, which ended the relay); a ``using=`` that fails or returns no frame is
    noted and the frame goes on untouched."""
    deep = '{"type": "x", "outputs": ' + "[" * 50_000 + "]" * 50_000 + "}"

    def broken(text: str) -> str:
        raise ValueError("cannot spoil this")

    def no_frame(text: str) -> str:
        return None  # type: ignore[return-value]  # a bug of the test's own

    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a", max_size=None) as ws:
        async with proxy.fault(corrupt("wrong_type")):
            await ws.send(deep.encode())  # the puppet sends a binary frame back as it is
            assert await ws.recv() == deep[1:].encode()
        async with proxy.fault(corrupt(using=broken, pattern="^b$"), corrupt(using=no_frame)):
            await ws.send(json.dumps({"send": ['{"type": "x", "outputs": "b"}']}))
            assert await ws.recv() == '{"type": "x", "outputs": "b"}'
        [frame] = proxy.collector.filter(pattern="^b$")
        notes = proxy.collector.filter(category="note", direction="note", pattern="could not act")
        assert [note.content for note in notes] == [
            f"corrupt(using=broken, pattern='^b$') could not act on proxy#{frame.seq}: "
            "ValueError('cannot spoil this')",
            f"corrupt(using=no_frame) could not act on proxy#{frame.seq}: "
            "TypeError('using= returned NoneType, not a str or bytes frame')",
        ]
        assert proxy.connections[0].state == "open"


async def test_a_frame_the_proxy_refuses_closes_the_server_side_saying_why(
    puppet: Puppet,
) -> None:
    """Text that is not UTF-8: the proxy's socket closes 1007, and so does the server's (it
    was dropped as a network failure, 1006, and the transcript did not say why)."""
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        await socket.send(b"\xff\xfe not UTF-8", text=True)
        with pytest.raises(ConnectionClosed):
            await socket.recv()
        async with asyncio.timeout(10 * settings.timeout_factor):
            await puppet.connections[0].wait_closed()
        assert puppet.connections[0].close_code == 1007
        [note] = proxy.collector.filter(category="note", direction="note", pattern="forbids")
        assert note.content == (
            "connection 1 to /ws/a: the client sent what WebSocket forbids "
            "(1007 invalid start byte at position 0); closed both sides with 1007"
        )


SEED = 20261201
FRAMES = 600


@pytest.mark.flow(allow_malformed=True)  # hostile frames are the point
async def test_hostile_traffic_both_ways_never_stops_the_relay(
    puppet: Puppet, caplog: pytest.LogCaptureFixture
) -> None:
    """Seeded hostile frames (deep, not JSON, binary, huge, wrong ``type`` types), sent as
    binary so the puppet sends each back: through the proxy both ways, with faults that read
    every frame in force. Beside them: text that is not UTF-8 (the proxy closes 1007 and
    passes the close on), sockets dropped mid-frame, 40 sockets at once, a flood of 2000
    frames, junk HTTP. A bystander socket is relayed throughout; nothing is left open."""
    rng = random.Random(SEED)
    hostile = [rng.choice(MAKERS)(rng) for _ in range(FRAMES)]
    outcomes = {"echoed": 0, "closed 1007": 0, "aborted": 0, "flooded": 0, "junk http": 0}
    ping = json.dumps({"type": "system_message", "outputs": {"content": "still here"}})
    async with (
        FlowProxy(puppet.url) as proxy,
        connect(proxy.url + "/ws/bystander") as bystander,
    ):
        proxy.add(drop(type="never-sent"), corrupt("wrong_type", pattern="^never$", side="both"))
        async with connect(proxy.url + "/ws/hostile", max_size=None) as ws:
            for frame in hostile:
                data = frame if isinstance(frame, bytes) else frame.encode()
                await ws.send(data)
                assert await ws.recv() == data
                outcomes["echoed"] += 1

        async def one_of_many(number: int) -> None:
            async with connect(proxy.url + f"/ws/many{number}") as many:
                if number % 2:
                    await many.send(b"\xff\xfe not UTF-8", text=True)
                    with pytest.raises(ConnectionClosed) as closed:
                        await many.recv()
                    assert closed.value.rcvd is not None
                    assert closed.value.rcvd.code == 1007
                    outcomes["closed 1007"] += 1
                else:
                    await many.send(b"x" * 10_000)
                    many.transport.abort()
                    outcomes["aborted"] += 1

        await asyncio.gather(*(one_of_many(number) for number in range(40)))  # at once
        async with connect(proxy.url + "/ws/flood") as flood:
            await asyncio.gather(*(flood.send(b"%d" % n) for n in range(2000)))
            assert [await flood.recv() for _ in range(2000)] == [b"%d" % n for n in range(2000)]
            outcomes["flooded"] = 2000
        for _ in range(20):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) + b"\r\n\r\n"
            reader, writer = await send_raw(proxy.port, junk)
            async with asyncio.timeout(10 * settings.timeout_factor):
                await reader.read()  # answered or closed, not left hanging
            writer.close()
            outcomes["junk http"] += 1
        await bystander.send(json.dumps({"send": [ping]}))
        assert await bystander.recv() == ping
        assert "faults in force" in proxy.describe()  # every frame of the transcript read
        hostile_socket = proxy.connections[1]
        assert hostile_socket.frames == {"client": FRAMES, "server": FRAMES}
    async with asyncio.timeout(10 * settings.timeout_factor):
        await asyncio.gather(*(c.wait_closed() for c in puppet.connections))
    codes = [c.close_code for c in puppet.connections]
    assert codes.count(1007) == 20  # the close passed on, and said
    assert len(proxy.collector.filter(category="note", direction="note", pattern="forbids")) == 20
    print(f"\nproxy under {FRAMES} hostile frames each way and more: {outcomes}")
    assert [c.state for c in proxy.connections] == ["closed"] * len(proxy.connections)
    assert not [r for r in caplog.records if r.name.startswith("flowwright") and r.levelno >= 40]


async def test_a_rebound_host_is_refused_before_the_proxy_rewrites_it(puppet: Puppet) -> None:
    """The proxy sets ``Host`` to the server's, so the server's own DNS-rebinding guard
    cannot see a page's rebound name: the proxy checks it first (421), for pages and sockets."""
    async with FlowProxy(puppet.url) as proxy:
        for request in [
            b"GET /api/flows HTTP/1.1\r\nHost: evil.example:80\r\n\r\n",
            handshake("/ws/a", host=f"evil.example:{proxy.port}"),
            b"GET / HTTP/1.0\r\n\r\n",  # no Host at all
        ]:
            reader, writer = await send_raw(proxy.port, request)
            async with asyncio.timeout(10 * settings.timeout_factor):
                answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 421 Misdirected Request\r\n"), answer
        async with connect(proxy.url + "/ws/ok", origin="http://localhost:5173") as socket:  # type: ignore[arg-type]
            assert socket.state.name == "OPEN"  # a loopback name passes
        assert len(puppet.requests) == 1
        notes = proxy.collector.filter(category="note", direction="note", pattern="^refused")
        assert notes[0].content.startswith("refused a request: Host 'evil.example:80' is not")


async def test_a_refusal_quotes_a_long_host_cut_short(puppet: Puppet) -> None:
    """A 6,000-character ``Host`` is refused in a short answer and note, not repeated whole."""
    async with FlowProxy(puppet.url) as proxy:
        host = "h" * 6000
        reader, writer = await send_raw(proxy.port, handshake("/ws/a", host=host))
        async with asyncio.timeout(10 * settings.timeout_factor):
            answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 421 Misdirected Request\r\n"), answer[:200]
        assert len(answer) < 1000, answer[:200]
        assert b"... (6000 characters) is not allowed" in answer, answer
        (note,) = proxy.collector.filter(category="note", direction="note", pattern="^refused")
        assert len(note.content) < 500, note.content
