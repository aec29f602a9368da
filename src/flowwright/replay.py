"""ReplayServer: a recorded session served over a real WebSocket, as the recorded server did.

A test suite (or a UI) runs against a recording of a real server — Buttermilk's, say — without
that server: the replay answers the client's first frame (its ``run_flow``) with the frames
the server sent after it, each later client frame (a reply) with the frames that followed
that one, at the recorded pace or faster (``speed``), then stays open and silent, as a flow
that never ends would. It also answers ``GET /health``, ``/api/session`` and the REST paths the
recording holds (``/api/flows``), so it can stand in wherever a flow server is expected:
``--flow-server-cmd "flowwright replay SESSION.jsonl --port {port}"``. Each connection gets
the whole session from its start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from flowwright.loopback import host_refusal, origin_refusal, shown
from flowwright.recording import Recording, Segment, load_recording
from flowwright.server import ExitCallback

__all__ = ["ReplayServer", "parse_speed"]

logger = logging.getLogger("flowwright.replay")


def parse_speed(value: str | float | None) -> float | None:
    """``"max"`` (or ``None``): no delays; a positive number: that many times the recorded
    pace. Raises ``ValueError`` otherwise."""
    if value is None or value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        speed = 0.0  # not a number: refused below, in the same words as a bad number
    if not speed > 0 or speed == float("inf"):
        raise ValueError(f"speed must be a positive number or 'max', not {value!r}")
    return speed


class ReplayServer:
    """Serves ``recording`` on 127.0.0.1; ``async with ReplayServer(path) as server:``.

    ``speed`` multiplies the recorded pace (``10``: ten times faster; ``None`` or ``"max"``:
    no delays). It is a :class:`~flowwright.server.FlowServer`: pass it as a client's
    ``server`` and its state joins every diagnostic.
    """

    def __init__(
        self,
        recording: Recording | str | Path,
        *,
        speed: float | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.recording = (
            recording if isinstance(recording, Recording) else load_recording(recording)
        )
        self.source = None if isinstance(recording, Recording) else str(recording)
        self.speed = parse_speed(speed)
        self.host = host
        self.port = port
        self._server: Server | None = None
        self._served: list[str] = []  # what each connection was sent, for describe()

    # ------------------------------------------------------------------ FlowServer

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:<port>`` once started."""
        return f"ws://{self.host}:{self.port}"

    def describe(self, log_lines: int = 10, *, session: str | None = None) -> str:
        """What is replayed, and how far each connection got."""
        pace = "max speed" if self.speed is None else f"{self.speed:g}x the recorded pace"
        segments = len(self.recording.segments)
        lines = [
            f"server: replay of {self.source or 'a recording'} at {self.base_url} ({pace}; "
            f"{segments} segments)"
        ]
        lines += [f"  | {line}" for line in self._served[-log_lines:]]
        return "\n".join(lines)

    def log_tail(self, n: int = 20) -> list[str]:
        """How far each connection got (a replay's log)."""
        return self._served[-n:] if n > 0 else []

    def on_exit(self, callback: ExitCallback) -> Callable[[], None]:
        """Never called: a replay runs in the test's own process."""
        return lambda: None

    def wait_exited(self, timeout: float | None = None) -> int | None:
        """``None``: a replay has no process of its own to exit."""
        return None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Self:
        """Listen (on a free port when ``port`` is 0)."""
        self._server = await serve(
            self._serve, self.host, self.port, process_request=self._http, max_size=None
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        """Run until cancelled (the command line's loop)."""
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ serving

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        """Plain HTTP requests; ``None`` lets a WebSocket handshake go on."""
        host = request.headers.get("Host")
        refusal = host_refusal(host)
        status = HTTPStatus.MISDIRECTED_REQUEST
        if refusal is None:
            refusal = origin_refusal(request.headers.get("Origin"), host)
            status = HTTPStatus.FORBIDDEN
        if refusal is not None:
            logger.info("! refused %s: %s", shown(request.path), refusal)
            return _json(connection, status, {"error": refusal})
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        path = request.path.split("?", 1)[0]
        body: Any
        if path == "/health":
            body = {"status": "ok", "replay": self.source}
        elif path == "/api/session":
            body = {"session_id": str(uuid.uuid4())}
        elif path in self.recording.http:
            body = self.recording.http[path]
        elif path == "/api/flows":
            body = {"flow_choices": self.recording.flows}
        else:
            return _json(
                connection, HTTPStatus.NOT_FOUND, {"error": f"not in the recording: {path}"}
            )
        return _json(connection, HTTPStatus.OK, body)

    async def _serve(self, connection: ServerConnection) -> None:
        index = len(self._served)
        assert connection.request is not None  # the handshake is done before the handler runs
        self._served.append(f"connection {index + 1} ({connection.request.path}): connected")
        segments = self.recording.segments
        try:
            if segments and segments[0].trigger is None:
                await self._send(connection, segments.pop(0))
            for number, segment in enumerate(segments, 1):
                frame = await connection.recv()
                self._served[index] = (
                    f"connection {index + 1}: client frame {number} answered "
                    f"({len(segment.received)} frames)"
                )
                logger.debug("< %s", frame)
                await self._send(connection, segment)
            self._served[index] = f"connection {index + 1}: the recording is over; silent"
            async for _ in connection:  # stay open, as a flow that never ends does
                pass
        except ConnectionClosed:
            pass

    async def _send(self, connection: ServerConnection, segment: Segment) -> None:
        previous = segment.trigger.at if segment.trigger is not None else None
        for line in segment.received:
            if self.speed is not None and line.at is not None:
                gap = line.at - previous if previous is not None else 0.0
                if gap > 0:
                    await asyncio.sleep(gap / self.speed)  # the recorded pace is the point
            previous = line.at if line.at is not None else previous
            await connection.send(line.frame)


def _json(connection: ServerConnection, status: HTTPStatus, body: Any) -> Response:
    response = connection.respond(status, json.dumps(body))
    # respond() sets text/plain, and Headers' item assignment adds a header: replace it.
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response
