"""The proxy's raw HTTP: requests passed through byte for byte, answers of its own.

Whatever reaches the proxy's front door that is not a WebSocket handshake (a UI's static
files, ``/api``, ``/health``) is spliced to the server unparsed, so the client gets what the
server sent. Bytes and heads only, no frames and no faults: kept apart from the relay, whose
front door uses them (they are private to :mod:`flowwright.proxy`).
"""

from __future__ import annotations

import asyncio
import contextlib
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.http11 import Response

__all__: list[str] = []  # the proxy's own helpers: nothing here is public

_CHUNK = 64 * 1024


async def _splice(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy bytes both ways until the far side is done; then close both."""

    async def client_to_far() -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(_CHUNK):
                up_writer.write(data)
                await up_writer.drain()
            if up_writer.can_write_eof():
                up_writer.write_eof()

    forward = asyncio.create_task(client_to_far())
    try:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await up_reader.read(_CHUNK):
                writer.write(data)
                await writer.drain()
    finally:
        forward.cancel()
        await asyncio.gather(forward, return_exceptions=True)
        for side in (writer, up_writer):
            side.close()


def _forwarded_head(head: bytes, netloc: str) -> bytes:
    """An HTTP request head for the server: its ``Host``, and one request per connection."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [lines[0]] + [
        line
        for line in lines[1:]
        if line.split(b":", 1)[0].strip().lower() not in (b"host", b"connection", b"keep-alive")
    ]
    kept += [b"Host: " + netloc.encode(), b"Connection: close"]
    return b"\r\n".join(kept) + b"\r\n\r\n"


def _http_error(status: int, text: str) -> bytes:
    body = (text + "\n").encode()
    return (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def _response(status: int, reason: str, body: bytes | bytearray, headers: Headers) -> Response:
    """The server's refusal of a handshake, for the client, as the server gave it."""
    kept = Headers(
        [
            (name, value)
            for name, value in headers.raw_items()
            if name.lower() not in ("content-length", "connection", "transfer-encoding")
        ]
    )
    kept["Content-Length"] = str(len(body))
    kept["Connection"] = "close"
    return Response(status, reason, kept, body)
