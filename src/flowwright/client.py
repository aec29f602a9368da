"""FlowTestClient: a WebSocket client that knows the flow lifecycle, for tests.

Every frame goes from the socket's callback straight to the :class:`MessageCollector`
(:mod:`flowwright.connection`: no reader task in between); every wait goes through the
:class:`FlowEventWaiter`. Waits match messages since the client's last action
(``start_flow``, a reply) by default, so a prompt that came back before the test asked for
it still counts; :meth:`FlowTestClient.expect` arms a wait before acting instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from flowwright.connection import ConnectionEnd, FrameConnection
from flowwright.conversation import Conversation
from flowwright.dialect import Dialect
from flowwright.errors import (
    ClientStateError,
    ConnectError,
    ConnectionLostError,
    FlowwrightWarning,
    ProtocolError,
)
from flowwright.match import Matcher
from flowwright.message import Message
from flowwright.protocol import Category, ManagerResponse, RunFlow, SessionResumed
from flowwright.server import FlowServer, RemoteServer
from flowwright.simulator import Reply, ResponseSimulator, interpret_reply
from flowwright.stream import FlowStream
from flowwright.waiter import FailOnError

__all__ = ["FlowTestClient"]

logger = logging.getLogger("flowwright.client")

SESSION_TOKEN_HEADER = "x-flowwright-session-token"
"""The handshake response header in which a server issues a session's secret."""

RESUMED = "session_resumed"
"""``outputs.content`` of the notice a resuming server sends after its replay, with the id
of the last reply it received (``last_reply_id``): the replies after it are sent again."""


