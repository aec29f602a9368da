"""UIFlow: a real page's socket frames feed the collector and waits, both directions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from flowwright import Category, ConnectionLostError, FlowTimeoutError, RemoteServer, UIPageError
from flowwright.web import UIFlow
from tests.framework.scripted import ScriptedServer, completed, prompt, result, scripted_server
from tests.web.pages import serve_directory, socket_page


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    async with scripted_server() as server:
        yield server


async def open_page(context: BrowserContext, html: str, **options: object) -> tuple[Page, UIFlow]:
    page = await context.new_page()
    flow = UIFlow(page, **options)  # type: ignore[arg-type]
    await page.set_content(html)
    await expect(page.locator("body[data-open]")).to_be_attached()
    return page, flow


async def test_the_pages_frames_feed_the_same_waits(
    flow_context: BrowserContext, scripted: ScriptedServer
) -> None:
    scripted.handler = lambda message: (
        [prompt("Shall I proceed?")]
        if message["type"] == "run_flow"
        else [result("researcher", "found it"), completed()]
    )
    page, flow = await open_page(flow_context, socket_page(scripted.url))

    await page.get_by_role("button", name="Start").click()
    asked = await flow.wait_for_ui_message(pattern="proceed", timeout=10)

    sent = flow.collector[flow.last_action_seq]
    assert (sent.direction, json.loads(sent.raw)["type"]) == ("sent", "run_flow")
    assert asked.seq > sent.seq
    assert asked.options == ["confirm", "reject"]
    assert scripted.received == [json.loads(sent.raw)]

    await page.evaluate("ws.send(JSON.stringify({type: 'manager_response', confirm: true}))")
    results = await flow.wait_for_agent_results(["researcher"], timeout=10)
    await flow.wait_for_completion(timeout=10)
    assert [m.content for m in results] == ["found it"]
    assert [m.category for m in flow.messages] == [
        Category.SENT,
        Category.PROMPT,
        Category.SENT,
        Category.CHAT,
        Category.LIFECYCLE,
    ]
    await expect(page.locator("#log li")).to_have_count(3)  # the page saw what the flow saw


async def test_a_closed_socket_fails_pending_waits(
    flow_context: BrowserContext, scripted: ScriptedServer
) -> None:
    page, flow = await open_page(flow_context, socket_page(scripted.url))
    with pytest.raises(ConnectionLostError) as raised:
        async with flow.expect(category="prompt", timeout=10):
            scripted.drop()
    text = str(raised.value)
    assert f"the page's WebSocket {scripted.url}/ closed while waiting for prompt" in text
    assert f"page: {page.url} (socket {scripted.url}/ (closed))" in text


async def test_waits_after_the_close_fail_at_once_and_a_new_socket_reopens_them(
    flow_context: BrowserContext, scripted: ScriptedServer
) -> None:
    scripted.handler = lambda message: [prompt()]
    page, flow = await open_page(flow_context, socket_page(scripted.url))
    socket = flow.socket
    assert socket is not None
    async with socket.expect_event("close"):
        scripted.drop()
    with pytest.raises(ConnectionLostError):
        await flow.wait_for_completion(timeout=10)

    await page.set_content(socket_page(scripted.url))  # a new socket: the flow is back
    await expect(page.locator("body[data-open]")).to_be_attached()
    assert flow.socket is not socket
    assert len(flow.sockets) == 2
    await page.get_by_role("button", name="Start").click()
    await flow.wait_for_ui_message(timeout=10)


async def test_only_the_sockets_the_filter_accepts_are_recorded(
    flow_context: BrowserContext, scripted: ScriptedServer
) -> None:
    async with scripted_server() as other:
        html = socket_page(scripted.url, extra_socket=other.url + "/metrics")
        _, flow = await open_page(flow_context, html, sockets=r"127\.0\.0\.1:\d+/$")
        page = flow.page
        await expect(page.locator("body[data-extra]")).to_be_attached()
        await other.send(prompt("not the flow's"))
        await expect(page.get_by_role("listitem")).to_have_count(1)  # the page got it...
        assert flow.messages == []  # ...the flow did not
        assert [socket.url for socket in flow.sockets] == [scripted.url + "/"]


async def test_describe_names_the_page_and_the_server(
    flow_context: BrowserContext, scripted: ScriptedServer
) -> None:
    page = await flow_context.new_page()
    flow = UIFlow(page, server=RemoteServer(scripted.url))
    server = f"server: http://{scripted.url.removeprefix('ws://')} (not started by flowwright"
    assert flow.describe().startswith(f"page: about:blank (no flow socket opened yet)\n{server}")
    await page.set_content(socket_page(scripted.url))
    await expect(page.locator("body[data-open]")).to_be_attached()
    assert flow.describe().startswith(f"page: about:blank (socket {scripted.url}/ (open))\n")


async def test_goto_fails_at_once_naming_an_error_status_and_the_body(
    flow_context: BrowserContext, tmp_path: Path
) -> None:
    flow = UIFlow(await flow_context.new_page())
    with serve_directory(tmp_path) as base, pytest.raises(UIPageError) as raised:
        await flow.goto(base + "/app/")
    assert str(raised.value).startswith(
        f"the UI at {base}/app/ answered HTTP 404 File not found: <!DOCTYPE HTML>"
    )


async def test_goto_fails_at_once_when_nothing_answers(flow_context: BrowserContext) -> None:
    with serve_directory(Path()) as base:
        pass  # the port is free again: nothing listens there now
    flow = UIFlow(await flow_context.new_page())
    with pytest.raises(UIPageError, match=rf"^the UI at {base}/ could not be opened: .*REFUSED"):
        await flow.goto(base + "/")


async def test_a_page_that_never_opens_a_flow_socket_says_so_first(
    flow_context: BrowserContext, scripted: ScriptedServer, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text(
        socket_page(scripted.url + "/live-reload"), encoding="utf-8"
    )
    with serve_directory(tmp_path) as base:
        flow = UIFlow(await flow_context.new_page(), sockets=r"/ws/")
        assert (await flow.goto(base + "/")) is not None
        await expect(flow.page.locator("body[data-open]")).to_be_attached()
        with pytest.raises(FlowTimeoutError) as raised:
            await flow.wait_for_ui_message(timeout=0.2)
    first = str(raised.value).splitlines()[0]
    assert first.startswith(
        f"the page {base}/ never opened a flow socket (it opened 1 socket(s) that the socket "
        f"filter left out: {scripted.url}/live-reload): timed out after "
    )
    assert first.endswith("s waiting for prompt")
    assert "sockets left out by the filter" in str(raised.value)
    with pytest.raises(FlowTimeoutError, match=r"^the page .* never opened a flow socket"):
        async with flow.expect(category="prompt", timeout=0.2):
            pass
