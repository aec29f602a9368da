"""The Starlette app: health, the REST shapes Buttermilk's UI calls, ``WS /ws/{session_id}``,
the flows as MCP tools over Streamable HTTP at ``/mcp`` (``mcp_server.py``, built on first use
by ``mcp_endpoint.py``), and the built UI (``frontend/``) at ``/``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketClose

from flowwright_demo.corpus import Corpus
from flowwright_demo.engine import FlowEngine
from flowwright_demo.llm import LLM
from flowwright_demo.mcp_endpoint import LazyMCPEndpoint
from flowwright_demo.sessions import SessionRegistry
from flowwright_demo.settings import FlowDefinition, Settings

__all__ = ["create_app"]


def create_app(settings: Settings, storage: Path, corpus: Corpus, llm: LLM) -> Starlette:
    """The server's ASGI app; session transcripts are written under ``storage``."""
    engine = FlowEngine(settings, corpus, llm)
    registry = SessionRegistry(
        storage,
        buffer_size=settings.server.resume_buffer,
        grace_seconds=settings.server.resume_grace_seconds,
        on_expire=engine.abandon,
    )
    # The MCP SDK is imported, and the MCP server built, on the first request to /mcp.
    mcp = LazyMCPEndpoint(engine, storage, settings.server.host)

    def flow(request: Request) -> FlowDefinition:
        name = request.path_params["flow"]
        if name not in settings.flows:
            raise _NotFound(f"unknown flow {name!r} (available: {', '.join(settings.flows)})")
        return settings.flows[name]

    def datasets_of(definition: FlowDefinition) -> list[str]:
        return definition.datasets or corpus.datasets()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def new_session(request: Request) -> JSONResponse:
        return JSONResponse({"session_id": str(uuid.uuid4())})

    async def flows(request: Request) -> JSONResponse:
        return JSONResponse({"flow_choices": list(settings.flows)})

    async def flow_info(request: Request) -> JSONResponse:
        definition = flow(request)
        return JSONResponse(
            {
                "criteria": definition.criteria,
                "models": definition.models or [settings.server.llm],
                "datasets": datasets_of(definition),
            }
        )

    async def records(request: Request) -> JSONResponse:
        datasets, dataset = datasets_of(flow(request)), request.path_params["dataset"]
        if dataset not in datasets:
            raise _NotFound(f"unknown dataset {dataset!r} (datasets: {', '.join(datasets)})")
        return JSONResponse(
            [{"record_id": doc.doc_id, "name": doc.title} for doc in corpus.records(dataset)]
        )

    async def websocket(socket: WebSocket) -> None:
        """One socket of a session; ``?resume_after=<message_id>`` replays what it missed."""
        await socket.accept()
        session = registry.open(socket.path_params["session_id"])
        try:
            await engine.join(session, socket, socket.query_params.get("resume_after") or None)
            while (message := await socket.receive())["type"] == "websocket.receive":
                await engine.receive(session, message)
        finally:
            registry.leave(session, socket)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.running():
            yield
        await engine.shutdown()
        registry.shutdown()

    routes = [
        Route("/health", health),
        Route("/api/session", new_session),
        Route("/api/flows", flows),
        Route("/api/flows/{flow}/info", flow_info),
        Route("/api/flows/{flow}/datasets/{dataset}/records", records),
        WebSocketRoute("/ws/{session_id}", websocket),
        Route("/mcp", mcp),  # an ASGI app, not a function: it takes every method
    ]
    if settings.server.ui_path is not None:  # last: every route above wins over a file
        routes.append(Mount("/", app=_UI(settings.server.ui_path)))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={_NotFound: _not_found},
    )


class _NotFound(Exception):
    """A flow or dataset named in the URL does not exist (answered with a JSON 404)."""


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=404)


_UI_NOT_BUILT = "the UI is not built: run ./dev setup (npm ci && npm run build in frontend/)"


class _UI:
    """The built UI's files (``index.html`` at ``/``), or a JSON 404 saying how to build them.

    Whether the directory exists is checked per request, so building the UI while the
    server runs is enough.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a WebSocket to any path but /ws/{session_id}
            await WebSocketClose()(scope, receive, send)
        elif not self.directory.is_dir():
            await JSONResponse({"detail": _UI_NOT_BUILT}, status_code=404)(scope, receive, send)
        else:
            await self.files(scope, receive, send)
