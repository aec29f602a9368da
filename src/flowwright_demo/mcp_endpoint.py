"""The ``/mcp`` endpoint, built on its first request.

Importing the MCP SDK is most of the reference server's boot time (about 0.7 s of 0.8 s),
and most runs never speak MCP. So this ASGI app imports ``mcp_server`` (and with it the
SDK), builds the MCP server and runs its session manager only when ``/mcp`` is first asked
for; until then the SDK is not even imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from flowwright_demo.engine import FlowEngine

__all__ = ["LazyMCPEndpoint"]


class LazyMCPEndpoint:
    """An ASGI app for ``/mcp`` that builds the real one on first use.

    The MCP session manager must be entered and left in one task that lives as long as the
    server: the first request starts that task, :meth:`running` (the app's lifespan) ends
    it. Plain asyncio, not anyio: importing anyio here would cost the boot it saves.
    """

    def __init__(self, engine: FlowEngine, storage: Path, host: str, max_sessions: int) -> None:
        self._engine = engine
        self._storage = storage
        self._host = host
        self._max_sessions = max_sessions
        self._app: ASGIApp | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        """Whether the MCP server was built (some client asked for ``/mcp``)."""
        return self._app is not None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The server's lifetime (its lifespan): on exit, a started MCP server stops."""
        self._running = True
        try:
            yield
        finally:
            self._running = False
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or await self._start()
        await app(scope, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._lock:  # concurrent first requests build it once
            if self._app is None:
                if not self._running:
                    raise RuntimeError("/mcp was called outside the app's lifespan")
                ready: asyncio.Future[ASGIApp] = asyncio.get_running_loop().create_future()
                self._task = asyncio.create_task(self._serve(ready), name="mcp-session-manager")
                self._app = await ready
        return self._app

    async def _serve(self, ready: asyncio.Future[ASGIApp]) -> None:
        try:
            # In a thread: the import takes long enough to stall every WebSocket session.
            module = await asyncio.to_thread(importlib.import_module, "flowwright_demo.mcp_server")
            security = importlib.import_module("mcp.server.transport_security")
            server = module.create_mcp_server(self._engine, self._storage)
            # Its routes, as before this endpoint was lazy, without the SDK app's own
            # lifespan (the session manager runs here instead).
            # The app's AccessGuard already checks Host and Origin on /mcp as on every route,
            # with server.allowed_hosts/allowed_origins; the SDK's own, narrower check would
            # refuse what the configuration allows.
            unguarded = security.TransportSecuritySettings(enable_dns_rebinding_protection=False)
            # An MCP session costs ~40 KB until its client deletes it or it idles for 30 min:
            # bounded by server.max_sessions as the WebSocket sessions are (a 503 beyond it),
            # not by the SDK's 10,000.
            app = server.streamable_http_app(
                host=self._host, transport_security=unguarded, max_sessions=self._max_sessions
            )
            router = Router(routes=app.routes)
        except asyncio.CancelledError:  # the server stops while the first request waits
            ready.cancel()
            raise
        except Exception as exc:  # that request fails with it; the next one tries again
            ready.set_exception(exc)
            return
        async with server.session_manager.run():
            ready.set_result(router)
            await asyncio.Event().wait()  # until the lifespan cancels this task
