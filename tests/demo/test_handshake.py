"""The WebSocket opening handshake under hostile requests: each one is answered with a 4xx
that says why, and the connection closed — never left open with no answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flowwright.runner import TestFlowRunner
from tests.demo._client import of_type, open_client
from tests.demo._raw_http import exchange, handshake, port_of

TOO_LONG = "expected no more than 8192 bytes"
LINE_LIMIT = 8192
"""websockets' longest request or header line; uvicorn's HTTP parser (h11) takes up to
16 KiB for the whole head, so a line between the two reaches the WebSocket layer."""


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (handshake(b"/ws/" + b"s" * (LINE_LIMIT + 100)), 414, TOO_LONG),
        (handshake(b"/ws/ok", [(b"X-Big", b"h" * (LINE_LIMIT + 100))]), 431, TOO_LONG),
        (
            handshake(b"/ws/ok", [(b"X-%d" % n, b"v") for n in range(129)]),
            431,
            "expected no more than 128 headers",
        ),
        (handshake(b"/ws/ok", [(b"Content-Length", b"5")]) + b"hello", 400, "request body"),
        (
            handshake(b"/ws/ok", [(b"Transfer-Encoding", b"chunked")]) + b"0\r\n\r\n",
            400,
            "transfer codings aren't supported",
        ),
    ],
    ids=["session id over 8 KiB", "header over 8 KiB", "129 headers", "a body", "chunked"],
)
async def test_a_handshake_the_websocket_layer_refuses_is_answered_and_closed(
    demo_server: TestFlowRunner, request_bytes: bytes, status: int, reason: str
) -> None:
    answer = await asyncio.to_thread(exchange, port_of(demo_server), request_bytes)
    assert answer.status == status, answer
    assert reason in answer.body.decode(), answer
    # The server is still serving sessions, and saw the client's mistake as no error of its own.
    async with open_client(demo_server) as client:
        await client.run_flow("osb", prompt="Is hate speech against migrants allowed?")
        await client.until(of_type("ui_message"))
    log = await asyncio.to_thread(Path(str(demo_server.log_path)).read_text, errors="replace")
    assert "Traceback" not in log, demo_server.describe(30)
