"""FlowProxy: a real WebSocket proxy between any client and any flow server, injecting faults.

One port on 127.0.0.1 takes everything a client opens: a WebSocket handshake is relayed to
the server's same path and query (``/ws/<session>?resume_after=...``) with the client's own
headers (origin, cookies, session tokens), and every frame, both ways, goes through the
faults; any other HTTP request (a UI's static files, ``/api``, ``/health``) is passed through
to the server byte for byte. The proxy speaks WebSocket to both sides, so what it injects is
what a real network or a real broken server would produce, and it records what it saw and
did: every frame in its own transcript, and each fault where the test reads it, in the
transcript of the client or page whose connection it touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from flowwright.context import current
from flowwright.dialect import Dialect
from flowwright.errors import ClientStateError
from flowwright.loopback import host_refusal
from flowwright.message import Message
from flowwright.proxy.connection import ProxyConnection as ProxyConnection
from flowwright.proxy.endpoint import ProxiedServer as ProxiedServer
from flowwright.proxy.faults import Fault, FrameFault, Outcome, Refuse, Reorder
from flowwright.proxy.http import _forwarded_head, _http_error, _response, _splice
from flowwright.proxy.lane import Frame, _Held, _Item, _Lane
from flowwright.proxy.scope import FaultScope as FaultScope
from flowwright.server import FlowServer
from flowwright.stream import FlowStream

__all__ = ["FlowProxy"]
# Names moved to modules of their own are imported above ``as`` themselves (an explicit
# re-export), so ``from flowwright.proxy.relay import ProxyConnection`` still type-checks.

logger = logging.getLogger("flowwright.proxy")

_HEAD_LIMIT = 64 * 1024
_NOT_FORWARDED = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "content-length",
        "proxy-authorization",
        "proxy-connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)
"""Handshake headers each hop makes for itself; every other header of the client's
handshake (Origin, Cookie, Authorization, x-flowwright-session-token...) goes to the server."""
_HOST = re.compile(rb"^host:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
"""The client's ``Host``: checked before anything is passed on, as the proxy rewrites it."""
_UPGRADE = re.compile(rb"^upgrade:[ \t]*websocket[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_HANDSHAKE_HEADERS = frozenset(
    {
        "upgrade",
        "connection",
        "sec-websocket-accept",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "date",
        "server",
        "content-length",
    }
)
"""A handshake response's own headers, which the proxy's handshake with the client sets."""


