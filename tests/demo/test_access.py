"""Host and Origin checks: other sites' pages cannot open a socket or call the API, and a
DNS name rebound to 127.0.0.1 gets nothing, while loopback pages and the server's own do."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from flowwright.runner import TestFlowRunner
from flowwright.web.browser import open_chromium
from flowwright_demo.access import AccessPolicy
from flowwright_demo.settings import default_conf_dir
from tests.demo._client import (
    TIMEOUT,
    logged,
    mcp_initialize,
    open_client,
    session_url,
    start_server,
)
from tests.demo._raw_http import exchange, port_of, request

EVIL = "evil.test"
"""A name Chromium is told resolves to 127.0.0.1: another site, or a rebound DNS name."""

# ---------------------------------------------------------------------- the policy


@pytest.mark.parametrize(
    ("host", "origin", "status"),
    [
        ("127.0.0.1:8000", None, None),
        ("localhost:8000", "http://localhost:5173", None),  # Buttermilk's vite dev UI
        ("127.0.0.1:8000", "http://127.0.0.1:8000", None),  # the server's own page
        ("127.0.0.1:8000", "http://127.9.9.9:1", None),  # loopback, any port
        ("[::1]:8000", "http://[::1]:5173", None),
        ("[::1]:8000", "https://localhost", None),
        ("127.0.0.1:8000", "http://evil.test:8000", 403),
        ("127.0.0.1:8000", "http://localhost.evil.test", 403),
        ("127.0.0.1:8000", "null", 403),  # a sandboxed or file: page
        ("127.0.0.1:8000", "ws://localhost:1", 403),
        ("evil.test:8000", None, 421),  # DNS rebinding: the browser thinks it is evil.test
        ("evil.test:8000", "http://evil.test:8000", 421),
        ("", None, 421),
        (None, None, 421),
        ("127.0.0.1:notaport", None, 421),
        ("user@127.0.0.1:8000", None, 421),
    ],
)
def test_the_default_policy(host: str | None, origin: str | None, status: int | None) -> None:
    refusal = AccessPolicy().check(host, origin)
    assert (refusal and refusal.status) == status, refusal


def test_configured_hosts_and_origins() -> None:
    policy = AccessPolicy(
        allowed_hosts=("lab.example", "ui.example:8443"),
        allowed_origins=("https://ui.example:8443", "http://dev.example:*", "null"),
        bind_host="10.1.2.3",
    )
    assert policy.check("lab.example:8000", None) is None  # a bare name: any port
    assert policy.check("10.1.2.3:8000", None) is None  # the bind address
    assert policy.check("ui.example:8443", None) is None
    assert policy.check("ui.example:8444", None) is not None
    assert policy.check("lab.example:8000", "http://lab.example:8000") is None  # same origin
    assert policy.check("lab.example:8000", "https://ui.example:8443") is None
    assert policy.check("lab.example:8000", "https://ui.example:8444") is not None
    assert policy.check("lab.example:8000", "http://dev.example:3000") is None
    assert policy.check("lab.example:8000", "https://dev.example:3000") is not None
    assert policy.check("lab.example:8000", "null") is None
    assert policy.check("lab.example:8000", "http://other.example") is not None
    anything = AccessPolicy(allowed_hosts=("*",), allowed_origins=("*",))
    assert anything.check("evil.test", "http://evil.test") is None


def test_refusals_say_what_to_configure() -> None:
    host = AccessPolicy().check("evil.test:8000", None)
    assert host is not None
    assert host.reason == (
        "Host 'evil.test:8000' is not allowed: this server answers to loopback names and "
        "'127.0.0.1'; add the name to server.allowed_hosts to serve it (a guard against DNS "
        "rebinding)"
    )
    origin = AccessPolicy().check("127.0.0.1:8000", "http://evil.test")
    assert origin is not None
    assert "Origin 'http://evil.test' is not allowed" in origin.reason
    assert "server.allowed_origins" in origin.reason


# ---------------------------------------------------------------------- against a server


@pytest.mark.parametrize(
    ("header", "status"), [(b"Host", 421), (b"Origin", 403)], ids=["Host", "Origin"]
)
async def test_a_refusal_quotes_a_long_header_cut_in_its_answer_and_log(
    demo_server: TestFlowRunner, header: bytes, status: int
) -> None:
    """The header is the client's to make long (12,000 characters here; uvicorn takes a 16 KiB
    head): quoted whole, every refused request would write that much to the log."""
    value = b"http://" + b"x" * 12_000
    headers = [(b"Origin", value)] if header == b"Origin" else []
    data = request("GET", b"/health", headers)
    if header == b"Host":
        data = data.replace(b"Host: 127.0.0.1", b"Host: " + value, 1)
    answer = await asyncio.to_thread(exchange, port_of(demo_server), data)
    assert answer.status == status, answer
    reason = answer.body.decode()
    assert len(reason) < 600, reason[:300]
    assert f"{header.decode()} 'http://xxx" in reason
    assert "... (12007 characters) is not allowed" in reason
    line = await logged(demo_server, rf"{header.decode()} 'http://x+'\.\.\. \(12007 characters\)")
    assert len(line) < 800, line[:300]


async def test_a_socket_from_another_origin_is_refused_before_it_opens(
    demo_server: TestFlowRunner,
) -> None:
    url = session_url(demo_server, str(uuid.uuid4()))
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, origin=Origin("http://evil.test"), open_timeout=TIMEOUT):
            pass
    response = caught.value.response
    assert response.status_code == 403
    assert b"Origin 'http://evil.test' is not allowed" in response.body
    for allowed in ["http://localhost:5173", demo_server.base_url]:
        url = session_url(demo_server, str(uuid.uuid4()))
        async with connect(url, origin=Origin(allowed), open_timeout=TIMEOUT) as socket:
            assert socket.response is not None
            assert socket.response.status_code == 101


async def test_the_api_refuses_a_foreign_host(demo_server: TestFlowRunner) -> None:
    async with httpx.AsyncClient(base_url=demo_server.base_url, timeout=TIMEOUT) as http:
        for path in ["/health", "/api/session", "/api/flows", "/", "/mcp"]:
            response = await http.get(path, headers={"Host": f"{EVIL}:80"})
            assert response.status_code == 421, path
            assert "server.allowed_hosts" in response.json()["error"]
        response = await http.get("/api/session", headers={"Origin": "http://evil.test"})
        assert response.status_code == 403
        assert (await http.get("/api/session", headers={"Host": "localhost"})).status_code == 200


# ---------------------------------------------------------------------- a real browser


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site</title><p>nothing to see</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_site() -> Iterator[int]:
    """A static page server on 127.0.0.1: its port; pages are opened as evil.test:<port>."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


