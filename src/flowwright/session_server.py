"""SessionServer: the pytest session's one server under test, shared by every test.

It is the embedded reference server, a ``--flow-server-cmd`` process, or a running
``--flow-server-url``, started (or checked) on first use from whichever thread asks first —
a test that needs no server never starts one — and stopped at the end. Its work directory
(server logs, storage) outlives a failed session, for the person reading the failure.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flowwright.context import Settings
from flowwright.errors import MissingExtraError, ServerStartError
from flowwright.extras import require_extra
from flowwright.options import Options
from flowwright.server import FlowServer, RemoteServer

# The process runner is imported when a runner is made: every pytest process loads the
# plugin that holds this, an xdist controller never starts a server.
if TYPE_CHECKING:
    from flowwright.runner import TestFlowRunner

__all__ = ["SessionServer"]


class SessionServer:
    """The session's one server, started on first use from any thread, stopped at the end."""

    def __init__(self, options: Options, *, workdir: Path | None = None) -> None:
        """``workdir``: the directory to make for the session's server logs and storage (an
        xdist worker's, inside its controller's, so that one directory holds the whole run
        however it ends); a new temporary directory if not given."""
        self.options = options
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="flowwright-"))
        else:
            workdir.mkdir()
        self.workdir = workdir
        self._server: FlowServer | None = None
        self._lock = threading.Lock()
        self._runners: list[TestFlowRunner] = []
        self.settings = Settings(
            timeout=options.timeout,
            timeout_factor=options.timeout_factor,
            dialect=options.dialect,
            server=self.get,
            keep_messages=options.keep_messages,
        )
        """The run's settings, before any test's marker."""
        self._failed: tuple[str, str] | None = None  # (the test that saw it, the first line)
        self.current_test = "(no test)"
        self.keep = True
        """Whether :attr:`workdir` outlives the session: until it is known to have passed."""

    def get(self) -> FlowServer:
        """The server, started (or, for ``--flow-server-url``, checked) on first use.

        A server that fails to start is reported once, in full, to the test that asked first;
        every later test gets one line pointing there.
        """
        __tracebackhide__ = True
        with self._lock:
            if self._failed is not None:
                test, cause = self._failed
                raise ServerStartError(
                    f"the session's server failed to start (see {test}): {cause}"
                )
            if self._server is None:
                try:
                    self._server = self._start()
                except ServerStartError as error:
                    self._failed = (self.current_test, error.message)
                    raise
            return self._server

    def _start(self) -> FlowServer:
        if not self.options.server_url:
            return self.new_runner("session").start()
        server = RemoteServer(self.options.server_url)
        host, port = _host_port(server.base_url)
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as exc:
            raise ServerStartError(
                f"nothing answers at {self.options.server_url} "
                f"({self.options.server_given_as}): {exc}"
            ) from None
        return server

    def new_runner(self, name: str | None = None) -> TestFlowRunner:
        """A runner with its own log file and storage directory under the session's workdir."""
        from flowwright.runner import DEFAULT_COMMAND, TestFlowRunner

        if not self.options.server_cmd:
            # Checked here, not left to the child: its traceback would end the log tail, cut.
            try:
                require_extra(
                    "demo",
                    "the embedded reference server (no --flow-server-url or "
                    "--flow-server-cmd given)",
                )
            except MissingExtraError as exc:
                raise ServerStartError(str(exc)) from None
        name = name or f"server-{len(self._runners) + 1}"
        storage = self.workdir / name / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        runner = TestFlowRunner(
            self.options.server_cmd or DEFAULT_COMMAND,
            log_path=self.workdir / name / "server.log",
            env={"FLOWWRIGHT_STORAGE": str(storage)},
            startup_timeout=30.0 * self.options.timeout_factor,
        )
        self._runners.append(runner)
        return runner

    def stop(self) -> None:
        for runner in self._runners:
            runner.stop()

    def clean_up(self) -> None:
        """Remove :attr:`workdir` unless the session failed and it holds something (logs)."""
        if not self.keep or not any(self.workdir.iterdir()):
            shutil.rmtree(self.workdir, ignore_errors=True)


def _host_port(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "127.0.0.1", parts.port or default