class FlowProxy(FlowStream):
    """A fault-injecting WebSocket (and HTTP) proxy in front of ``target``.

    ``async with FlowProxy(server) as proxy:`` listens on 127.0.0.1 (``port=0``: a free
    one) until the block ends; point clients at :attr:`url` (or :attr:`endpoint`), a browser
    at :attr:`http_url`. ``target`` is the server's URL or a
    :class:`~flowwright.server.FlowServer`. Faults are added with :meth:`fault`. The proxy is
    itself a flow stream: its collector holds every frame it relayed (the server's as
    received, the client's as sent) and a note of each thing it did, and can be awaited.
    """

    def __init__(
        self,
        target: str | FlowServer,
        *,
        port: int = 0,
        dialect: Dialect | str | None = None,
        seed: int = 0,
        open_timeout: float = 10.0,
    ) -> None:
        super().__init__(dialect=dialect, describe_state=self.describe)
        self._scope = current()  # the test whose clients' transcripts get the proxy's notes
        if isinstance(target, str):
            url, self.server = target, None
        else:
            url, self.server = target.ws_url, target
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise ValueError(
                f"the proxy's target {url!r} is not a ws://, wss://, http:// or https:// URL"
            )
        self._secure = parts.scheme in ("wss", "https")
        scheme = "wss" if self._secure else "ws"
        self.target = urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        """The server's WebSocket base URL; a client's path is appended to it."""
        self._target_host = parts.hostname
        self._target_port = parts.port or (443 if self._secure else 80)
        self._target_netloc = parts.netloc
        self._port = port
        self._bound = 0  # the port, once listening (kept after stop, for the transcript)
        self.open_timeout = open_timeout
        self.faults: list[Fault] = []
        """The faults in force, in the order they apply."""
        self.connections: list[ProxyConnection] = []
        """Every WebSocket relayed so far, oldest first."""
        self.endpoint = ProxiedServer(self)
        """The server as seen through the proxy, for clients:
        ``FlowTestClient.create(server=proxy.endpoint)``."""
        self._rng = random.Random(seed)
        self._front: asyncio.Server | None = None
        self._ws: Server | None = None
        self._ws_port = 0
        self._pending: dict[ServerConnection, ProxyConnection] = {}
        self._splices: set[asyncio.Task[None]] = set()
        self._reapers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._lanes_of: dict[int, tuple[_Lane, _Lane]] = {}

    # ------------------------------------------------------------------ where it listens

    @property
    def port(self) -> int:
        """The port the proxy listens on (known once started)."""
        if not self._bound:
            raise ClientStateError("the proxy is not started: use 'async with FlowProxy(...)'")
        return self._bound

    @property
    def url(self) -> str:
        """The proxy's WebSocket base URL (``ws://127.0.0.1:<port>``)."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        """The proxy's HTTP base URL, for a browser (``http://127.0.0.1:<port>``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def title(self) -> str:
        where = self.url if self._bound else "not started"
        return f"proxy ({where} → {self.target})"

    async def start(self) -> Self:
        """Listen on 127.0.0.1 (the front door) and on an inner port for WebSockets."""
        if self._front is not None:
            raise ClientStateError("this proxy is already started")
        self._ws = await serve(
            self._relay,
            "127.0.0.1",
            0,
            process_request=self._open_upstream,
            process_response=self._after_handshake,
            select_subprotocol=self._subprotocol,
            server_header=None,
            max_size=None,  # the server under test decides what is too large
            ping_interval=None,
        )
        self._ws_port = int(next(iter(self._ws.sockets)).getsockname()[1])
        self._front = await asyncio.start_server(
            self._accept, "127.0.0.1", self._port, limit=_HEAD_LIMIT
        )
        self._bound = int(self._front.sockets[0].getsockname()[1])
        self._watch_server()
        logger.debug("= proxy %s → %s", self.url, self.target)
        return self

    async def stop(self) -> None:
        """Stop listening and drop every connection still open; safe to call twice."""
        self._stop_watching_server()
        if self._front is not None:
            self._front.close()
        for writer in list(self._writers):
            writer.transport.abort()  # each splice then ends by itself
        for connection in self.connections:
            if connection.state in ("opening", "open"):
                connection.state = "closed"
                connection.abort()
        if self._ws is not None:
            self._ws.close()
            await self._ws.wait_closed()
        if self._splices:
            await asyncio.gather(*self._splices, return_exceptions=True)
        for reaper in list(self._reapers):
            reaper.cancel()  # their server connections were aborted above
        if self._reapers:
            await asyncio.gather(*self._reapers, return_exceptions=True)
        if self._front is not None:
            await self._front.wait_closed()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ faults

    def fault(self, *faults: Fault) -> FaultScope:
        """Faults for one block: ``async with proxy.fault(drop(category="result")) as f:``.

        They apply from the block's start to its end, in the order given, after those
        already in force; ``f.hits`` lists the frames they took.
        """
        if not faults:
            raise ValueError("fault() needs at least one fault: drop(), delay(...), cut(...)...")
        return FaultScope(self, faults)

    def add(self, *faults: Fault) -> None:
        """Put faults in force until :meth:`remove` (prefer the :meth:`fault` block)."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"not a fault: {fault!r} (use drop(), delay(), cut(), ...)")
            if isinstance(fault, Refuse):
                fault.arm(asyncio.get_running_loop().time())
            self.faults.append(fault)
            self.collector.note("fault", f"fault in force: {fault}")

    def remove(self, *faults: Fault) -> None:
        """Take faults out of force; frames they hold back (:func:`reorder`) are sent now."""
        for fault in faults:
            if fault in self.faults:
                self.faults.remove(fault)
                self.collector.note("fault", f"fault removed: {fault}")
        gone = set(map(id, faults))
        for lane in self._lanes:
            lane.release(lambda held: any(id(fault) in gone for fault in held.faults))

    def cut(self) -> None:
        """Cut every open connection now, both ways, as a network failure would."""
        for connection in self.connections:
            if connection.state == "open":
                self._note(connection, f"cut {connection.label} (proxy.cut())")
                self._cut(connection)

    def describe(self) -> str:
        """The proxy's state and faults, for error messages."""
        faults = ", ".join(f"{fault} ({len(fault.hits)} taken)" for fault in self.faults)
        actions = [m for m in self.collector if m.type == "proxy"][-3:]
        lines = [
            f"proxy: {self.url if self._bound else 'not started'} → {self.target}; "
            f"{len(self.connections)} connection(s); faults in force: {faults or 'none'}"
        ]
        lines += [f"  last: {m.content}" for m in actions]
        return "\n".join(lines)

    # ------------------------------------------------------------------ the relay

    @property
    def _lanes(self) -> Iterable[_Lane]:
        for pair in list(self._lanes_of.values()):
            yield from pair

    async def _open_upstream(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Before accepting a client: refuse it (a fault), or open its server connection with
        its path, query and headers; the server's refusal is passed back as it was."""
        path = request.path
        now = asyncio.get_running_loop().time()
        for fault in self.faults:
            if isinstance(fault, Refuse) and fault.take(path, now):
                text = f"refused a connection to {path} (HTTP {fault.status}; {fault})"
                self._note_path(path, text)
                return connection.respond(fault.status, f"flowwright proxy: {text}\n")
        headers = [
            (name, value)
            for name, value in request.headers.raw_items()
            if name.lower() not in _NOT_FORWARDED
        ]
        offered = [
            Subprotocol(part.strip())
            for value in request.headers.get_all("Sec-WebSocket-Protocol")
            for part in value.split(",")
            if part.strip()
        ]
        url = self.target + path
        try:
            upstream = await connect(
                url,
                additional_headers=headers,
                user_agent_header=None,
                subprotocols=offered or None,
                open_timeout=self.open_timeout,
                max_size=None,
                ping_interval=None,
                proxy=None,
            )
        except InvalidStatus as exc:
            answer = exc.response
            status = answer.status_code
            self._note_path(path, f"the server refused the connection to {path}: HTTP {status}")
            return _response(answer.status_code, answer.reason_phrase, answer.body, answer.headers)
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self._note_path(path, f"could not reach the server at {url}: {exc}")
            return connection.respond(502, f"flowwright proxy: cannot reach {url}: {exc}\n")
        number = len(self.connections) + 1
        proxied = ProxyConnection(number=number, path=path, upstream=upstream)
        self.connections.append(proxied)
        self._pending[connection] = proxied
        reaper = asyncio.create_task(self._reap_if_abandoned(connection, proxied))
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)
        return None

    async def _reap_if_abandoned(self, client: ServerConnection, proxied: ProxyConnection) -> None:
        """A client that leaves during its handshake never reaches the relay: close the
        server connection opened for it, which would otherwise stay open for good."""
        await client.wait_closed()
        if proxied.client is not None:
            return  # relayed: the relay closes both sides
        self._pending.pop(client, None)
        if proxied.state == "opening":
            proxied.state = "closed"
            self._note(proxied, f"{proxied.label}: the client left during its handshake")
        await proxied.upstream.close()

    def _subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The subprotocol the server chose, for the client."""
        proxied = self._pending.get(connection)
        return proxied.upstream.subprotocol if proxied is not None else None

    async def _after_handshake(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        """Pass the server's own handshake headers (a session token, a cookie) on to the
        client; a client handshake that failed after the server connection opened: close that."""
        proxied = self._pending.get(connection)
        if response.status_code == 101 and proxied is not None and proxied.upstream.response:
            for name, value in proxied.upstream.response.headers.raw_items():
                if name.lower() not in _HANDSHAKE_HEADERS:
                    response.headers[name] = value
        if response.status_code != 101:
            proxied = self._pending.pop(connection, None)
            if proxied is not None:
                proxied.state = "closed"
                await proxied.upstream.close()

    async def _relay(self, client: ServerConnection) -> None:
        proxied = self._pending.pop(client)
        proxied.client = client
        proxied.state = "open"
        self.collector.note("connect", f"{proxied.label} opened")
        down = _Lane(self, proxied, "server", proxied.upstream, client)
        up = _Lane(self, proxied, "client", client, proxied.upstream)
        self._lanes_of[id(proxied)] = (down, up)
        try:
            results = await asyncio.gather(
                down.read(), down.send(), up.read(), up.send(), return_exceptions=True
            )
            for result in results:
                if isinstance(result, Exception):
                    logger.error("! relay of %s failed", proxied.label, exc_info=result)
        finally:
            self._lanes_of.pop(id(proxied), None)
            if proxied.state == "open":
                proxied.state = "closed"
                self.collector.note("connect", f"{proxied.label} closed")
            await proxied.upstream.close()

    def _on_frame(self, lane: _Lane, data: Frame) -> None:
        """One frame from ``lane``'s source: record it, let the faults decide, schedule it."""
        proxied = lane.connection
        proxied.frames[lane.side] += 1
        message = self.collector.append(
            data, direction="received" if lane.side == "server" else "sent"
        )
        if lane.cutting or proxied.state == "cut":
            self.collector.note("proxy", f"{_describe(message)} lost in the cut")
            return
        outcome = Outcome(data)
        taken = [
            fault
            for fault in list(self.faults)
            if isinstance(fault, FrameFault) and self._takes(fault, message, proxied.path)
        ]
        for fault in taken:
            try:
                fault.apply(outcome, self._rng)
            except Exception as exc:  # a using= of the test's: say so, and leave the frame be
                self.collector.note(
                    "proxy", f"{fault} could not act on proxy#{message.seq}: {exc!r}"
                )
        if outcome.actions:
            self._note(
                proxied,
                f"{' and '.join(outcome.actions)} {_describe(message)} "
                f"({proxied.label}, {lane.arrow}; {', '.join(map(str, taken))})",
            )
        if outcome.cut == "before":
            lane.cutting = True
            lane.put(_Item("cut", lane.due(outcome.delay)))
            return
        due = lane.due(outcome.delay, outcome.transfer)
        items = [_Item("frame", due, outcome.data, message.seq) for _ in range(outcome.copies)]
        if outcome.hold and items:
            holders = [fault for fault in taken if isinstance(fault, Reorder)]
            lane.held.append(_Held(outcome.hold, items, list(holders)))
        elif items:
            lane.put(*items)
            lane.passed()
        if outcome.cut == "after":
            lane.cutting = True
            lane.put(_Item("cut", lane.due(0.0)))

    def _takes(self, fault: FrameFault, message: Message, path: str) -> bool:
        try:
            return fault.take(message, path)
        except Exception as exc:  # a predicate of the test's: say so, and let the frame pass
            self.collector.note("proxy", f"{fault} could not judge proxy#{message.seq}: {exc!r}")
            return False

    def _cut(self, connection: ProxyConnection) -> None:
        if connection.state in ("open", "opening"):
            connection.state = "cut"
            connection.abort()

    # ------------------------------------------------------------------ notes

    def _note(self, connection: ProxyConnection, text: str) -> None:
        """Record what the proxy did, here and in the transcript of the test's client or page
        on that connection (matched by the URL it opened through the proxy)."""
        self._note_path(connection.path, text)

    def _note_path(self, path: str, text: str) -> None:
        self.collector.note("proxy", text)
        logger.info("! %s", text)
        for stream in self._streams_on(path):
            stream.collector.note("proxy", text)

    def _streams_on(self, path: str) -> list[FlowStream]:
        where = urlsplit(path).path
        netloc = f"127.0.0.1:{self._bound}"
        found = []
        for stream in self._scope.streams or []:
            if not isinstance(stream, FlowStream) or isinstance(stream, FlowProxy):
                continue
            urls = [str(getattr(stream, "url", ""))]
            urls += [str(getattr(socket, "url", "")) for socket in getattr(stream, "sockets", ())]
            if any(urlsplit(url).netloc == netloc and urlsplit(url).path == where for url in urls):
                found.append(stream)
        return found

    # ------------------------------------------------------------------ the front door

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Every TCP connection: a WebSocket handshake goes to the relay, anything else to
        the server as it is (one request per connection, so each handshake comes here)."""
        task = asyncio.current_task()
        assert task is not None
        self._splices.add(task)
        self._writers.add(writer)
        try:
            try:
                async with asyncio.timeout(self.open_timeout):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()  # the client left before asking anything
                return
            except TimeoutError:
                await self._answer(writer, 408, f"no whole request within {self.open_timeout:g} s")
                return
            except asyncio.LimitOverrunError:
                await self._answer(writer, 431, f"a request head over {_HEAD_LIMIT} bytes")
                return
            asked = _HOST.search(head)
            refusal = host_refusal(asked.group(1).decode("latin-1") if asked else None)
            if refusal is not None:
                await self._answer(writer, 421, refusal)
                return
            if _UPGRADE.search(head):
                host, port, secure = "127.0.0.1", self._ws_port, False
            else:
                host, port, secure = self._target_host, self._target_port, self._secure
                head = _forwarded_head(head, self._target_netloc)
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    host, port, ssl=True if secure else None
                )
            except OSError as exc:
                text = f"flowwright proxy: cannot reach {host}:{port}: {exc}"
                writer.write(_http_error(502, text))
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                writer.close()
                return
            self._writers.add(up_writer)
            up_writer.write(head)
            await _splice(reader, writer, up_reader, up_writer)
        finally:
            self._splices.discard(task)
            self._writers.discard(writer)
            self._writers.difference_update(
                w for w in list(self._writers) if w.transport.is_closing()
            )

    async def _answer(self, writer: asyncio.StreamWriter, status: int, why: str) -> None:
        """Refuse a request the proxy cannot pass on (it never reaches the server), saying so."""
        text = f"refused a request: {why} (HTTP {status})"
        self.collector.note("proxy", text)
        logger.info("! %s", text)
        writer.write(_http_error(status, f"flowwright proxy: {text}"))
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()


def _describe(message: Message) -> str:
    """``proxy#12 result research_result from researcher``."""
    sender = f" from {message.role}" if message.role else ""
    kind = message.type or "frame"
    return f"proxy#{message.seq} {message.category} {kind}{sender}"
