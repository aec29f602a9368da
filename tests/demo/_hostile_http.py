"""Seeded hostile HTTP requests for the reference server: path traversal at the UI, junk in the
REST routes' names, malformed JSON-RPC at ``/mcp``, broken WebSocket handshakes and hostile
session ids, and requests that are not HTTP at all. Each is raw bytes, sent as they are."""

from __future__ import annotations

import json
import random
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from tests.demo._client import mcp_initialize
from tests.demo._raw_http import handshake, request

__all__ = ["CLASSES", "SECRET", "Probe", "hostile_requests"]

SECRET = "FLOWWRIGHT-SECRET-7f3a"
"""The content of a file just outside the UI directory: no answer may ever contain it."""

CLASSES = ("ui", "rest", "mcp", "handshake", "raw")

METHODS = ["GET"] * 6 + ["HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]

TRAVERSAL = [
    "..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "..%2f", "..%5c", "%252e%252e", "%c0%ae%c0%ae",
    "..\\..", ".", "", "etc", "passwd", "proc", "self", "environ", "secret.txt", "up", "leak.txt",
    "loop", "index.html", "_app", "%00", "a%00b", "~root", "%ff%fe", "%e2%80%ae",
]  # fmt: skip
SEPARATORS = ["/", "/", "/", "//", "%2f", "%5c", "\\"]

NAMES = [
    "osb", "chat", "nope", "..", "%2e%2e", "%00", "%ff", "%e2%98%83", "a" * 5000, "osb-sample",
    "%2f..%2f..%2fetc%2fpasswd", "'%22%3C", "%20",
]  # fmt: skip
REST = [
    "/health",
    "/api/session",
    "/api/flows",
    "/api/flows/{0}/info",
    "/api/flows/{0}/datasets/{1}/records",
]
QUERIES = ["", "", "?x=1", "?%zz", "?a=%00&a=%ff", "?" + "q" * 3000, "?&&==&"]

INITIALIZE = mcp_initialize("fuzz")
MCP_BODIES = [
    b"",
    b"{",
    b"{not json",
    b"[]",
    b"null",
    b"42",
    b'"text"',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}',
    b'{"jsonrpc":"2.0","id":1,"method":"nope"}',
    b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}',
    b'{"jsonrpc":"1.0","id":1,"method":"initialize"}',
    b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"../x","arguments":1}}',
    b'[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]',
    json.dumps(INITIALIZE).encode()[:-7],
    json.dumps(INITIALIZE).encode(),
]

SESSION_IDS = [
    "../../etc/passwd", "..", "%2e%2e%2f", "a%00b", "s%C3%A9ssion-%E2%98%83-%E2%80%AE", "%ED%A0%80",
    "%ff%fe", "x" * 200, "x" * 9000, "", "a%2Fb", "%20", "ok",
]  # fmt: skip
WS_QUERIES = [
    "", "?token=", "?token=%00%ff", "?token=" + "t" * 4000, "?resume_after=", "?resume_after=%00",
    "?resume_after=" + "r" * 4000, "?token=a&token=b&resume_after=1&resume_after=2", "?%%%",
]  # fmt: skip


@dataclass(frozen=True)
class Probe:
    """One hostile request: its class, its bytes, and whether it asks for a WebSocket."""

    kind: str
    data: bytes
    websocket: bool = False


def hostile_requests(seed: int, count: int) -> list[Probe]:
    """``count`` requests drawn from :data:`CLASSES` in turn, reproducible from ``seed``."""
    rng = random.Random(seed)
    makers = {"ui": _ui, "rest": _rest, "mcp": _mcp, "handshake": _handshake, "raw": _raw}
    return [makers[CLASSES[n % len(CLASSES)]](rng) for n in range(count)]


def _ui(rng: random.Random) -> Probe:
    parts = [rng.choice(TRAVERSAL) for _ in range(rng.randint(1, 8))]
    path = "".join(rng.choice(SEPARATORS) + part for part in parts)
    if rng.random() < 0.1:
        path = "/" + "a/" * rng.randint(100, 5000)
    return Probe("ui", request(rng.choice(METHODS), _target(path)))


