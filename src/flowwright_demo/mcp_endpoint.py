"""The ``/mcp`` endpoint, built on its first request.

Importing the MCP SDK is most of the reference server's boot time (about 0.7 s of 0.8 s),
and most runs never speak MCP. So this ASGI app imports ``mcp_server`` (and with it the
SDK), builds the MCP server and runs its session manager only when ``/mcp`` is first asked
for; until then the SDK is not even imported.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.abc
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from flowwright_demo.engine import FlowEngine

__all__ = ["LazyMCPEndpoint"]


class LazyMCPEndpoint:
    """An ASGI app for ``/mcp`` that builds the real one on first use.

    The MCP session manager must be entered and left in one task that lives as long as the
    server, so :meth:`running` (entered in the app's lifespan) holds a task group, and the
    first request starts the manager in a task of that group, not in its own.
    """

    def __init__(self, engine: FlowEngine, storage: Path, host: str) -> None:
        self._engine = engine
        self._storage = storage
        self._host = host
        self._app: ASGIApp | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._lock = anyio.Lock()

    @property
    def started(self) -> bool:
        """Whether the MCP server was built (some client asked for ``/mcp``)."""
        return self._app is not None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The server's lifetime (its lifespan): on exit, a started MCP server stops."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                self._group = None
                group.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or await self._start()
        await app(scope, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._lock:  # concurrent first requests build it once
            if self._app is None:
                if self._group is None:
                    raise RuntimeError("/mcp was called outside the app's lifespan")
                self._app = await self._group.start(self._serve)
        return self._app

    async def _serve(self, *, task_status: anyio.abc.TaskStatus[ASGIApp]) -> None:
        # In a thread: the import takes long enough to stall every WebSocket session.
        module = await anyio.to_thread.run_sync(
            importlib.import_module, "flowwright_demo.mcp_server"
        )
        server = module.create_mcp_server(self._engine, self._storage)
        # Its routes, as before this endpoint was lazy, without the SDK app's own lifespan
        # (the session manager runs here instead).
        router = Router(routes=server.streamable_http_app(host=self._host).routes)
        async with server.session_manager.run():
            task_status.started(router)
            await anyio.sleep_forever()
