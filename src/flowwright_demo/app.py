"""The Starlette app: health, the REST shapes Buttermilk's UI calls, ``WS /ws/{session_id}``,
the flows as MCP tools over Streamable HTTP at ``/mcp`` (``mcp_server.py``, built on first use
by ``mcp_endpoint.py``), and the built UI (package data built from ``frontend/``) at ``/``."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from flowwright.protocol import ErrorPayload, MessageType, envelope
from flowwright_demo.access import AccessGuard, AccessPolicy, deny, shown
from flowwright_demo.corpus import Corpus
from flowwright_demo.engine import FlowEngine
from flowwright_demo.llm import LLM
from flowwright_demo.mcp_endpoint import LazyMCPEndpoint
from flowwright_demo.sessions import (
    CLEAN_CLOSE_CODES,
    FORBIDDEN,
    TOKEN_HEADER,
    TOKEN_PARAM,
    Session,
    SessionForbidden,
    SessionRegistry,
    SessionsFull,
    SocketsFull,
    fit_to_file_limit,
)
from flowwright_demo.settings import FlowDefinition, Settings

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings, storage: Path, corpus: Corpus, llm: LLM, *, bind_host: str | None = None
) -> Starlette:
    """The server's ASGI app; session transcripts are written under ``storage``;
    ``bind_host`` (default ``server.host``) is a ``Host`` the app answers to."""
    engine = FlowEngine(settings, corpus, llm)
    max_sessions = fit_to_file_limit(settings.server.max_sessions)
    if max_sessions < settings.server.max_sessions:
        logger.warning(
            "! server.max_sessions lowered from %d to %d to fit the open-file limit "
            "(ulimit -n); raise that limit to serve more",
            settings.server.max_sessions,
            max_sessions,
        )
    registry = SessionRegistry(
        storage,
        buffer_size=settings.server.resume_buffer,
        grace_seconds=settings.server.resume_grace_seconds,
        on_end=engine.abandon,
        max_sessions=max_sessions,
        max_sockets_per_session=settings.server.max_sockets_per_session,
    )
    # The MCP SDK is imported, and the MCP server built, on the first request to /mcp.
    mcp = LazyMCPEndpoint(engine, storage, settings.server.host, max_sessions)

    def flow(request: Request) -> FlowDefinition:
        name = request.path_params["flow"]
        if name not in settings.flows:
            raise _NotFound(f"unknown flow {shown(name)} (available: {', '.join(settings.flows)})")
        return settings.flows[name]

    def datasets_of(definition: FlowDefinition) -> list[str]:
        return definition.datasets or corpus.datasets()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "sessions": len(registry),
                "max_sessions": registry.max_sessions,
                "max_sockets_per_session": registry.max_sockets_per_session,
            }
        )

    async def new_session(request: Request) -> JSONResponse:
        session_id, token = registry.reserve()
        return JSONResponse({"session_id": session_id, "session_token": token})

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
            raise _NotFound(f"unknown dataset {shown(dataset)} (datasets: {', '.join(datasets)})")
        return JSONResponse(
            [{"record_id": doc.doc_id, "name": doc.title} for doc in corpus.records(dataset)]
        )

    async def websocket(socket: WebSocket) -> None:
        """One socket of a session; ``?resume_after=<message_id>`` replays what it missed,
        ``?token=`` is the session's secret (needed once the session exists)."""
        resume_after = socket.query_params.get("resume_after") or None
        try:
            session = registry.admit(
                socket.path_params["session_id"],
                socket.query_params.get(TOKEN_PARAM),
                socket,
                resume=resume_after is not None,
            )
        except (SessionsFull, SocketsFull) as full:
            logger.warning("! socket refused: %s", full)
            await deny(socket, JSONResponse({"error": str(full)}, status_code=503))
            return
        except SessionForbidden as forbidden:
            logger.warning("! socket refused: %s", forbidden)
            await socket.accept()  # then closed with a code and reason a browser can read
            await socket.close(FORBIDDEN, _reason(str(forbidden)))
            return
        clean = False
        try:
            await socket.accept(headers=[(TOKEN_HEADER.encode(), session.token.encode())])
            await engine.join(session, socket, resume_after)
            while (message := await socket.receive())["type"] == "websocket.receive":
                await _answer(engine, session, message)
            clean = message.get("code") in CLEAN_CLOSE_CODES
        finally:
            registry.leave(session, socket, clean=clean)

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
        ui = _UI(settings.server.ui_path, packaged=settings.server.ui_dir is None)
        routes.append(Mount("/", app=ui))
    policy = AccessPolicy.from_settings(settings.server, bind_host)
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={_NotFound: _not_found},
        middleware=[Middleware(AccessGuard, policy=policy)],
    )


def _reason(text: str) -> str:
    """``text`` cut to the 123 bytes a WebSocket close reason may have (RFC 6455)."""
    return text.encode()[:123].decode(errors="ignore")


async def _answer(engine: FlowEngine, session: Session, message: Mapping[str, Any]) -> None:
    """Hand one frame to the engine; should it fail unexpectedly, the client still gets an
    answer (a ``system_error``) and the connection goes on."""
    try:
        await engine.receive(session, message)
    except Exception as exc:
        logger.exception("! %s internal error on a frame", session.id)
        error = ErrorPayload(
            source="server", content=f"internal error: the server failed on this frame ({exc!r})"
        )
        await session.send(envelope(MessageType.SYSTEM_ERROR, error))


class _NotFound(Exception):
    """A flow or dataset named in the URL does not exist (answered with a JSON 404)."""


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=404)


_NO_SOCKET_HERE = (
    "no WebSocket at this path: a session's socket is /ws/{session_id}, the id one non-empty "
    "path segment"
)


class _UI:
    """The built UI's files (``index.html`` at ``/``), or a JSON 404 saying why there are none.

    Whether the directory exists is checked per request, so building the UI while the
    server runs is enough.
    """

    def __init__(self, directory: Path, *, packaged: bool) -> None:
        self.directory = directory
        self.files = _Files(directory=directory, html=True, check_dir=False)
        self.missing = (
            f"the reference UI is not part of this installation: {directory} does not exist. "
            "It is built from a flowwright checkout (npm ci && npm run build in frontend/) "
            "before the package is installed or its wheel is built; or set server.ui_dir to a "
            "built UI of your own"
            if packaged
            else f"the UI directory {directory} (server.ui_dir) does not exist"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a WebSocket to any path but /ws/{session_id}
            response = JSONResponse({"error": _NO_SOCKET_HERE}, status_code=404)
            await deny(WebSocket(scope, receive, send), response)
        elif not self.directory.is_dir():
            await JSONResponse({"detail": self.missing}, status_code=404)(scope, receive, send)
        else:
            await self.files(scope, receive, send)


class _Files(StaticFiles):
    """Starlette's static files, where a path the OS cannot look up is a file not found.

    Starlette answers a missing file, a name too long and a NUL byte with 404, but lets
    other lookup errors escape as a 500 with a traceback: a symlink loop in the directory
    (ELOOP) was one, asked for by any client.
    """

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        try:
            return super().lookup_path(path)
        except PermissionError:
            raise  # Starlette's own answer to it (401) stands
        except OSError:
            return "", None
