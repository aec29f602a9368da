"""A raw WebSocket client and server starter for the reference server's tests.

The client is deliberately not flowwright's FlowTestClient: the server is verified on its
own, with nothing but ``websockets`` and the pure protocol module, so the framework can then
be tested against it. Every wait is for a message matching a predicate, under a timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from flowwright.protocol import FLOW_COMPLETED, Envelope, Malformed, parse
from flowwright.runner import DEFAULT_COMMAND, TestFlowRunner
from flowwright_demo.sessions import TOKEN_HEADER, TOKEN_PARAM, storage_name
from tests.timing import scaled

__all__ = [
    "TIMEOUT",
    "DemoClient",
    "Message",
    "completed",
    "id_of",
    "label",
    "logged",
    "mcp_initialize",
    "of_type",
    "open_client",
    "refusal",
    "run_beside",
    "sent_ids",
    "session_url",
    "start_server",
    "timeline",
    "transcript_path",
]

TIMEOUT = 10.0 * float(os.environ.get("FLOWWRIGHT_TEST_TIMEOUT_FACTOR", "1"))
"""Seconds any single wait may take (scaled for slow machines)."""

Message = Envelope | Malformed
Predicate = Callable[[Message], bool]


def of_type(type_: str, **outputs: Any) -> Predicate:
    """Matches an envelope of ``type_`` whose ``outputs`` contain these key/values."""

    def match(message: Message) -> bool:
        if not isinstance(message, Envelope) or message.type != type_:
            return False
        data = message.outputs if isinstance(message.outputs, dict) else {}
        return all(data.get(key) == value for key, value in outputs.items())

    return match


completed = of_type("system_message", content=FLOW_COMPLETED)


class DemoClient:
    """One WebSocket connection to one session; remembers every message it received."""

    def __init__(self, connection: ClientConnection, session_id: str) -> None:
        self.connection = connection
        self.session_id = session_id
        self.messages: list[Message] = []
        assert connection.response is not None
        self.token: str | None = connection.response.headers.get(TOKEN_HEADER)
        """The session's secret, from the handshake: a later socket needs it to join."""

    async def drop(self) -> None:
        """End the connection without a closing handshake, as a network failure would: the
        server keeps the session for a resume (a clean close would end it)."""
        self.connection.transport.abort()
        await self.connection.wait_closed()

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.connection.send(json.dumps(message) if isinstance(message, dict) else message)

    async def run_flow(self, flow: str = "osb", **params: Any) -> None:
        await self.send({"type": "run_flow", "flow": flow, **params})

    async def answer(self, **fields: Any) -> None:
        await self.send({"type": "manager_response", **fields})

    async def until(self, predicate: Predicate, timeout: float = TIMEOUT) -> list[Message]:
        """Receive until ``predicate`` matches; the messages received by this call, in order.
        ``timeout`` is scaled by ``--flow-timeout-factor``, as flowwright's own waits are."""
        seen: list[Message] = []
        timeout = scaled(timeout)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    message = parse(await self.connection.recv())
                    seen.append(message)
                    self.messages.append(message)
                    if predicate(message):
                        return seen
        except TimeoutError:
            summary = "\n".join(f"  {_brief(m)}" for m in seen) or "  (nothing)"
            raise AssertionError(
                f"no matching message within {timeout:g}s; received:\n{summary}"
            ) from None

    async def until_completed(self, timeout: float = TIMEOUT) -> list[Message]:
        return await self.until(completed, timeout)

    async def prompt(self, timeout: float = TIMEOUT) -> Envelope:
        """Wait for the next ``ui_message`` and return it."""
        message = (await self.until(of_type("ui_message"), timeout))[-1]
        assert isinstance(message, Envelope)
        return message

    async def error(self, timeout: float = TIMEOUT) -> str:
        """Wait for the next ``system_error`` and return its content."""
        message = (await self.until(of_type("system_error"), timeout))[-1]
        assert isinstance(message, Envelope)
        assert isinstance(message.outputs, dict)
        return str(message.outputs["content"])


def _brief(message: Message) -> str:
    if isinstance(message, Malformed):
        return f"MALFORMED {message.raw[:80]!r}"
    return f"{message.type} {json.dumps(message.outputs)[:120]}"


def session_url(
    server: TestFlowRunner,
    session_id: str,
    *,
    resume_after: str | None = None,
    token: str | None = None,
) -> str:
    """The WebSocket URL of a session, with a resume point and the session's token if given."""
    url = f"{server.ws_url}/ws/{urllib.parse.quote(session_id, safe='')}"
    query = {"resume_after": resume_after, TOKEN_PARAM: token}
    if params := {key: value for key, value in query.items() if value is not None}:
        url += "?" + urllib.parse.urlencode(params)
    return url


