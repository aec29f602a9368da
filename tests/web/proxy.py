"""A UI on another origin than its flow server, as a dev server serves one: ``python -m
tests.web.proxy --port N --upstream http://127.0.0.1:M``.

It serves the reference UI's built files itself and proxies ``/api/*`` and ``/ws/*`` to the flow
server, as ``vite dev`` does for Buttermilk's UI; its page also opens a live-reload socket
(``/vite-hmr``, which sends vite's ``{"type": "connected"}``) that is no part of the flow.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from flowwright_demo.settings import packaged_ui_dir

__all__ = ["LIVE_RELOAD", "create_proxy"]

LIVE_RELOAD = "/vite-hmr"
_RELOAD_SCRIPT = (
    "<script>new WebSocket(`ws://${location.host}" + LIVE_RELOAD + "`);</script></head>"
)


def create_proxy(upstream: str) -> Starlette:
    """The UI's files, and the flow server at ``upstream`` behind ``/api`` and ``/ws``."""
    ui = packaged_ui_dir()
    ws_upstream = upstream.replace("http", "ws", 1)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def index(request: Request) -> HTMLResponse:
        html = (ui / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html.replace("</head>", _RELOAD_SCRIPT, 1))

    async def api(request: Request) -> Response:
        async with httpx.AsyncClient(base_url=upstream) as client:
            answer = await client.get(request.url.path, params=request.query_params)
        return Response(answer.content, answer.status_code, media_type="application/json")

    async def flow_socket(socket: WebSocket) -> None:
        query = f"?{socket.url.query}" if socket.url.query else ""
        origin = Origin(socket.headers["origin"]) if "origin" in socket.headers else None
        async with connect(ws_upstream + socket.url.path + query, origin=origin) as server:
            await socket.accept()

            async def to_server() -> None:
                with contextlib.suppress(WebSocketDisconnect):
                    while True:
                        await server.send(await socket.receive_text())
                await server.close()

            async def to_page() -> None:
                with contextlib.suppress(ConnectionClosed, WebSocketDisconnect, RuntimeError):
                    async for frame in server:
                        await socket.send_text(str(frame))
                    await socket.close()  # the server closed first

            async with asyncio.TaskGroup() as group:
                group.create_task(to_server())
                group.create_task(to_page())

    async def live_reload(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text('{"type":"connected"}')
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_text()

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/", index),
            Route("/api/{path:path}", api),
            WebSocketRoute("/ws/{path:path}", flow_socket),
            WebSocketRoute(LIVE_RELOAD, live_reload),
            Mount("/", app=StaticFiles(directory=ui, html=True)),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the flow server, http://host:port")
    args = parser.parse_args()
    uvicorn.run(create_proxy(args.upstream), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