class FlowTestClient(FlowStream):
    """Drives one session of a flow server and records everything it says.

    ``async with FlowTestClient.create() as client:`` connects to the pytest session's server
    (started on first use) or to ``url``; the block's end closes the connection.

    The client pings the server every ``ping_interval`` seconds and gives up on it only after
    ``ping_timeout`` seconds in which *nothing* arrived — frames count as a sign of life, so
    a long backlog never drops a healthy connection (``None`` turns either off). ``headers``
    are sent with the opening handshake.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        server: FlowServer | None = None,
        session_id: str | None = None,
        session_token: str | None = None,
        timeout: float | None = None,
        fail_on_error: FailOnError | None = None,
        dialect: Dialect | str | None = None,
        open_timeout: float = 10.0,
        max_size: int | None = 16 * 2**20,
        headers: Mapping[str, str] | None = None,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
    ) -> None:
        super().__init__(
            timeout=timeout,
            fail_on_error=fail_on_error,
            describe_state=self.describe,
            dialect=dialect,
        )
        self._url = url
        self.server: FlowServer | None = server
        self.session_id = session_id or uuid.uuid4().hex
        self.session_token = session_token
        """The session's secret, needed to join it again (the reference server issues it in
        the handshake's ``x-flowwright-session-token`` header; sent back as ``?token=``)."""
        self.open_timeout = open_timeout
        self.max_size = max_size
        self.headers = dict(headers or {})
        """Extra HTTP headers for the opening handshake (an ``Authorization``, say)."""
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self._ws: FrameConnection | None = None
        self._explaining: asyncio.Task[None] | None = None  # a drop's cause, being found
        self._closing = False
        self._cut_at: float | None = None  # when the test cut the connection itself
        self._runs_on_socket = 0
        self._flows: list[str] | None = None  # what the server lists, fetched once
        self._replies: list[tuple[str, str]] = []  # (message_id, frame) of replies sent

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
        return _session_url(self._url, self.session_id, self.dialect.session_path)

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
            if self.settings.server is None:
                raise ClientStateError(
                    "FlowTestClient.create() has no server to talk to: pass url='ws://host:port'"
                    " (outside pytest), or run under pytest with the flowwright plugin, which"
                    " starts the reference server or uses --flow-server-url"
                )
            self.server = await asyncio.to_thread(self.settings.server)
        if self.server is None and self._url is not None:
            self.server = RemoteServer(self._url)
        await self._open(self.url)
        self._watch_server()
        return self

    async def reconnect(self, *, resume: bool = True) -> Self:
        """Connect again to the same session, e.g. after the connection dropped.

        With ``resume``, and a server whose dialect can (the reference server), the server
        replays what it sent after the last message received here (``?resume_after=``) and
        says which of the test's replies it last received; those sent after it went missing
        in the cut and are sent again (the server applies each reply once). A server that
        cannot resume gets a plain reconnect, with a :class:`FlowwrightWarning` and a note in
        the transcript naming the gap in which messages may be missing.
        """
        if self._ws is None:
            raise ClientStateError("reconnect() needs a client that was connected once")
        # Dropped, not closed: a clean close tells a server the session is over.
        await self._shutdown(clean=False)
        self.waiter.reopen()
        url = self.url
        last = next(  # the newest first: no need to build the whole history
            (
                m
                for m in map(self.collector.__getitem__, range(self.collector.last_seq, 0, -1))
                if m.direction == "received" and m.envelope and m.envelope.message_id
            ),
            None,
        )
        resume_after = last.envelope.message_id if last and last.envelope else None
        resuming = resume and resume_after is not None and self.dialect.resumable
        if resuming:
            url += ("&" if "?" in url else "?") + urlencode({"resume_after": resume_after})
        elif resume:
            where = (
                f"after #{last.seq} (message_id {resume_after})"
                if last is not None
                else f"after #{self.collector.last_seq}"
            )
            gap = (
                f"reconnected without resume: a {self.dialect.name} server does not replay "
                f"what it sent while the test was away; messages {where} may be missing"
            )
            self.collector.note("reconnect", gap)
            warnings.warn(gap, FlowwrightWarning, stacklevel=2)
        mark = self.collector.last_seq
        await self._open(url)
        self.collector.note("reconnect", f"reconnected to {self.url}")
        if resuming and self._replies and self.dialect.reply_ids:
            await self._resend_replies(since=mark)
        return self

    async def _resend_replies(self, *, since: int) -> None:
        """Send again the replies the server did not receive before the cut (it says which
        it got last, in its resume notice)."""
        notice = await self.wait_for(
            lambda m: m.category == Category.LIFECYCLE and m.content == RESUMED,
            since=since,
            timeout=self.open_timeout,
            description=f"the server's {RESUMED!r} notice after a resume",
        )
        last = notice.payload(SessionResumed).last_reply_id
        ids = [reply_id for reply_id, _ in self._replies]
        missing = self._replies[ids.index(last) + 1 :] if last in ids else self._replies
        for reply_id, frame in missing:
            self.collector.note("resend", f"sending reply {reply_id} again: lost in the cut")
            await self._send_frame(frame)

    def cut_connection(self) -> None:
        """Drop the TCP connection without a closing handshake, as a network failure would.

        Recorded in the transcript; a wait it breaks says the test cut the connection."""
        if self._ws is None:
            raise ClientStateError("connect first")
        self._cut_at = self.collector.elapsed
        self.collector.note("cut", "the test cut the connection (cut_connection())")
        self._ws.abort()

    async def close(self) -> None:
        """Close the connection (a clean closing handshake); safe to call twice.

        Where the dialect says a server's flows outlive their socket (``halt_on_close``), a
        flow still running is halted first.
        """
        self._stop_watching_server()
        if self.dialect.halt_on_close and self.is_connected and self._flow_running():
            with contextlib.suppress(ConnectionLostError, OSError):
                await self.send(ManagerResponse(halt=True))
        await self._shutdown()

    def _flow_running(self) -> bool:
        runs = self.collector.filter(category=Category.SENT, type="run_flow", direction="sent")
        if not runs:
            return False
        return not any(m.is_flow_completed for m in self.collector.since(runs[-1].seq))

    async def _open(self, url: str) -> None:
        if self.session_token is not None and "token=" not in url:
            url += ("&" if "?" in url else "?") + urlencode({"token": self.session_token})
        self._closing = False
        self._cut_at = None
        self._runs_on_socket = 0
        try:
            self._ws = await FrameConnection.open(
                url,
                self.collector,
                on_end=self._ended,
                open_timeout=self.open_timeout,
                max_size=self.max_size,
                headers=self.headers,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise ConnectError(f"could not connect to {url}: {exc}", self.describe()) from None
        issued = self._ws.response.headers.get(SESSION_TOKEN_HEADER) if self._ws.response else None
        self.session_token = issued or self.session_token
        logger.debug("= connected to %s", url)

    async def _shutdown(self, *, clean: bool = True) -> None:
        self._closing = True
        if self._ws is not None:
            if clean:
                await self._ws.close()
            else:
                self._ws.abort()
                await self._ws.wait_closed()
        if self._explaining is not None:
            await self._explaining
            self._explaining = None

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _ended(self, connection: FrameConnection, end: ConnectionEnd) -> None:
        """The connection is gone: fail every wait, saying who closed it and why.

        Nothing a server sends stops the delivery of frames (the collector records what it
        cannot parse as malformed); should it fail all the same, every wait fails at once
        saying so, and the connection was dropped rather than left open and unread.
        """
        if connection is not self._ws:
            return  # a connection replaced by a reconnect: its end was told already
        if end.failure is not None:
            self.waiter.close(
                ConnectionLostError(
                    f"flowwright failed to take in a frame ({end.failure!r}), so it dropped the "
                    "connection rather than leave it unread: a flowwright bug, please report it"
                )
            )
        elif self._closing:
            self.waiter.close(ConnectionLostError("the test closed the connection"))
        elif self._cut_at is not None:
            self.waiter.close(
                ConnectionLostError(
                    f"the test cut the connection at +{self._cut_at:.3f}s (cut_connection()); "
                    "call reconnect() to resume the session",
                    code=end.code,
                )
            )
        else:
            lost = ConnectionLostError(end.describe(), code=end.code, reason=end.reason)
            if end.by == "server":  # a crash drops the socket an instant before the exit
                self._explaining = asyncio.create_task(
                    self._explain(lost), name=f"flowwright-lost-{self.url}"
                )
            else:
                self.waiter.close(lost)

    async def _explain(self, lost: ConnectionLostError) -> None:
        self.waiter.close(await self._why_lost(lost))

    def describe(self) -> str:
        """This client's and its server's state, for error messages."""
        if self._ws is None:
            state = "not connected"
        elif self.waiter.closed is not None:
            state = f"closed: {self.waiter.closed.message}"
        else:
            state = "open"
        lines = [
            f"client: session {self.session_id} at {self.url} ({state}; "
            f"dialect {self.dialect.name})"
        ]
        if self.server is not None:
            lines.append(self.server.describe(session=self.session_id))
        return "\n".join(lines)

    # ------------------------------------------------------------------ sending

    async def send(self, message: BaseModel | dict[str, Any] | str) -> Message:
        """Send one frame as is; it is recorded and becomes the client's last action."""
        if self._ws is None:
            raise ClientStateError("connect first: use 'async with FlowTestClient.create() as c'")
        needs_id = isinstance(message, ManagerResponse) and message.message_id is None
        if needs_id and self.dialect.reply_ids:
            assert isinstance(message, ManagerResponse)
            message = message.model_copy(update={"message_id": uuid.uuid4().hex})
        if isinstance(message, BaseModel):
            frame = message.model_dump_json(exclude_none=True)
        elif isinstance(message, dict):
            frame = json.dumps(message)
        else:
            frame = message
        sent = await self._send_frame(frame)
        if isinstance(message, ManagerResponse) and message.message_id is not None:
            self._replies.append((message.message_id, frame))
        return sent

    async def _send_frame(self, frame: str) -> Message:
        assert self._ws is not None
        if self.waiter.closed is not None:
            raise ConnectionLostError(
                f"cannot send, the connection is closed: {self.waiter.closed.message}",
                self.describe(),
            )
        # Recorded before it is written: the write is the last thing the test does before it
        # waits, so the server's answer finds the test ready for it.
        sent = self.collector.append(frame, direction="sent")
        try:
            await self._ws.send(frame)
        except ConnectionClosed as exc:
            why = (
                self.waiter.closed.message
                if self.waiter.closed is not None
                else self._ws.end.describe()
                if self._ws.end is not None
                else str(exc)
            )
            self.collector.note("unsent", f"#{sent.seq} was not sent: {why}")
            raise ConnectionLostError(f"cannot send: {why}", self.describe()) from None
        return sent

    async def start_flow(self, flow: str, prompt: str | None = None, **parameters: Any) -> Message:
        """Ask the server to run ``flow``; extra keywords become flow parameters.

        A flow the server does not list (``GET /api/flows``, where the dialect has it) fails
        at once, naming the flows it offers; so does a second run on a socket of a server
        that allows one (``one_flow_per_socket``).
        """
        if prompt is not None:
            parameters["prompt"] = prompt
        try:
            message = RunFlow(flow=flow, **parameters)
        except ValidationError as exc:
            raise ProtocolError(f"invalid run_flow for flow {flow!r}: {exc}") from None
        if self.dialect.one_flow_per_socket and self._runs_on_socket:
            raise ClientStateError(
                f"a flow was already started on this connection, and a {self.dialect.name} "
                "server runs one flow per socket (a second run_flow breaks its connection "
                "handler): open a new FlowTestClient for the next run"
            )
        flows = await self._offered_flows()
        if flows is not None and flow not in flows:
            raise ProtocolError(
                f"the server offers no flow {flow!r}: GET {self.dialect.flows_path} lists {flows}"
            )
        sent = await self.send(message)
        self._runs_on_socket += 1
        return sent

    def _http_answers(self) -> list[tuple[str, Any]]:
        if self._flows is None or self.dialect.flows_path is None:
            return []
        return [(self.dialect.flows_path, {"flow_choices": self._flows})]

    async def _offered_flows(self) -> list[str] | None:
        """The flows the server lists, fetched once; ``None`` when it cannot say."""
        path, server = self.dialect.flows_path, self.server
        if self._flows is None and path is not None and server is not None:
            self._flows = await asyncio.to_thread(_get_flows, server.base_url + path)
        return self._flows

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
            prompt = self.collector.latest(Category.PROMPT)
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


def _get_flows(url: str) -> list[str] | None:
    """``flow_choices`` of ``GET url``; ``None`` (no check) if the server does not answer it."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            choices = json.loads(response.read()).get("flow_choices")
    except (OSError, ValueError, AttributeError, urllib.error.URLError) as exc:
        logger.debug("= no flow list from %s: %r", url, exc)
        return None
    if isinstance(choices, list) and all(isinstance(name, str) for name in choices):
        return choices
    return None


def _session_url(url: str, session_id: str, session_path: str = "/ws/{session_id}") -> str:
    """``ws://host:port`` → ``ws://host:port/ws/<session>``; a URL with a path is kept."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path:
        path = session_path.format(session_id=session_id)
    elif path.endswith("/ws"):
        path = f"{path}/{session_id}"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))
