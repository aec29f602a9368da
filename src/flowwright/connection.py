"""FrameConnection: the client's WebSocket, with nothing between the socket and the waits.

websockets' sans-I/O :class:`~websockets.client.ClientProtocol` parses the bytes an asyncio
transport hands to :meth:`FrameConnection.data_received`, and each complete message goes to
the sink (the collector) in that same callback; the collector settles the waits it decides
there and then. No reader task sits in between: the test's task is the only one woken, as
with a raw ``recv()``.

Pings are answered from the same callback. The keepalive's ping fails the connection only
if *nothing* arrived for ``ping_timeout`` after it: a connection busy delivering a backlog is
alive, even when the pong is queued behind a million frames. When a connection ends,
:class:`ConnectionEnd` says whose doing it was — the owner's (``close()``, ``abort()``),
flowwright's (a keepalive timeout, a frame it refused), or the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidMessage, PayloadTooBig
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import USER_AGENT, Response
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = ["ConnectionEnd", "FrameConnection", "Sink"]

logger = logging.getLogger("flowwright.connection")

Payload = bytes | bytearray | memoryview
"""A frame's data, as websockets' ``Frame.data`` types it."""
_WRITE_HIGH = 2**15  # bytes buffered before send() waits for the socket (as websockets)
_KEEPALIVE = "keepalive ping timeout"


class Sink(Protocol):
    """Where each complete message goes, from the transport's callback: the collector."""

    def append(self, frame: str | bytes) -> object: ...


Closer = Literal["owner", "flowwright", "server"]
"""Who ended a connection: its owner (``close()`` or ``abort()``), flowwright on the
owner's behalf (it gave up on the server, or refused what it sent), or the server."""


@dataclass(frozen=True, slots=True)
class ConnectionEnd:
    """How a connection ended, told from both close frames (or their absence).

    ``code``/``reason`` are those of the side that ended it: the close frame flowwright sent,
    or the one the server sent, or 1006 when the TCP connection ended without either.
    """

    by: Closer
    code: int
    reason: str
    cause: str
    """Why, in a clause (``"nothing arrived ... after a keepalive ping"``), or ``""``."""
    failure: BaseException | None = None
    """The sink's exception, when delivering a message failed (flowwright's own bug)."""

    def describe(self) -> str:
        """One truthful sentence: who closed the connection, with what code, and why."""
        who = {"owner": "the test", "flowwright": "flowwright", "server": "the server"}[self.by]
        reason = f" {self.reason!r}" if self.reason else ""
        cause = f": {self.cause}" if self.cause else ""
        return f"{who} closed the connection (code {self.code}{reason}){cause}"


OnEnd = Callable[["FrameConnection", ConnectionEnd], None]
"""Told once that a connection has ended, and how."""


