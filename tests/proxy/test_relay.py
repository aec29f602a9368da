"""The proxy as a proxy: real sockets both sides, HTTP passed through, handshakes kept,
faults carried out in order, and what it did noted where the test reads it."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from flowwright import FlowTestClient, TestFlowRunner, settings
from flowwright.context import current
from flowwright.proxy import FlowProxy, corrupt, cut, delay, refuse, reorder, throttle
from tests.proxy.conftest import Puppet


def frame(name: str) -> str:
    return json.dumps({"type": "system_message", "message_id": name, "outputs": {"content": name}})


async def order(socket: ClientConnection, *frames: str) -> list[str]:
    """Have the puppet send ``frames``; return them as the client receives them."""
    await socket.send(json.dumps({"send": list(frames)}))
    return [str(await socket.recv()) for _ in frames]


def get(url: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_plain_http_goes_through_to_the_server_as_it_is(flow_server: TestFlowRunner) -> None:
    async with FlowProxy(flow_server) as proxy:
        status, health = await asyncio.to_thread(get, proxy.http_url + "/health")
        assert (status, json.loads(health)["status"]) == (200, "ok")
        status, flows = await asyncio.to_thread(get, proxy.http_url + "/api/flows")
        assert (status, json.loads(flows)) == (200, {"flow_choices": ["chat", "osb"]})
        status, page = await asyncio.to_thread(get, proxy.http_url + "/")
        assert status == 200
        assert page.startswith(b"<!doctype html>")  # the UI's static files
        status, body = await asyncio.to_thread(get, proxy.http_url + "/api/flows/nope/info")
        assert status == 404
        assert b"unknown flow 'nope'" in body
        status, _ = await asyncio.to_thread(get, proxy.http_url + "/api/flows", "POST")
        assert status == 405  # any method: the server, not the proxy, answers it


async def test_a_handshake_keeps_its_path_query_headers_and_subprotocol(puppet: Puppet) -> None:
    async with (
        FlowProxy(puppet.url) as proxy,
        connect(
            proxy.url + "/ws/s1?token=abc&resume_after=m7",
            origin="http://127.0.0.1:5173",  # type: ignore[arg-type]
            additional_headers={"x-flowwright-session-token": "t0k", "Cookie": "a=1"},
            subprotocols=["flowwright.v1"],  # type: ignore[list-item]
        ) as socket,
    ):
        assert socket.subprotocol == "flowwright.v1"
        [request] = puppet.requests
        assert request.path == "/ws/s1?token=abc&resume_after=m7"
        assert request.headers["x-flowwright-session-token"] == "t0k"
        assert request.headers["Origin"] == "http://127.0.0.1:5173"
        assert request.headers["Cookie"] == "a=1"
        assert request.headers["Host"] == puppet.url.removeprefix("ws://")
        assert proxy.connections[0].path == "/ws/s1?token=abc&resume_after=m7"


async def test_the_servers_refusal_reaches_the_client_as_the_server_gave_it(
    puppet: Puppet,
) -> None:
    async with FlowProxy(puppet.url) as proxy:
        with pytest.raises(InvalidStatus) as refused:
            await connect(proxy.url + "/ws/refuse-me")
        answer = refused.value.response
        assert (answer.status_code, answer.body) == (403, b"no token here\n")
        assert answer.headers["X-Why"] == "no token"
        note = proxy.collector.filter(category="note", direction="note")[-1]
        assert note.content == "the server refused the connection to /ws/refuse-me: HTTP 403"


async def test_an_unreachable_server_is_a_bad_gateway_not_a_hang() -> None:
    async with FlowProxy("ws://127.0.0.1:9") as proxy:  # the discard port: nothing listens
        with pytest.raises(InvalidStatus) as refused:
            await connect(proxy.url + "/ws/x")
        assert refused.value.response.status_code == 502
        assert b"cannot reach ws://127.0.0.1:9/ws/x" in (refused.value.response.body or b"")
        status, body = await asyncio.to_thread(get, proxy.http_url + "/health")
        assert status == 502
        assert b"cannot reach 127.0.0.1:9" in body


@pytest.mark.flow(allow_malformed=True)  # a binary frame is the point
async def test_close_codes_and_binary_frames_pass_both_ways(puppet: Puppet) -> None:
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        await socket.send(b"\x00\x01binary")
        assert await socket.recv() == b"\x00\x01binary"
        await socket.send(json.dumps({"close": [4001, "enough"]}))
        with pytest.raises(ConnectionClosedError):  # 4001 is not a normal closure
            await socket.recv()
        assert (socket.close_code, socket.close_reason) == (4001, "enough")


async def test_a_delay_holds_the_frame_and_those_behind_it(puppet: Puppet) -> None:
    held = 0.3 * settings.timeout_factor
    loop = asyncio.get_running_loop()
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        async with proxy.fault(delay(held, pattern="^b$")) as fault:
            asked = loop.time()  # b cannot come back sooner than this plus the delay
            await socket.send(json.dumps({"send": [frame("a"), frame("b"), frame("c")]}))
            assert await socket.recv() == frame("a")
            assert [await socket.recv(), await socket.recv()] == [frame("b"), frame("c")]
            assert loop.time() - asked >= held
        [taken] = fault.hits
        assert taken.content == "b"


async def test_reorder_lets_the_next_frame_overtake(puppet: Puppet) -> None:
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        async with proxy.fault(reorder(pattern="^a$")):
            got = await order(socket, frame("a"), frame("b"), frame("c"))
        assert got == [frame("b"), frame("a"), frame("c")]
        async with proxy.fault(reorder(pattern="^z$")):  # nothing comes after it...
            await socket.send(json.dumps({"send": [frame("z")]}))
        assert await socket.recv() == frame("z")  # ...so the block's end lets it go


async def test_corrupted_frames_arrive_spoiled(puppet: Puppet) -> None:
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        async with proxy.fault(corrupt("truncate", pattern="^a$"), corrupt(pattern="^b$")):
            got = await order(socket, frame("a"), frame("b"))
        assert got == [frame("a")[: len(frame("a")) // 2], frame("b")[1:]]


async def test_cut_after_n_frames_drops_both_sides_without_a_close(puppet: Puppet) -> None:
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        proxy.add(cut(after=2))
        await socket.send(json.dumps({"send": [frame("a"), frame("b"), frame("c")]}))
        assert [await socket.recv(), await socket.recv()] == [frame("a"), frame("b")]
        with pytest.raises(ConnectionClosedError):
            await socket.recv()
        assert socket.close_code == 1006  # no closing handshake: a network failure
        await asyncio.wait_for(puppet.connections[0].wait_closed(), 10)
        assert puppet.connections[0].close_code == 1006
        assert proxy.connections[0].state == "cut"


async def test_refused_reconnects_then_a_reconnect_that_resumes(
    flow_server: TestFlowRunner,
) -> None:
    async with FlowProxy(flow_server) as proxy:
        client = FlowTestClient.create(server=proxy.endpoint)
        async with client:
            await client.start_flow("osb", "What is the spam policy?")
            await client.wait_for_ui_message()
            proxy.add(refuse(count=1))
            proxy.cut()
            with pytest.raises(Exception, match="HTTP 503"):
                await client.reconnect()
            await client.reconnect()  # the second attempt is let through
            await client.send_manager_response("yes")
            await client.wait_for_completion()
        texts = [m.content for m in client.collector.filter(category="note", direction="note")]
        assert any(text.startswith("cut connection 1 to /ws/") for text in texts)
        assert any(text.startswith("refused a connection to /ws/") for text in texts)


async def test_throttle_spaces_frames_out(puppet: Puppet) -> None:
    rate = 20.0  # frames a second: each frame takes a 50 ms slot on the link
    loop = asyncio.get_running_loop()
    async with FlowProxy(puppet.url) as proxy, connect(proxy.url + "/ws/a") as socket:
        async with proxy.fault(throttle(frames_per_second=rate)):
            asked = loop.time()  # the 4th frame cannot come back sooner than 4 slots later
            await socket.send(json.dumps({"send": [frame(name) for name in "abcd"]}))
            for _ in range(4):
                await socket.recv()
        assert loop.time() - asked >= 4 / rate


async def test_a_fault_is_noted_on_the_client_it_touched_and_no_other(
    flow_server: TestFlowRunner,
) -> None:
    async with (
        FlowProxy(flow_server) as proxy,
        FlowTestClient.create(server=proxy.endpoint) as touched,
        FlowTestClient.create(server=proxy.endpoint) as bystander,
    ):
        async with proxy.fault(delay(0, path=touched.session_id)):
            await touched.start_flow("osb", "What is the spam policy?")
            await touched.wait_for_ui_message()
            await bystander.start_flow("osb", "What is the spam policy?")
            await bystander.wait_for_ui_message()
        assert touched.collector.filter(category="note", direction="note")
        assert not bystander.collector.filter(category="note", direction="note")
        assert proxy in (current().streams or [])  # its own transcript goes to the report too


async def test_stopping_the_proxy_drops_what_is_open(puppet: Puppet) -> None:
    proxy = await FlowProxy(puppet.url).start()
    socket = await connect(proxy.url + "/ws/a")
    await proxy.stop()
    with pytest.raises(ConnectionClosedError):
        await socket.recv()
    await proxy.stop()  # twice is fine
