"""FlowTestClient: a WebSocket client that knows the flow lifecycle, for tests.

One reader task appends every frame to the :class:`MessageCollector`; every wait goes
through the :class:`FlowEventWaiter`. Waits match messages since the client's last action
(``start_flow``, a reply) by default, so a prompt that came back before the test asked for
it still counts; :meth:`FlowTestClient.expect` arms a wait before acting instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from flowwright.collector import Message
from flowwright.config import settings
from flowwright.conversation import Conversation
from flowwright.errors import (
    ClientStateError,
    ConnectError,
    ConnectionLostError,
    ProtocolError,
)
from flowwright.protocol import Category, RunFlow
from flowwright.runner import FlowServer, RemoteServer
from flowwright.simulator import Reply, ResponseSimulator, interpret_reply
from flowwright.stream import FlowStream
from flowwright.waiter import Matcher

__all__ = ["FlowTestClient"]

logger = logging.getLogger("flowwright.client")


class FlowTestClient(FlowStream):
    """Drives one session of a flow server and records everything it says.

    ``async with FlowTestClient.create() as client:`` connects to the pytest session's server
    (started on first use) or to ``url``; the block's end closes the connection.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        server: FlowServer | None = None,
        session_id: str | None = None,
        timeout: float | None = None,
        fail_on_error: bool | None = None,
        open_timeout: float = 10.0,
        max_size: int | None = 16 * 2**20,
    ) -> None:
        super().__init__(timeout=timeout, fail_on_error=fail_on_error, describe_state=self.describe)
        self._url = url
        self.server: FlowServer | None = server
        self.session_id = session_id or uuid.uuid4().hex
        self.open_timeout = open_timeout
        self.max_size = max_size
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    @classmethod
    def create(cls, url: str | None = None, **options: Any) -> Self:
        """A client for ``url``, or for the session's server under pytest; use ``async with``."""
        return cls(url, **options)

    # ------------------------------------------------------------------ connection

    @property
    def url(self) -> str:
        """The session's WebSocket URL (known once connected when no URL was given)."""
        if self._url is None:
            if self.server is None:
                return "(not connected)"
            self._url = self.server.ws_url
        return _session_url(self._url, self.session_id)

    @property
    def title(self) -> str:
        return f"client ({self.url})"

    @property
    def is_connected(self) -> bool:
        """Whether the WebSocket is open."""
        return self._ws is not None and self.waiter.closed is None

    async def connect(self) -> Self:
        """Open the WebSocket (starting the session's server first if needed)."""
        if self._ws is not None:
            raise ClientStateError("this client is already connected; use a new client")
        if self._url is None and self.server is None:
            if settings.server is None:
                raise ClientStateError(
                    "FlowTestClient.create() has no server to talk to: pass url='ws://host:port'"
                    " (outside pytest), or run under pytest with the flowwright plugin, which"
                    " starts the reference server or uses --flow-server-url"
                )
            self.server = await asyncio.to_thread(settings.server)
        if self.server is None and self._url is not None:
            self.server = RemoteServer(self._url)
        await self._open(self.url)
        self._watch_server()
        return self

    async def reconnect(self, *, resume: bool = True) -> Self:
        """Connect again to the same session, e.g. after the connection dropped.

        With ``resume`` the server replays what it sent after the last message received here
        (``?resume_after=<message_id>``, a flowwright protocol extension), so nothing is lost
        or repeated; waits work again once reconnected.
        """
        if self._ws is None:
            raise ClientStateError("reconnect() needs a client that was connected once")
        await self._shutdown()
        self.waiter.reopen()
        url = self.url
        last = next(
            (
                m.envelope.message_id
                for m in reversed(self.messages)
                if m.direction == "received" and m.envelope and m.envelope.message_id
            ),
            None,
        )
        if resume and last:
            url += ("&" if "?" in url else "?") + urlencode({"resume_after": last})
        await self._open(url)
        return self

    def cut_connection(self) -> None:
        """Drop the TCP connection without a closing handshake, as a network failure would."""
        if self._ws is None:
            raise ClientStateError("connect first")
        self._ws.transport.abort()

    async def close(self) -> None:
        """Close the connection and stop the reader; safe to call twice."""
        self._stop_watching_server()
        await self._shutdown()

    async def _open(self, url: str) -> None:
        try:
            self._ws = await connect(url, open_timeout=self.open_timeout, max_size=self.max_size)
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise ConnectError(f"could not connect to {url}: {exc}", self.describe()) from exc
        self._closing = False
        self._reader = asyncio.create_task(self._read(self._ws), name=f"flowwright-read-{url}")
        logger.debug("= connected to %s", url)

    async def _shutdown(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader
            self._reader = None

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _read(self, ws: ClientConnection) -> None:
        """The one reader: every frame goes to the collector, which wakes the waits."""
        try:
            async for frame in ws:
                self.collector.append(frame)
        except ConnectionClosed:
            pass  # reported below, with the close code
        if self._closing:
            self.waiter.close(ConnectionLostError("the test closed the connection"))
            return
        lost = ConnectionLostError(
            f"the server closed the connection (code {ws.close_code}"
            f"{', ' + repr(ws.close_reason) if ws.close_reason else ''})",
            code=ws.close_code,
            reason=ws.close_reason or "",
        )
        self.waiter.close(await self._why_lost(lost))

    def describe(self) -> str:
        """This client's and its server's state, for error messages."""
        if self._ws is None:
            state = "not connected"
        elif self.waiter.closed is not None:
            state = f"closed: {self.waiter.closed.message}"
        else:
            state = "open"
        lines = [f"client: session {self.session_id} at {self.url} ({state})"]
        if self.server is not None:
            lines.append(self.server.describe())
        return "\n".join(lines)

    # ------------------------------------------------------------------ sending

    async def send(self, message: BaseModel | dict[str, Any] | str) -> Message:
        """Send one frame as is; it is recorded and becomes the client's last action."""
        if self._ws is None:
            raise ClientStateError("connect first: use 'async with FlowTestClient.create() as c'")
        if isinstance(message, BaseModel):
            frame = message.model_dump_json(exclude_none=True)
        elif isinstance(message, dict):
            frame = json.dumps(message)
        else:
            frame = message
        if self.waiter.closed is not None:
            raise ConnectionLostError(
                f"cannot send, the connection is closed: {self.waiter.closed.message}",
                self.describe(),
            )
        try:
            await self._ws.send(frame)
        except ConnectionClosed as exc:
            raise ConnectionLostError(f"cannot send: {exc}", self.describe()) from exc
        return self.collector.append(frame, direction="sent")

    async def start_flow(self, flow: str, prompt: str | None = None, **parameters: Any) -> Message:
        """Ask the server to run ``flow``; extra keywords become flow parameters."""
        if prompt is not None:
            parameters["prompt"] = prompt
        try:
            message = RunFlow(flow=flow, **parameters)
        except ValidationError as exc:
            raise ProtocolError(f"invalid run_flow for flow {flow!r}: {exc}") from None
        return await self.send(message)

    async def send_manager_response(
        self,
        reply: str | Reply | None = None,
        *,
        confirm: bool | None = None,
        halt: bool = False,
        interrupt: bool = False,
        content: str | None = None,
        selection: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Message:
        """Answer the flow as the human.

        ``send_manager_response("Yes, please proceed")`` is read in the context of the last
        prompt (an affirmative confirms, a negative rejects, other text is a correction);
        passing ``confirm=`` (or any other field) sends exactly those fields instead.
        """
        if isinstance(reply, Reply):
            return await self.send(reply.to_message())
        raw = confirm is not None or halt or interrupt or selection is not None or params
        if reply is not None and not raw:
            prompt = self._last(Category.PROMPT)
            return await self.send(interpret_reply(reply, prompt).to_message())
        return await self.send(
            Reply(
                content=reply if content is None else content,
                confirm=bool(confirm),
                halt=halt,
                interrupt=interrupt,
                selection=selection,
                params=params,
            ).to_message()
        )

    async def converse(
        self,
        simulator: ResponseSimulator,
        *,
        flow: str | None = None,
        prompt: str | None = None,
        until: Matcher | None = None,
        timeout: float | None = None,
        **parameters: Any,
    ) -> Conversation:
        """Let ``simulator`` answer every prompt until the flow completes (or ``until``).

        Starts ``flow`` first when given; returns the exchange since then as turns.
        """
        __tracebackhide__ = True
        if flow is not None:
            start = (await self.start_flow(flow, prompt, **parameters)).seq - 1
        else:
            start = self.last_action_seq
        async with simulator.attached(self):
            if until is None:
                await self.wait_for_completion(timeout=timeout, since=start)
            else:
                await self.wait_for(until, timeout=timeout, since=start)
        return Conversation(self.collector.since(start))


def _session_url(url: str, session_id: str) -> str:
    """``ws://host:port`` → ``ws://host:port/ws/<session>``; a URL with a path is kept."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path:
        path = f"/ws/{session_id}"
    elif path.endswith("/ws"):
        path = f"{path}/{session_id}"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))
