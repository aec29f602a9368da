"""``python -m flowwright_demo``: run the reference flow server until SIGTERM/SIGINT.

The process binds its socket itself (so ``--port 0`` works), prints exactly one line —
``http://<host>:<port>`` — on stdout once it accepts connections, and exits 0 after a clean
shutdown. A bad configuration exits 2 and an address it cannot bind exits 3, each with the
problem on stderr. Test runners rely on all of this.

``--mcp-stdio`` serves the flows as MCP tools over stdin/stdout instead (``mcp_server.py``):
no socket, and nothing but MCP on stdout — logs go to stderr (or ``--log-file``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from flowwright_demo.access import quiet_denials
from flowwright_demo.app import create_app
from flowwright_demo.corpus import Corpus, CorpusError
from flowwright_demo.engine import FlowEngine
from flowwright_demo.handshake import AnsweringWebSocketProtocol
from flowwright_demo.llm import LLM, create_llm
from flowwright_demo.sessions import TOKEN_PARAM
from flowwright_demo.settings import (
    ConfigError,
    ServerSettings,
    Settings,
    default_conf_dir,
    load_settings,
)

__all__ = ["main"]

CONFIG_ERROR = 2
CANNOT_LISTEN = 3

logger = logging.getLogger("flowwright_demo")


class _Server(uvicorn.Server):
    """uvicorn's server, announcing its URL once it is listening, and stopping as soon as it
    is told to (every test server stops: uvicorn's own loop notices on its next 0.1 s tick).

    ``main_loop`` and ``handle_exit`` are uvicorn's ``Server`` methods, overridden as they
    are in 0.54 (pinned: ``uvicorn>=0.54,<0.55``); the loop keeps calling ``on_tick``.
    """

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url
        self._told: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def main_loop(self) -> None:
        told = asyncio.Event()
        self._told = (asyncio.get_running_loop(), told)
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(told.wait(), 0.1)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._told is not None:
            loop, told = self._told
            loop.call_soon_threadsafe(told.set)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.url, flush=True)
            logger.info("= listening on %s", self.url)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="flowwright-demo-server", description="flowwright's reference flow server"
    )
    parser.add_argument("--host", help="interface to bind (default: server.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--config", help="overlay directory under the conf dir, e.g. 'test'")
    parser.add_argument(
        "--conf-dir",
        type=Path,
        default=Path(os.environ.get("FLOWWRIGHT_DEMO_CONF") or default_conf_dir()),
        help="config directory (default: $FLOWWRIGHT_DEMO_CONF, else the package's own conf/)",
    )
    parser.add_argument(
        "--storage",
        type=Path,
        default=os.environ.get("FLOWWRIGHT_STORAGE") or None,
        help="directory for session transcripts (default: $FLOWWRIGHT_STORAGE, else a temp dir, "
        "removed at exit)",
    )
    parser.add_argument("--log-file", type=Path, help="write the server log to this file")
    parser.add_argument(
        "--allow-faults",
        action="store_true",
        help="let clients inject faults, which can end this process (server.allow_faults)",
    )
    parser.add_argument(
        "--mcp-stdio",
        action="store_true",
        help="serve the flows as MCP tools over stdin/stdout instead of HTTP",
    )
    return parser.parse_args(argv)


def _configure_logging(server: ServerSettings, log_file: Path | None) -> None:
    """Warnings always reach stderr; the configured level goes to the log file if any."""
    root = logging.getLogger()
    root.setLevel(server.log_level)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.WARNING if log_file else server.log_level)
    handlers: list[logging.Handler] = [stderr]
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for chatty in ("asyncio", "uvicorn", "websockets"):  # frame-level noise: ours is enough
        logging.getLogger(chatty).setLevel(max(logging.INFO, root.level))
    logging.getLogger("uvicorn.error").addFilter(_client_fault_is_no_server_error)
    logging.getLogger("uvicorn.error").addFilter(quiet_denials)
    for handler in handlers:  # uvicorn logs each socket's path and query, token included
        handler.addFilter(_redact_tokens)
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)


_NOT_UTF8 = "Invalid UTF-8 sequence received from client."
"""What uvicorn logs, as an error with a traceback, before closing such a socket with 1007."""


def _client_fault_is_no_server_error(record: logging.LogRecord) -> bool:
    """A text frame that is not UTF-8 is the client's mistake, answered by close code 1007:
    logged as such, not as a server error with a traceback."""
    if record.getMessage() == _NOT_UTF8:
        record.msg, record.args = "! a text frame was not UTF-8: socket closed with 1007", ()
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info = record.exc_text = None
    return True


_TOKEN = re.compile(rf"(?<=[?&]{TOKEN_PARAM}=)[^&\s\"']+")


def _redact_tokens(record: logging.LogRecord) -> bool:
    """Session tokens never reach a log: the secret in ``?token=`` becomes ``<redacted>``."""
    if isinstance(record.args, tuple) and any(
        isinstance(arg, str) and _TOKEN.search(arg) for arg in record.args
    ):
        record.args = tuple(
            _TOKEN.sub("<redacted>", arg) if isinstance(arg, str) else arg for arg in record.args
        )
    if isinstance(record.msg, str) and _TOKEN.search(record.msg):
        record.msg = _TOKEN.sub("<redacted>", record.msg)
    return True


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose connections send small frames at once.

    asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on sockets whose ``proto`` says
    TCP, and ``socket.create_server`` leaves it 0: each burst of frames then waited ~40 ms
    for the client's delayed ACK. Rebuilt from its descriptor, the socket reads its protocol
    from the kernel (``SO_PROTOCOL``), and the connections it accepts inherit it.
    """
    bound = socket.create_server((host, port))
    return socket.socket(fileno=bound.detach())


def _llm(name: str, corpus: Corpus) -> LLM:
    try:
        return create_llm(name, corpus)
    except ValueError as exc:
        raise ConfigError(f"server.llm: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        settings = load_settings(args.conf_dir, args.config, allow_faults=args.allow_faults)
        corpus = Corpus.load()
        llm = _llm(settings.server.llm, corpus)
    except (ConfigError, CorpusError) as exc:
        print(f"flowwright-demo-server: configuration error: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    with contextlib.ExitStack() as stack:
        chosen = args.storage or settings.server.storage
        if not chosen:  # a directory of its own, removed at exit: nobody else knows its name
            chosen = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="flowwright-demo-", ignore_cleanup_errors=True)
            )
        storage = Path(chosen).resolve()
        storage.mkdir(parents=True, exist_ok=True)
        return _serve(args, settings, corpus, llm, storage)


def _serve(
    args: argparse.Namespace, settings: Settings, corpus: Corpus, llm: LLM, storage: Path
) -> int:
    server = settings.server
    log_file = args.log_file or (storage / server.log_file if server.log_file else None)
    _configure_logging(server, log_file)
    if args.mcp_stdio:
        from flowwright_demo.mcp_server import serve_stdio  # the MCP SDK: only when needed

        asyncio.run(serve_stdio(FlowEngine(settings, corpus, llm), storage))
        return 0

    host = args.host or server.host
    try:
        listener = _listen(host, args.port)
    except OSError as exc:
        print(
            f"flowwright-demo-server: cannot listen on {host}:{args.port}: {exc}", file=sys.stderr
        )
        return CANNOT_LISTEN
    port = listener.getsockname()[1]
    app = create_app(settings, storage, corpus, llm, bind_host=host)
    config = uvicorn.Config(
        app,
        log_config=None,  # our handlers (above) receive uvicorn's records too
        access_log=False,
        lifespan="on",
        ws=AnsweringWebSocketProtocol,  # answers the handshakes websockets refuses
        # Above the app's own limit, so the app answers an oversize frame instead of uvicorn
        # closing the connection.
        ws_max_size=max(16 * server.max_frame_bytes, 1 << 20),
        timeout_graceful_shutdown=5,
    )
    logger.info("= storage %s, log file %s", storage, log_file)
    # uvicorn re-raises the signal that stopped it once it is done; by then the shutdown was
    # clean, so that signal is ignored and the process exits 0.
    for handled in (signal.SIGTERM, signal.SIGINT):
        signal.signal(handled, signal.SIG_IGN)
    _Server(config, f"http://{host}:{port}").run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