@asynccontextmanager
async def open_client(
    server: TestFlowRunner,
    session_id: str | None = None,
    *,
    resume_after: str | None = None,
    token: str | None = None,
) -> AsyncIterator[DemoClient]:
    """A connected client on a (by default fresh) session; ``resume_after`` reconnects to
    it and has the server replay what was sent after that message id; ``token`` (the
    first client's :attr:`DemoClient.token`) lets a socket join an existing session."""
    session_id = session_id or str(uuid.uuid4())
    url = session_url(server, session_id, resume_after=resume_after, token=token)
    async with connect(url, max_size=None) as connection:
        yield DemoClient(connection, session_id)


async def refusal(url: str) -> Close:
    """Connect to ``url`` and return the close frame the server refused the socket with;
    fails if the server sent anything at all before closing it."""
    async with connect(url, open_timeout=TIMEOUT) as socket:
        try:
            async with asyncio.timeout(TIMEOUT):
                frame = await socket.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
        else:
            raise AssertionError(f"the server sent a frame to a socket it refused: {frame!r}")
    assert received is not None, "the server dropped the socket without a close frame"
    return received


def start_server(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> TestFlowRunner:
    """A fresh server process: storage (transcripts) and its captured output under ``tmp``."""
    runner = TestFlowRunner(
        [*DEFAULT_COMMAND, *extra],
        env={"FLOWWRIGHT_STORAGE": str(tmp / "storage"), **(env or {})},
        log_path=tmp / "output.log",
    )
    return runner.start()


def transcript_path(server: TestFlowRunner, session_id: str) -> Path:
    """Where the server (started by :func:`start_server`) keeps that session's transcript."""
    storage = Path(server.env["FLOWWRIGHT_STORAGE"])
    return storage / f"session-{storage_name(session_id)}.jsonl"


def sent_ids(server: TestFlowRunner, session_id: str) -> list[str]:
    """The message ids of every envelope the server sent to that session, in order: the
    server's own account, to hold what clients received against."""
    text = transcript_path(server, session_id).read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    return [json.loads(line["frame"])["message_id"] for line in lines if line["dir"] == ">"]


async def logged(server: TestFlowRunner, pattern: str, timeout: float = TIMEOUT) -> str:
    """Wait (without blocking the event loop) for a server log line matching ``pattern``."""
    return await asyncio.to_thread(server.wait_for_log, pattern, scaled(timeout))


def label(message: Message) -> str:
    """A short name for a message, so a whole run reads as one list (see :func:`timeline`)."""
    if isinstance(message, Malformed):
        return "malformed"
    data = message.outputs if isinstance(message.outputs, dict) else {}
    role = message.agent_info.role if message.agent_info else "?"
    match message.type:
        case "system_message" if str(data.get("content", "")).startswith("flow_started"):
            return "flow_started"
        case "system_message" if " joined: " in str(data.get("content", "")):
            return f"joined:{role}"
        case "system_message":
            return str(data.get("content"))
        case "system_update" if "agent_id" in data:
            return f"{data['status']}:{data['role']}"
        case "system_update":
            return f"progress:{data['status']}"
        case "ui_message":
            return "prompt"
        case "chat_message":
            return f"chat:{role}"
        case "system_error":
            return f"error:{data.get('source')}"
        case _:
            return message.type


def id_of(message: Message) -> str:
    """The message id of a received message (which the server always gives one)."""
    assert isinstance(message, Envelope), message
    assert message.message_id, message
    return message.message_id


def timeline(messages: list[Message]) -> list[str]:
    return [label(message) for message in messages]


def mcp_initialize(client_name: str) -> dict[str, Any]:
    """The JSON-RPC ``initialize`` request an MCP client opens a session with."""
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": client_name, "version": "0"},
        },
    }


async def run_beside(server: TestFlowRunner, stop: asyncio.Event) -> list[DemoClient]:
    """Normal osb flows, one after another until ``stop`` (at least one), each run to its
    end: what a fuzz must leave undisturbed."""
    finished = of_type("system_update", status="finished")
    runs: list[DemoClient] = []
    while not stop.is_set() or not runs:
        async with open_client(server) as client:
            await client.run_flow("osb", prompt="Is hate speech against migrants allowed?")
            await client.prompt()
            await client.answer(confirm=True)
            await client.until(finished)
        runs.append(client)
    return runs
