"""The benchmark's WebSocket server: stamped pongs, pipelined bursts, and who closed what.

Run as its own process (``python bench/server.py --port 0``; it prints its URL and answers
``GET /health``, so :class:`flowwright.TestFlowRunner` starts and stops it like any flow
server), so that the client under test has the benchmark process's event loop to itself.
Every connection (any path) speaks three client frames, all JSON; anything else is ignored:

- ``{"type": "ping", "n": 7}`` → one envelope whose ``outputs.sent_ns`` is
  ``time.monotonic_ns()`` read just before the frame is written (see ``bench/timing.py``);
- ``{"type": "prepare", "count": N, "fill": false}`` → makes ready a burst of N envelopes
  numbered ``outputs.n`` 0..N-1: N-1 progress updates, then ``flow_completed``. With
  ``"fill": true`` it is a conversation's history instead: a prompt, N progress updates, one
  agent result and ``flow_completed`` (N+3 frames). With ``"cut_after": k`` only the first
  k frames are written, then the server closes the connection (1011): a drop of the
  server's making, to check that the benchmark reports it as one. Answers ``ready``;
- ``{"type": "burst"}`` → writes the prepared burst to the socket in one go.

``GET /closes`` answers, per connection path, how each connection ended as this server saw
it: the close frame it received (code, reason) or none, and whether it sent one first. A
client that drops a connection itself (a keepalive timeout sends 1011) is thereby told apart
from a server that closed it. This server never pings: a client too busy to read its socket
must not be dropped by the server, so any drop the benchmark sees is the client's own.

Bursts are serialised once per shape and cached, then written straight to the transport, so
the server can outrun any client: the measured rate is the client's, not the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from functools import cache
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, CloseCode, Frame, Opcode
from websockets.http11 import Request, Response

__all__ = ["FRAME", "build_burst", "main"]

_AGENT = (
    '"agent_info":{"role":"RESEARCHER","agent_name":"researcher","agent_id":"RESEARCHER-a1b2c3"}'
)
FRAME = (
    '{"type":"system_update","message_id":"%032x","outputs":{"source":"researcher",'
    '"status":"progress","role":"RESEARCHER","n":%d,"content":"searched the corpus"},'
    '"timestamp":"2026-01-05T08:11:31.931917",' + _AGENT + "}"
)
"""A progress update shaped like the reference server's (about 330 bytes, like the frame of
the issue's memory figures): the bulk of every burst."""
_PONG = (
    '{"type":"system_message","message_id":"%032x","outputs":{"source":"bench",'
    '"content":"pong","n":%d,"sent_ns":%d},"timestamp":"2026-01-05T08:11:31.931917",' + _AGENT + "}"
)
_PROMPT = (
    '{"type":"ui_message","message_id":"%032x","outputs":{"content":"Shall I proceed?",'
    '"options":["confirm","reject"],"n":%d},"timestamp":"2026-01-05T08:11:31.931917"}'
)
_RESULT = (
    '{"type":"research_result","message_id":"%032x","outputs":{"content":"3 passages",'
    '"n":%d},"timestamp":"2026-01-05T08:11:31.931917","agent_info":{"role":"ANALYST",'
    '"agent_name":"analyst","agent_id":"ANALYST-d4e5f6","description":"weighs them"}}'
)
_LAST = (
    '{"type":"system_message","message_id":"%032x","outputs":{"source":"bench",'
    '"content":"flow_completed","n":%d},"timestamp":"2026-01-05T08:11:31.931917"}'
)


def _texts(count: int, fill: bool) -> list[str]:
    if not fill:
        return [FRAME % (n, n) for n in range(count - 1)] + [_LAST % (count - 1, count - 1)]
    last = count + 2
    return [
        _PROMPT % (0, 0),
        *(FRAME % (n, n) for n in range(1, count + 1)),
        _RESULT % (last - 1, last - 1),
        _LAST % (last, last),
    ]


@cache
def _frames(count: int, fill: bool) -> tuple[bytes, ...]:
    """The burst's server-to-client text frames (unmasked, as a server sends them)."""
    return tuple(
        Frame(Opcode.TEXT, text.encode()).serialize(mask=False) for text in _texts(count, fill)
    )


def build_burst(count: int, fill: bool = False, cut_after: int | None = None) -> bytes:
    """The burst's frames joined, or only the first ``cut_after`` of them."""
    return b"".join(_frames(count, fill)[:cut_after])


_closes: dict[str, dict[str, Any]] = {}


def _process_request(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/health":
        return connection.respond(HTTPStatus.OK, '{"status": "ok"}\n')
    if request.path == "/closes":
        return connection.respond(HTTPStatus.OK, json.dumps(_closes) + "\n")
    return None


def _close_frame(close: Close | None) -> dict[str, Any] | None:
    return None if close is None else {"code": close.code, "reason": close.reason}


def _record_close(ws: ServerConnection) -> None:
    """Keep how the connection ended: the close frames received and sent, and which came
    first (``close_rcvd_then_sent`` is ``None`` when either is missing)."""
    received, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
    _closes[ws.request.path if ws.request else "?"] = {
        "received": _close_frame(received),
        "sent": _close_frame(sent),
        "server_closed_first": sent is not None and ws.protocol.close_rcvd_then_sent is not True,
        "code": ws.close_code,
    }


async def _serve_connection(ws: ServerConnection) -> None:
    burst, cut = b"", None
    try:
        async for frame in ws:
            request = json.loads(frame)
            kind = request.get("type")
            if kind == "ping":
                n = int(request["n"])
                await ws.send(_PONG % (n, n, time.monotonic_ns()))
            elif kind == "prepare":
                cut = request.get("cut_after")
                burst = build_burst(int(request["count"]), bool(request.get("fill")), cut)
                await ws.send('{"type":"system_message","outputs":{"content":"ready"}}')
            elif kind == "burst":
                ws.transport.write(burst)
                if cut is not None:
                    await ws.close(CloseCode.INTERNAL_ERROR, f"bench: cut after {cut}")
    except ConnectionClosed:
        pass  # how it closed is recorded below
    finally:
        await ws.wait_closed()
        _record_close(ws)


async def _main(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(
        _serve_connection,
        host,
        port,
        process_request=_process_request,
        compression=None,  # as cheap per frame as it gets: no deflate on either side
        max_size=2**20,
        ping_interval=None,  # never drop a slow client: a drop must be the client's own
    ) as server:
        bound = next(iter(server.sockets)).getsockname()
        print(f"http://{bound[0]}:{bound[1]}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.host, args.port))


if __name__ == "__main__":
    main(sys.argv[1:])
