"""Raw HTTP over a plain socket, for requests no well-behaved client would send (bad
handshakes, oversize lines, NUL bytes): each request is written as given, and the whole
answer read until the server closes the connection, under a timeout."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
from dataclasses import dataclass

from flowwright.runner import TestFlowRunner
from tests.demo._client import TIMEOUT

__all__ = ["Answer", "exchange", "handshake", "port_of", "request"]


@dataclass(frozen=True)
class Answer:
    """What came back: the status (0 if no status line), the head's lines, the body."""

    status: int
    head: list[str]
    body: bytes

    def header(self, name: str) -> str | None:
        prefix = name.lower() + ":"
        for line in self.head[1:]:
            if line.lower().startswith(prefix):
                return line[len(prefix) :].strip()
        return None


def exchange(port: int, data: bytes, timeout: float = TIMEOUT) -> Answer:
    """Send ``data`` to 127.0.0.1:``port`` and read until the server closes the connection
    (or, once it switched protocols with a ``101``, to the end of that head, and hang up);
    fails, naming the request, if it neither answers nor closes within ``timeout``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may answer and close before taking it all: then read that answer.
        with contextlib.suppress(ConnectionResetError):
            sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                raise AssertionError(
                    f"no answer, and the connection still open, {timeout:g}s after "
                    f"{data[:120]!r}... ({len(data)} bytes); received {received[:200]!r}"
                ) from None
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
            if received.startswith(b"HTTP/1.1 101 ") and b"\r\n\r\n" in received:
                break  # an open WebSocket: closed here, without a closing handshake
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return Answer(status, lines, body)


def request(
    method: str, target: bytes, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b""
) -> bytes:
    """An HTTP/1.1 request for 127.0.0.1 that asks the server to close after answering."""
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers or []]
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def handshake(target: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """A WebSocket opening handshake for ``target`` with a fresh key, plus ``headers``."""
    key = base64.b64encode(os.urandom(16))
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Upgrade: websocket"]
    lines += [b"Connection: Upgrade", b"Sec-WebSocket-Key: " + key, b"Sec-WebSocket-Version: 13"]
    lines += [name + b": " + value for name, value in headers or []]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def port_of(server: TestFlowRunner) -> int:
    """The port a started server listens on."""
    return int(server.base_url.rsplit(":", 1)[1])
