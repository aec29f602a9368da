"""The benchmark's WebSocket server: stamped pongs and pipelined bursts, nothing else.

Run as its own process (``python bench/server.py --port 0``; it prints its URL and answers
``GET /health``, so :class:`flowwright.TestFlowRunner` starts and stops it like any flow
server), so that the client under test has the benchmark process's event loop to itself.
Every connection speaks three client frames, all JSON:

- ``{"type": "ping", "n": 7}`` → one envelope whose ``outputs.sent_ns`` is
  ``time.monotonic_ns()`` read just before the frame is written (see ``bench/timing.py``);
- ``{"type": "prepare", "count": N}`` → builds a burst of N small envelopes (numbered
  ``outputs.n`` 0..N-1, the last one ``flow_completed``) and answers ``ready``;
- ``{"type": "burst"}`` → writes the prepared burst to the socket in one go.

The burst is serialised ahead of time and written straight to the transport, so the server
can outrun any client: the measured rate is the client's, not the server's send loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response

__all__ = ["build_burst", "main"]

_PONG = (
    '{"type":"system_message","message_id":"%032x",'
    '"outputs":{"content":"pong","n":%d,"sent_ns":%d}}'
)
_ITEM = (
    '{"type":"system_update","message_id":"%032x",'
    '"outputs":{"source":"bench","status":"burst","n":%d}}'
)
_LAST = (
    '{"type":"system_message","message_id":"%032x",'
    '"outputs":{"content":"flow_completed","source":"bench","n":%d}}'
)


def build_burst(count: int) -> bytes:
    """``count`` server-to-client text frames (unmasked, as a server sends them), joined."""
    frames = [_ITEM % (n, n) for n in range(count - 1)] + [_LAST % (count - 1, count - 1)]
    return b"".join(Frame(Opcode.TEXT, text.encode()).serialize(mask=False) for text in frames)


def _health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/health":
        return connection.respond(HTTPStatus.OK, '{"status": "ok"}\n')
    return None


async def _serve_connection(ws: ServerConnection) -> None:
    burst = b""
    async for frame in ws:
        request = json.loads(frame)
        kind = request.get("type")
        if kind == "ping":
            n = int(request["n"])
            await ws.send(_PONG % (n, n, time.monotonic_ns()))
        elif kind == "prepare":
            burst = build_burst(int(request["count"]))
            await ws.send('{"type":"system_message","outputs":{"content":"ready"}}')
        elif kind == "burst":
            ws.transport.write(burst)


async def _main(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(
        _serve_connection,
        host,
        port,
        process_request=_health,
        compression=None,  # as cheap per frame as it gets: no deflate on either side
        max_size=2**20,
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
