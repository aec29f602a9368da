"""The boot baseline: a bare Starlette app under uvicorn that prints its URL, nothing else.

Started the way the reference server starts (``python -m flowwright_demo``: bind the socket
first, so ``--port 0`` works; print ``http://host:port`` once uvicorn accepts connections),
so that the difference in boot time is what the reference server does besides.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["main"]


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


class _Server(uvicorn.Server):
    """uvicorn's server, announcing its URL once it is listening."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.url, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    listener = socket.create_server((args.host, args.port))
    app = Starlette(routes=[Route("/health", _health)])
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    url = f"http://{args.host}:{listener.getsockname()[1]}"
    _Server(config, url).run(sockets=[listener])


if __name__ == "__main__":
    main(sys.argv[1:])
