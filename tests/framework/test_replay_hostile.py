"""The replay server under hostile clients: whatever a client sends, it answers with the
recording or closes that socket alone; a normal client beside them replays undisturbed."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from flowwright import FlowTestClient, settings
from flowwright.recording import load_recording
from flowwright.replay import ReplayServer
from tests.framework.test_fuzz_client import MAKERS

MOCK = Path(__file__).parents[1] / "data" / "buttermilk" / "mock-session.jsonl"
SEED = 20261202


async def test_hostile_clients_never_disturb_a_normal_replay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rng = random.Random(SEED)
    recording = load_recording(MOCK)
    segments = recording.segments
    expected = [line.frame for segment in segments for line in segment.received]
    outcomes = {"frames answered": 0, "closed 1007": 0, "aborted": 0, "junk http": 0, "flooded": 0}
    async with ReplayServer(recording) as server:

        async def hostile(number: int) -> None:
            """The recording to a socket whose every frame is hostile, then its own end."""
            async with connect(server.ws_url + f"/ws/h{number}", max_size=None) as socket:
                got: list[str | bytes] = []
                for segment in segments:
                    if segment.trigger is not None:
                        await socket.send(rng.choice(MAKERS)(rng))
                        outcomes["frames answered"] += 1
                    got += [await socket.recv() for _ in segment.received]
                assert got == expected
                if number % 2:
                    await socket.send(b"\xff not UTF-8", text=True)
                    with pytest.raises(ConnectionClosed) as closed:
                        await socket.recv()
                    assert closed.value.rcvd is not None
                    assert closed.value.rcvd.code == 1007
                    outcomes["closed 1007"] += 1
                else:
                    socket.transport.abort()
                    outcomes["aborted"] += 1

        async def flood() -> None:
            """2000 frames at once: the recording's answers, then silence, the socket open."""
            async with connect(server.ws_url + "/ws/flood", max_size=None) as socket:
                await asyncio.gather(*(socket.send(b"%d" % n) for n in range(2000)))
                assert [await socket.recv() for _ in expected] == expected
                await socket.send("one more")
                assert socket.state.name == "OPEN"
            outcomes["flooded"] = 2000

        async def normal() -> None:
            async with FlowTestClient.create(
                server.ws_url, server=server, dialect="buttermilk", timeout=10
            ) as client:
                await client.start_flow("mock", "Is this post hate speech?")
                await client.wait_for_agent_results(["judge"])
                for _ in range(3):
                    await client.wait_for_ui_message()
                    await client.send_manager_response("Yes, please proceed")
                await client.wait_for(lambda m: m.seq == 64, description="the 60th frame")
            received = [m.raw for m in client.collector.filter(direction="received")]
            assert received == expected

        await asyncio.gather(normal(), flood(), *(hostile(number) for number in range(40)))
        for _ in range(20):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) + b"\r\n\r\n"
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(junk)
            async with asyncio.timeout(10 * settings.timeout_factor):
                await reader.read()  # answered or closed, not left hanging
            writer.close()
            outcomes["junk http"] += 1
        await normal()  # and after them all
    print(f"\nreplay under 40 hostile sockets: {outcomes}")
    assert not [r for r in caplog.records if r.levelno >= 40], caplog.text
    assert json.loads(expected[0])  # the recording is what was replayed


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example"}, 421),
        ({"Host": "127.0.0.1", "Origin": "https://evil.example"}, 403),
        ({"Host": "127.0.0.1", "Origin": "null"}, 403),
        ({"Host": "localhost:1", "Origin": "http://127.0.0.1:5173"}, 200),
    ],
)
async def test_a_page_of_another_site_may_not_read_the_recording(
    headers: dict[str, str], status: int
) -> None:
    """Any page in the browser can reach 127.0.0.1: a rebound name (``Host``) or another
    site (``Origin``) is refused, as the reference server refuses them."""
    async with ReplayServer(MOCK) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(f"GET /api/flows HTTP/1.1\r\n{lines}\r\n".encode())
        async with asyncio.timeout(10 * settings.timeout_factor):
            answer = await reader.readuntil(b"\r\n")
        writer.close()
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer
        if status != 200:
            with pytest.raises(InvalidStatus):
                await connect(server.ws_url + "/ws/x", additional_headers=headers)


@pytest.mark.parametrize(
    "headers",
    [{"Host": "h" * 6000}, {"Host": "127.0.0.1", "Origin": "http://" + "o" * 6000}],
    ids=["host", "origin"],
)
async def test_a_refusal_quotes_a_long_header_cut_short(headers: dict[str, str]) -> None:
    """A refused ``Host``/``Origin`` is the client's to make long: the answer quotes 100
    characters of it and says how long it was, as the reference server's does."""
    async with ReplayServer(MOCK) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(f"GET /api/flows HTTP/1.1\r\n{lines}\r\n".encode())
        async with asyncio.timeout(10 * settings.timeout_factor):
            answer = await reader.read()
        writer.close()
    assert answer.startswith((b"HTTP/1.1 421 ", b"HTTP/1.1 403 ")), answer[:200]
    assert len(answer) < 1000, answer[:200]
    refused = headers.get("Origin", headers["Host"])
    assert f"... ({len(refused)} characters) is not allowed".encode() in answer, answer