def _rest(rng: random.Random) -> Probe:
    path = rng.choice(REST).format(rng.choice(NAMES), rng.choice(NAMES)) + rng.choice(QUERIES)
    return Probe("rest", request(rng.choice(METHODS), _target(path)))


def _mcp(rng: random.Random) -> Probe:
    headers: list[tuple[bytes, bytes]] = []
    if rng.random() < 0.8:
        headers.append((b"Accept", rng.choice([b"application/json, text/event-stream", b"*/*"])))
    if rng.random() < 0.8:
        headers.append((b"Content-Type", rng.choice([b"application/json", b"text/plain"])))
    for _ in range(rng.choice([0, 0, 1, 2])):
        session = rng.choice([b"bogus", b"../../etc", b"x" * 5000, b"%00", b""])
        headers.append((b"Mcp-Session-Id", session))
    if rng.random() < 0.2:
        headers.append((b"Mcp-Protocol-Version", rng.choice([b"1999", b"", b"2025-06-18"])))
    method = rng.choice(["POST"] * 5 + ["GET", "DELETE", "PUT"])
    body = rng.choice(MCP_BODIES) if method == "POST" else b""
    if rng.random() < 0.1:
        body = rng.randbytes(rng.randint(1, 2000))
    target = b"/mcp" + _target(rng.choice(["", "", "/x", "?a=1"]))
    return Probe("mcp", request(method, target, headers, body))


def _handshake(rng: random.Random) -> Probe:
    target = _target("/ws/" + rng.choice(SESSION_IDS) + rng.choice(WS_QUERIES))
    data = handshake(target)
    mutation = rng.randrange(8)
    if mutation == 1:
        data = data.replace(b"Sec-WebSocket-Key: ", b"Sec-WebSocket-Key: !!", 1)
    elif mutation == 2:
        data = data.replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8", 1)
    elif mutation == 3:  # not an upgrade after all (and not kept alive, to be read whole)
        data = data.replace(b"Connection: Upgrade", b"Connection: close", 1)
        if rng.random() < 0.5:
            data = data.replace(b"Upgrade: websocket\r\n", b"", 1)
    elif mutation == 4:
        data = data.replace(b"\r\n\r\n", b"\r\nX-Big: " + b"h" * 9000 + b"\r\n\r\n", 1)
    elif mutation == 5:
        many = b"".join(b"X-%d: v\r\n" % n for n in range(130))
        data = data.replace(b"\r\n\r\n", b"\r\n" + many + b"\r\n", 1)
    elif mutation == 6:
        data = data.replace(b"\r\n\r\n", b"\r\nOrigin: http://evil.test\r\n\r\n", 1)
    return Probe("handshake", data, websocket=True)


def _raw(rng: random.Random) -> Probe:
    choices: list[Callable[[], bytes]] = [
        # Ended by a blank line: a head never ended is waited for (uvicorn has no timeout).
        lambda: rng.randbytes(rng.randint(1, 300)) + b"\r\n\r\n",
        lambda: b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        lambda: b"G\x01T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        lambda: b"GET /a\x00b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        lambda: b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n",
        lambda: b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.test\r\n\r\n",
        lambda: b"GET /health HTTP/1.1\r\nHost: \xff\xfe\r\nConnection: close\r\n\r\n",
        lambda: b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
        lambda: request("GET", b"/health", [(b"X-Big", b"h" * 20_000)]),
        lambda: request("GET", b"/index.html", [(b"Range", b"bytes=" + b"0-1," * 500 + b"x")]),
        lambda: request("GET", b"http://evil.test/health"),
        lambda: request("GET", b"*"),
        lambda: b"\r\n" * 50,
    ]
    return Probe("raw", rng.choice(choices)())


def _target(path: str) -> bytes:
    """``path`` as a request target: printable ASCII, anything else percent-encoded."""
    return urllib.parse.quote(path, safe="/%?&=:~'\"<>\\!*").encode()
