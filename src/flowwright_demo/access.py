"""Who may talk to the server: ``Host`` and ``Origin`` checks on every route, before the app.

Browsers let any page open a WebSocket to 127.0.0.1 (the same-origin policy does not cover
WebSockets), and a DNS name rebound to 127.0.0.1 makes the browser treat this server as the
attacker's site. The browser's own headers give both away: ``Origin`` names the page's site,
``Host`` the name the browser thinks it is talking to. Clients that are not browsers send no
``Origin`` and are let in; the MCP endpoint keeps its own, equivalent check (the MCP SDK's).
"""

from __future__ import annotations

import logging
import urllib.parse
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from flowwright.loopback import is_loopback, shown
from flowwright_demo.settings import ServerSettings

# shown is the framework's (flowwright.loopback), used by the demo's every refusal: one rule.
__all__ = ["AccessGuard", "AccessPolicy", "Refusal", "deny", "quiet_denials", "shown"]

logger = logging.getLogger(__name__)

_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
"""Bind addresses that name no host (every interface): they add no allowed ``Host``."""


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, and the HTTP status that says so (421 Host, 403 Origin)."""

    status: int
    reason: str


@dataclass(frozen=True)
class AccessPolicy:
    """Allowed: loopback names and the bind address as ``Host``; no ``Origin``, a loopback
    page, a page of this very server, or one of ``allowed_origins`` as ``Origin``."""

    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    bind_host: str = "127.0.0.1"

    @classmethod
    def from_settings(cls, server: ServerSettings, bind_host: str | None = None) -> AccessPolicy:
        return cls(
            allowed_hosts=tuple(server.allowed_hosts),
            allowed_origins=tuple(server.allowed_origins),
            bind_host=bind_host or server.host,
        )

    def check(self, host: str | None, origin: str | None) -> Refusal | None:
        """Why a request with these headers is refused; None when it may go on."""
        if not self._host_allowed(host):
            return Refusal(
                421,
                f"Host {shown(host)} is not allowed: this server answers to loopback names"
                f"{self._bind_note()}; add the name to server.allowed_hosts to serve it "
                "(a guard against DNS rebinding)",
            )
        if origin is not None and not self._origin_allowed(origin, host or ""):
            return Refusal(
                403,
                f"Origin {shown(origin)} is not allowed: only pages on loopback hosts and on this "
                "server itself may connect; add the origin to server.allowed_origins to let "
                "that site in",
            )
        return None

    def _bind_note(self) -> str:
        return "" if self.bind_host in _WILDCARD_BINDS else f" and {self.bind_host!r}"

    def _host_allowed(self, host: str | None) -> bool:
        if "*" in self.allowed_hosts:
            return True
        parsed = _split_host(host or "")
        if parsed is None:
            return False
        name, port = parsed
        if is_loopback(name) or name == self.bind_host.strip("[]").lower():
            return True
        return any(_host_matches(entry, name, port) for entry in self.allowed_hosts)

    def _origin_allowed(self, origin: str, host: str) -> bool:
        if "*" in self.allowed_origins or origin in self.allowed_origins:
            return True
        page = _split_origin(origin)
        if page is None:
            return False  # "null" (sandboxed or file: pages) unless listed as such above
        scheme, name, netloc = page
        if is_loopback(name) or netloc == host.lower():
            return True  # a loopback page, or this server's own (its Host was checked above)
        for entry in self.allowed_origins:
            allowed = _split_origin(entry[:-2] if entry.endswith(":*") else entry)
            if allowed is None:
                continue
            if entry.endswith(":*") and allowed[:2] == (scheme, name):
                return True
            if allowed[2] == netloc and allowed[0] == scheme:
                return True
        return False


class AccessGuard:
    """ASGI middleware: a request or socket the :class:`AccessPolicy` refuses gets a JSON
    error (a WebSocket: before it is accepted, as an HTTP denial response)."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.policy.check(headers.get("host"), headers.get("origin"))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        logger.warning("! %s %s refused: %s", scope["type"], scope["path"], refusal.reason)
        response = JSONResponse({"error": refusal.reason}, status_code=refusal.status)
        if scope["type"] == "http":
            await response(scope, receive, send)
        else:
            await deny(WebSocket(scope, receive, send), response)


async def deny(socket: WebSocket, response: JSONResponse) -> None:
    """Refuse a WebSocket before accepting it: with ``response`` where the ASGI server can
    send one (uvicorn can), else with the plain 403 a close before accept becomes."""
    _denied.set(True)
    if "websocket.http.response" in socket.scope.get("extensions", {}):
        await socket.send_denial_response(response)
    else:
        await socket.close(code=1008)


_denied: ContextVar[bool] = ContextVar("flowwright_demo_denied", default=False)
"""Set in the task of a socket :func:`deny` refused (the ASGI server logs from that task)."""

_NO_HANDSHAKE = "ASGI callable returned without completing handshake."


def quiet_denials(record: logging.LogRecord) -> bool:
    """A filter for ``uvicorn.error``: drops the error uvicorn logs after every denial
    response, as if the app had forgotten the handshake.

    uvicorn 0.54's websockets-sansio protocol does not mark the handshake complete once it
    has sent a denial response (Kludex/uvicorn#3138, open as of 0.54.0); the client gets
    the response all the same. Only sockets :func:`deny` refused are concerned.
    """
    return not (_denied.get() and record.getMessage() == _NO_HANDSHAKE)


def _split_host(host: str) -> tuple[str, int | None] | None:
    """``name[:port]`` (``[v6][:port]``) as (lower-case name, port); None if malformed."""
    try:
        url = urllib.parse.urlsplit("//" + host)
        port = url.port
    except ValueError:
        return None
    if not url.hostname or url.username is not None or url.path or url.query or url.fragment:
        return None
    return url.hostname, port


def _split_origin(origin: str) -> tuple[str, str, str] | None:
    """``scheme://name[:port]`` as (scheme, name, ``name[:port]``), lower-case; None if it
    is not an http(s) origin."""
    try:
        url = urllib.parse.urlsplit(origin.lower())
        url.port  # noqa: B018 - validates the port
    except ValueError:
        return None
    if url.scheme not in {"http", "https"} or not url.hostname or url.path not in {"", "/"}:
        return None
    return url.scheme, url.hostname, url.netloc


def _host_matches(entry: str, name: str, port: int | None) -> bool:
    """``name`` and ``name:*`` match any port, ``name:8000`` that port only."""
    parsed = _split_host(entry[:-2] if entry.endswith(":*") else entry)
    return parsed is not None and parsed[0] == name and parsed[1] in {None, port}