class FrameConnection(asyncio.Protocol):
    """One client WebSocket connection; open it with :meth:`open`.

    Every text message is delivered to ``sink`` as ``str``, every binary one as ``bytes``,
    in order, from the transport's callback. ``on_end`` is called once the connection is
    gone (never for a connection whose opening handshake failed).
    """

    def __init__(
        self,
        url: str,
        sink: Sink,
        *,
        on_end: OnEnd | None = None,
        max_size: int | None = 2**20,
        headers: Mapping[str, str] | None = None,
        compression: bool = True,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float = 10.0,
    ) -> None:
        self.uri = parse_uri(url)
        self._max_size = max_size
        extensions = [ClientPerMessageDeflateFactory(compress_settings={"memLevel": 5})]
        self.protocol = ClientProtocol(
            self.uri, extensions=extensions if compression else None, max_size=max_size
        )
        self.sink = sink
        self.response: Response | None = None
        """The server's handshake response (its headers carry a session token, say)."""
        self._on_end = on_end
        self._headers = headers
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._close_timeout = close_timeout
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._fragments: list[Payload] = []
        self._fragment_opcode = Opcode.TEXT
        self._paused = False
        self._drains: list[asyncio.Future[None]] = []
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}  # payload -> pong, sent
        self._keepalives = 0  # keepalive pings sent
        self._keepalive_ping: bytes | None = None  # the keepalive's ping not answered yet
        self._ping_sent = 0.0  # when the keepalive's last ping went out
        self._heard = 0.0  # when anything last arrived: the keepalive's sign of life
        self._timer: asyncio.TimerHandle | None = None  # the keepalive's next step
        self._close_timer: asyncio.TimerHandle | None = None
        self._requested: Literal["close", "abort"] | None = None
        self._refused: str | None = None  # why flowwright failed the connection itself
        self._failure: BaseException | None = None
        self.end: ConnectionEnd | None = None
        """How the connection ended; ``None`` while it is open."""

    @classmethod
    async def open(
        cls,
        url: str,
        sink: Sink,
        *,
        open_timeout: float | None = 10.0,
        on_end: OnEnd | None = None,
        max_size: int | None = 2**20,
        headers: Mapping[str, str] | None = None,
        compression: bool = True,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float = 10.0,
    ) -> FrameConnection:
        """Connect to ``url`` and complete the opening handshake within ``open_timeout``.

        Raises what websockets' own ``connect()`` raises: ``OSError``, ``TimeoutError``,
        ``InvalidURI``, an ``InvalidHandshake`` (an HTTP 403 is an ``InvalidStatus``).
        """
        connection = cls(
            url,
            sink,
            on_end=on_end,
            max_size=max_size,
            headers=headers,
            compression=compression,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            close_timeout=close_timeout,
        )
        uri = connection.uri
        context = ssl.create_default_context() if uri.secure else None
        deadline = asyncio.timeout(open_timeout)
        try:
            async with deadline:
                await connection._loop.create_connection(
                    lambda: connection, uri.host, uri.port, ssl=context
                )
                await asyncio.shield(connection._opened)
        except BaseException:
            if connection._transport is not None:
                connection._transport.abort()
            if deadline.expired():
                raise TimeoutError(
                    f"no WebSocket handshake within open_timeout={open_timeout:g}s"
                ) from None
            raise
        return connection

    # ------------------------------------------------------------------ the owner's calls

    @property
    def state(self) -> State:
        """The WebSocket state (``State.OPEN``, ``State.CLOSED``, ...)."""
        return self.protocol.state

    @property
    def transport(self) -> asyncio.Transport:
        assert self._transport is not None, "not connected"
        return self._transport

    async def send(self, text: str) -> None:
        """Send one text message, waiting while the socket's buffer is full.

        Raises :class:`~websockets.exceptions.ConnectionClosed` once the connection is
        closing or closed (after it has closed, so that the exception says how)."""
        if self.protocol.state is not State.OPEN or self.transport.is_closing():
            await self.wait_closed()
            raise self.protocol.close_exc
        self.protocol.send_text(text.encode())
        self._flush()
        if self._paused:
            drained = self._loop.create_future()
            self._drains.append(drained)
            try:
                await drained
            except ConnectionError:
                await self.wait_closed()
                raise self.protocol.close_exc from None
            finally:
                self._drains.remove(drained)

    async def ping(self, data: bytes | None = None) -> Awaitable[float]:
        """Send a ping; the returned future resolves with the latency when its pong arrives
        (or raises :class:`~websockets.exceptions.ConnectionClosed`), as in websockets."""
        if self.protocol.state is not State.OPEN:
            await self.wait_closed()
            raise self.protocol.close_exc
        return self._ping(os.urandom(4) if data is None else data)

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """The closing handshake: send a close frame, wait until the server closes the TCP
        connection (at most ``close_timeout``, then drop it)."""
        if self.protocol.state is State.OPEN and not self.transport.is_closing():
            self._requested = self._requested or "close"
            self.protocol.send_close(code, reason)
            self._flush()
        await self.wait_closed()

    def abort(self) -> None:
        """Drop the TCP connection at once, without a closing handshake."""
        self._requested = self._requested or "abort"
        self.transport.abort()

    async def wait_closed(self) -> None:
        """Return once the connection is gone (:attr:`end` is then set)."""
        await asyncio.shield(self._lost)

    # ------------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.set_write_buffer_limits(_WRITE_HIGH)
        request = self.protocol.connect()
        if self._headers:
            request.headers.update(Headers(self._headers))
        request.headers.setdefault("User-Agent", USER_AGENT)
        self.protocol.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        self._heard = self._loop.time()
        protocol.receive_data(data)
        events = protocol.events_received()
        self._flush()  # pongs and close frames go back at once, before any delivery
        for event in events:
            if isinstance(event, Frame):
                if self._frame(event):
                    continue
                return  # the connection failed: nothing after it counts
            self._handshake(event)

    def eof_received(self) -> None:
        self.protocol.receive_eof()
        self._flush()  # the client's side of the TCP closing handshake

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.receive_eof()  # idempotent: the state is now CLOSED
        for timer in (self._timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        closed = self.protocol.close_exc
        for pong, _ in self._pings.values():
            _reject(pong, closed)
        self._pings.clear()
        for drained in self._drains:
            _reject(drained, ConnectionResetError("the connection is closed"))
        if not self._opened.done() or self._opened.exception() is not None:
            error = self.protocol.handshake_exc or exc
            _reject(
                self._opened,
                error or InvalidMessage("the connection closed during the opening handshake"),
            )
            self._lost.set_result(None)
            return  # never open: nothing to tell
        self.end = self._ending(exc)
        self._lost.set_result(None)
        logger.debug("= %s", self.end.describe())
        if self._on_end is not None:
            self._on_end(self, self.end)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for drained in self._drains:
            if not drained.done():
                drained.set_result(None)

    # ------------------------------------------------------------------ receiving

    def _handshake(self, response: object) -> None:
        assert isinstance(response, Response)
        self.response = response
        if self.protocol.handshake_exc is not None:
            _reject(self._opened, self.protocol.handshake_exc)
            return
        self._opened.set_result(None)
        if self._ping_interval is not None:
            self._timer = self._loop.call_later(self._ping_interval, self._send_keepalive)

    def _frame(self, frame: Frame) -> bool:
        """Deliver a data frame's message if complete; ``False`` when the connection failed."""
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if not frame.fin:
                self._fragment_opcode = opcode
                self._fragments = [frame.data]
                return True
            return self._deliver(opcode, frame.data)
        if opcode is Opcode.CONT:
            self._fragments.append(frame.data)
            if not frame.fin:
                return True
            data, self._fragments = b"".join(self._fragments), []
            return self._deliver(self._fragment_opcode, data)
        if opcode is Opcode.PONG:
            self._pong(bytes(frame.data))
        return True  # pings are answered and close frames echoed by the protocol itself

    def _deliver(self, opcode: Opcode, data: Payload) -> bool:
        if opcode is Opcode.TEXT:
            try:
                message: str | bytes = str(data, "utf-8")
            except UnicodeDecodeError as exc:
                self._refused = "the server sent a text message that is not UTF-8"
                self.protocol.fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
                self._flush()
                return False
        else:
            message = bytes(data)
        try:
            self.sink.append(message)
        except Exception as exc:  # a bug of ours: say so, and drop rather than go deaf
            logger.exception("! delivering a message from %s failed", self.uri)
            self._failure = exc
            self.abort()
            return False
        return True

    # ------------------------------------------------------------------ sending

    def _flush(self) -> None:
        transport = self._transport
        assert transport is not None
        for data in self.protocol.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():  # the end of the stream: half-close
                with contextlib.suppress(OSError, RuntimeError):  # a transport closing already
                    transport.write_eof()
            else:  # TLS cannot half-close
                transport.close()
        if self._close_timer is None and self.protocol.close_expected():
            self._close_timer = self._loop.call_later(self._close_timeout, transport.abort)

    def _ping(self, payload: bytes) -> asyncio.Future[float]:
        if payload in self._pings:
            raise ValueError(f"a ping with payload {payload!r} is already waiting for its pong")
        pong: asyncio.Future[float] = self._loop.create_future()
        self._pings[payload] = pong, self._loop.time()
        self.protocol.send_ping(payload)
        self._flush()
        return pong

    def _pong(self, payload: bytes) -> None:
        """A pong answers its ping and every one sent before it (a peer may skip some)."""
        if payload not in self._pings:
            return
        now = self._loop.time()
        for sent, (pong, at) in list(self._pings.items()):
            del self._pings[sent]
            if not pong.done():
                pong.set_result(now - at)
            if sent == self._keepalive_ping:
                self._keepalive_ping = None
            if sent == payload:
                break

    # ------------------------------------------------------------------ keepalive

    def _send_keepalive(self) -> None:
        """Ping every ``ping_interval``; check on the ping ``ping_timeout`` later."""
        self._timer = None
        if self.protocol.state is not State.OPEN:
            return
        self._keepalives += 1
        payload = b"fw" + struct.pack("!I", self._keepalives & 0xFFFFFFFF)
        self._ping(payload).add_done_callback(_retrieve)
        self._keepalive_ping, self._ping_sent = payload, self._loop.time()
        if self._ping_timeout is not None:
            self._timer = self._loop.call_later(self._ping_timeout, self._check_keepalive)
        elif self._ping_interval is not None:
            self._timer = self._loop.call_later(self._ping_interval, self._send_keepalive)

    def _check_keepalive(self) -> None:
        """Give up only after ``ping_timeout`` of silence: frames arriving are a sign of life
        as good as a pong (which may be queued behind them)."""
        assert self._ping_interval is not None
        assert self._ping_timeout is not None
        self._timer = None
        if self.protocol.state is not State.OPEN:
            return
        now = self._loop.time()
        if self._keepalive_ping is None:  # answered: the next ping, on schedule
            at = max(self._ping_sent + self._ping_interval, now)
            self._timer = self._loop.call_at(at, self._send_keepalive)
            return
        silent_since = max(self._heard, self._ping_sent)
        if now - silent_since < self._ping_timeout:
            at = silent_since + self._ping_timeout
            self._timer = self._loop.call_at(at, self._check_keepalive)
            return
        logger.debug("! nothing for %gs after a keepalive ping: failing", self._ping_timeout)
        self._refused = (
            f"nothing arrived from the server for {self._ping_timeout:g}s after a keepalive ping"
        )
        self.protocol.fail(CloseCode.INTERNAL_ERROR, _KEEPALIVE)
        self._flush()  # the close frame tells a server that is alive after all why
        self.transport.close()  # and no closing handshake is awaited from one that is not

    # ------------------------------------------------------------------ the end

    def _ending(self, exc: Exception | None) -> ConnectionEnd:
        """Whose end this was, from websockets' own account of both close frames."""
        closed = self.protocol.close_exc  # the connection is CLOSED: both frames are known
        sent, received = closed.sent, closed.rcvd
        if self._failure is not None:
            return ConnectionEnd(
                "flowwright", CloseCode.ABNORMAL_CLOSURE, "", "delivery failed", self._failure
            )
        if self._requested is not None:
            code = sent.code if sent is not None else CloseCode.ABNORMAL_CLOSURE
            how = "close()" if self._requested == "close" else "abort(): no closing handshake"
            return ConnectionEnd("owner", code, sent.reason if sent else "", how)
        if sent is not None and closed.rcvd_then_sent is not True:  # flowwright's close first
            return ConnectionEnd("flowwright", sent.code, sent.reason, self._why_refused(closed))
        if received is not None:
            return ConnectionEnd("server", received.code, received.reason, "")
        if exc is not None:
            cause = f"the connection was lost ({exc!r}) without a closing handshake"
        else:
            cause = "the TCP connection ended without a closing handshake"
        return ConnectionEnd("server", CloseCode.ABNORMAL_CLOSURE, "", cause)

    def _why_refused(self, closed: ConnectionClosed) -> str:
        if self._refused is not None:
            return self._refused
        error = closed.__cause__  # what the parser failed on, chained by websockets
        if isinstance(error, PayloadTooBig):
            limit = self._max_size
            return f"the server sent a message larger than max_size ({limit:,} bytes)"
        if error is not None:
            return f"the server broke the WebSocket protocol ({type(error).__name__})"
        return "the connection failed"


def _reject(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
        future.exception()  # retrieved: nobody may be awaiting it, and that is fine


def _retrieve(future: asyncio.Future[float]) -> None:
    if not future.cancelled():
        future.exception()