OPEN_SOCKET = """url => new Promise(resolve => {
    const socket = new WebSocket(url);
    socket.onopen = () => { resolve("open"); socket.close(); };
    socket.onclose = event => resolve(`closed ${event.code}`);
})"""
"""Run in a page: whether a WebSocket to ``url`` opens (else its close code)."""


@asynccontextmanager
async def chromium_page() -> AsyncIterator[Any]:
    async with open_chromium(args=[f"--host-resolver-rules=MAP {EVIL} 127.0.0.1"]) as browser:
        page = await browser.new_page()
        page.set_default_timeout(TIMEOUT * 1000)
        yield page


async def test_a_page_on_another_site_cannot_open_a_socket_in_chromium(
    demo_server: TestFlowRunner, other_site: int
) -> None:
    target = session_url(demo_server, "hijack-attempt")
    async with chromium_page() as page:
        await page.goto(f"http://{EVIL}:{other_site}/")
        assert await page.evaluate(OPEN_SOCKET, target) == "closed 1006"
        await logged(
            demo_server,
            re.escape(f"refused: Origin 'http://{EVIL}:{other_site}' is not allowed"),
        )
        # A DNS name rebound to the server: the browser takes the server for evil.test.
        port = demo_server.base_url.rsplit(":", 1)[1]
        rebound = await page.goto(f"http://{EVIL}:{port}/api/session")
        assert rebound is not None
        assert rebound.status == 421
        assert "session_token" not in await rebound.text()

        # The same page on a loopback name (a dev UI on localhost) may connect...
        await page.goto(f"http://localhost:{other_site}/")
        assert await page.evaluate(OPEN_SOCKET, session_url(demo_server, "dev-ui")) == "open"
        # ...and so may the server's own pages.
        await page.goto(f"{demo_server.base_url}/health")
        assert await page.evaluate(OPEN_SOCKET, session_url(demo_server, "own-page")) == "open"

    # The refused socket created no session: a first socket to that id needs no token.
    async with open_client(demo_server, "hijack-attempt") as client:
        await client.run_flow("chat", prompt="hello")
        await client.prompt()


@pytest.fixture(scope="module")
def configured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    """A server that also serves a lab host and a UI on another origin."""
    tmp = tmp_path_factory.mktemp("allowed")
    conf = tmp / "conf"
    shutil.copytree(default_conf_dir(), conf)
    overlay = conf / "test" / "server.yaml"
    settings = yaml.safe_load(overlay.read_text()) | {
        "allowed_hosts": ["lab.example"],
        "allowed_origins": ["https://ui.example"],
    }
    overlay.write_text(yaml.safe_dump(settings))
    runner = start_server(tmp, "--conf-dir", str(conf))
    yield runner
    assert runner.stop() == 0, runner.describe(30)


async def test_mcp_answers_the_hosts_and_origins_the_configuration_allows(
    configured_server: TestFlowRunner,
) -> None:
    initialize = mcp_initialize("t")
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=configured_server.base_url, timeout=TIMEOUT) as http:
        allowed = {**accept, "Host": "lab.example", "Origin": "https://ui.example"}
        response = await http.post("/mcp", json=initialize, headers=allowed)
        assert response.status_code == 200, response.text  # not the SDK's own refusal
        foreign = {**accept, "Host": "lab.example", "Origin": "https://evil.example"}
        refused = await http.post("/mcp", json=initialize, headers=foreign)
        assert refused.status_code == 403
        assert "server.allowed_origins" in refused.json()["error"]
