"""TestFlowRunner: the server under test as a real process on a real port.

The runner is synchronous and thread-based on purpose: one session-scoped server outlives
the many event loops pytest-asyncio creates, so its exit is watched by a thread and
reported to whoever subscribed (:meth:`TestFlowRunner.on_exit`), loop or no loop.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import ctypes
import dataclasses
import math
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from flowwright.diagnostics import describe_returncode, format_output_tail, strip_ansi
from flowwright.errors import FlowTimeoutError, ServerExitedError, ServerStartError
from flowwright.server import ExitCallback

__all__ = ["DEFAULT_COMMAND", "TestFlowRunner"]

DEFAULT_COMMAND: tuple[str, ...] = (
    sys.executable,
    "-m",
    "flowwright_demo",
    "--port",
    "0",
    "--config",
    "test",
)
"""The embedded reference server with its test configuration (it prints its URL)."""

_URL = re.compile(rb"(https?://[\w.\-\[\]:]+:\d+)")
_FRAME = re.compile(r'\{"type":')
"""A log line that carries a whole frame (a server's debug log of its traffic)."""
_LOG_TAIL = 200


@dataclasses.dataclass
class _LogWatch:
    """A pending :meth:`TestFlowRunner.wait_for_log`: the reader thread fills in ``line``."""

    pattern: re.Pattern[str]
    line: str | None = None


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the server if the test process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class TestFlowRunner:
    """Start, watch and stop one server process.

    ``command`` may contain ``{port}``: the runner then picks a free port. Otherwise the
    server must print its URL (``http://127.0.0.1:8000``) on stdout. Either way the runner
    waits for ``GET /health`` before :meth:`start` returns.
    """

    __test__ = False  # not a test class, whatever its name says

    def __init__(
        self,
        command: Sequence[str] | str | None = None,
        *,
        host: str = "127.0.0.1",
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
    ) -> None:
        if isinstance(command, str):
            command = shlex.split(command)
        self.command: tuple[str, ...] = tuple(command or DEFAULT_COMMAND)
        if not self.command:
            raise ValueError("the server command is empty")
        self.host = host
        self.cwd = cwd
        self.env = dict(env or {})
        self.log_path = Path(log_path) if log_path else None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.base_url: str = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=_LOG_TAIL)
        self._output = threading.Condition()
        """Guards the tail and the watches; notified by the reader thread on a match or exit."""
        self._watches: list[_LogWatch] = []
        self._url_seen = threading.Event()
        self._exited = threading.Event()
        self._reader: threading.Thread | None = None
        self._callbacks: list[ExitCallback] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ state

    @property
    def ws_url(self) -> str:
        """The WebSocket base URL (``ws://host:port``)."""
        return self.base_url.replace("http", "ws", 1)

    @property
    def pid(self) -> int | None:
        """The server's process id (``None`` before the first start)."""
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        """The exit code (negative: killed by that signal); ``None`` while running."""
        return self._process.poll() if self._process else None

    @property
    def is_running(self) -> bool:
        """Whether the process has been started and has not exited."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, n: int = 20) -> list[str]:
        """The last ``n`` lines the server printed (stdout and stderr)."""
        return list(self._tail)[-n:] if n > 0 else []

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float) -> str:
        """Block until the server prints a line matching ``pattern`` (``re.search``); that line.

        For what a server only tells its log (a run it cancelled on its own, a timer that
        fired), so a test waits on the event itself rather than sleeping. A line still in the
        tail counts, so one printed just before the call is not missed; later lines are
        matched by the reader thread as they arrive, so none slips by however fast the server
        logs. Raises :class:`FlowTimeoutError` after ``timeout`` seconds and
        :class:`ServerExitedError` as soon as the server exits without printing it.
        """
        watch = _LogWatch(re.compile(pattern))
        with self._output:
            for line in self._tail:
                if watch.pattern.search(line):
                    return line
            self._watches.append(watch)
            try:
                self._output.wait_for(
                    lambda: watch.line is not None or self._exited.is_set(), timeout
                )
            finally:
                self._watches.remove(watch)
        if watch.line is not None:
            return watch.line
        awaited = f"line matching {watch.pattern.pattern!r}"
        if self._exited.is_set():
            code = self.returncode
            raise ServerExitedError(
                f"the server exited ({describe_returncode(code)}) without printing a {awaited}",
                self.describe(30),
                returncode=code,
                log_tail=tuple(self.log_tail(30)),
            )
        raise FlowTimeoutError(
            f"the server printed no {awaited} within {timeout:g}s",
            self.describe(30),
            timeout=timeout,
        )

    def describe(self, log_lines: int = 10, *, session: str | None = None) -> str:
        """The server's state and log tail, for error messages.

        With ``session``, the tail shows that session's lines (those naming it) first: a
        server shared by many tests logs every session's traffic, and the others are noise.
        """
        if self._process is None:
            return "server: not started"
        state = "running" if self.is_running else describe_returncode(self.returncode)
        lines = [
            f"server: pid {self._process.pid} {state} at {self.base_url or '(no URL yet)'}"
            f" (command: {shlex.join(self.command)}; log: {self.log_path})"
        ]
        tail = self.log_tail(_LOG_TAIL)
        kept = [line for line in tail if not _FRAME.search(line)]
        framed = len(tail) - len(kept)
        own = [line for line in kept if session and session in line]
        if own:
            lines += format_output_tail(f"server log of session {session}", own[-log_lines:])
            others = [line for line in kept if line not in own]
            lines += format_output_tail("server log, other lines", others[-min(log_lines, 3) :])
        else:
            lines += format_output_tail("server log", kept[-log_lines:])
        if framed:
            lines.append(f"  ({framed} log lines of frames left out: the transcript has them)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Start the server and wait until it is healthy; a no-op if already running."""
        with self._lock:
            if self.is_running:
                return self
            self._spawn()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; returns the exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            self._signal(signal.SIGTERM)
            if not _exits_within(process, self.stop_timeout):
                self._signal(signal.SIGKILL)
            process.wait()
        if self._reader is not None:
            self._reader.join(self.stop_timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)
        return process.returncode

    def kill(self) -> int:
        """Kill the server at once (SIGKILL), as a crash would; returns the exit code."""
        if self._process is None:
            raise RuntimeError("the server was never started")
        self._signal(signal.SIGKILL)
        return self._process.wait()

    def wait_exited(self, timeout: float | None = None) -> int | None:
        """Block until the process exits (or ``timeout``); its exit code, else None."""
        self._exited.wait(timeout)
        return self.returncode

    def on_exit(self, callback: ExitCallback) -> Callable[[], None]:
        """Call ``callback(returncode)`` from the watcher thread when the server exits.

        Returns a function that unsubscribes. Called at once if the server already exited.
        """
        with self._lock:
            exited = self._exited.is_set()
            if not exited:
                self._callbacks.append(callback)
        if exited:
            callback(self.returncode if self.returncode is not None else -1)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unsubscribe

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def _spawn(self) -> None:
        command = self.command
        self.base_url = ""
        if any("{port}" in arg for arg in command):
            port = _free_port(self.host)
            command = tuple(arg.replace("{port}", str(port)) for arg in command)
            self.base_url = f"http://{self.host}:{port}"
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="flowwright-server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        with self._output:
            self._tail.clear()
        self._url_seen.clear()
        self._exited.clear()
        # Linux delivers the parent-death signal when the *thread* that forked exits, so the
        # thread that spawns the server is the one that lives as long as its output: the reader.
        spawned: list[subprocess.Popen[bytes] | OSError] = []
        ready = threading.Event()
        self._reader = threading.Thread(
            target=self._spawn_and_read,
            args=(command, spawned, ready),
            name="flowwright-server",
            daemon=True,
        )
        self._reader.start()
        ready.wait()
        outcome = spawned[0]
        if isinstance(outcome, OSError):
            self._log.close()
            self._log = None
            raise ServerStartError(
                f"could not start the server: {shlex.join(command)}: {outcome}"
            ) from outcome
        self._process = outcome
        atexit.register(self.stop)  # Ctrl-C and errors too: never leave a server behind
        if self.base_url:
            self._url_seen.set()

    def _spawn_and_read(
        self,
        command: tuple[str, ...],
        spawned: list[subprocess.Popen[bytes] | OSError],
        ready: threading.Event,
    ) -> None:
        try:
            process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        except OSError as exc:
            spawned.append(exc)
            ready.set()
            return
        spawned.append(process)
        ready.set()
        self._read_output(process)

    def _read_output(self, process: subprocess.Popen[bytes]) -> None:
        """Copy the server's output to the log file and the tail; report its exit."""
        assert process.stdout is not None
        assert self._log is not None
        log = self._log
        for line in process.stdout:
            with contextlib.suppress(ValueError):  # closed by stop() after a timeout
                log.write(line)
                log.flush()
            self._remember(strip_ansi(line.decode(errors="replace")).rstrip())
            if not self._url_seen.is_set() and (match := _URL.search(line)):
                self.base_url = match.group(1).decode()
                self._url_seen.set()
        process.stdout.close()
        returncode = process.wait()
        with self._lock:
            self._exited.set()
            self._url_seen.set()  # wakes a start-up wait: no URL is coming any more
            callbacks, self._callbacks = self._callbacks, []
        with self._output:
            self._output.notify_all()  # a log wait ends: no line is coming any more
        for callback in callbacks:
            callback(returncode)

    def _remember(self, line: str) -> None:
        """Keep a line in the tail and hand it to every log wait it matches."""
        with self._output:
            self._tail.append(line)
            matched = False
            for watch in self._watches:
                if watch.line is None and watch.pattern.search(line):
                    watch.line = line
                    matched = True
            if matched:
                self._output.notify_all()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        self._url_seen.wait(self.startup_timeout)
        if not self.base_url:
            raise self._start_error("did not print its URL (http://host:port) on stdout")
        delay = 0.01
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if not self.is_running:
                raise self._start_error("exited")
            if time.monotonic() + delay > deadline:
                raise self._start_error(f"did not answer GET {self.base_url}/health")
            self._exited.wait(delay)  # wakes at once if the server dies meanwhile
            delay = min(delay * 2, 0.25)

    def _start_error(self, what: str) -> ServerStartError:
        if not self.is_running:
            return ServerStartError(
                f"server exited during start-up ({describe_returncode(self.returncode)})",
                self.describe(log_lines=30),
            )
        return ServerStartError(
            f"server {what} within {self.startup_timeout:g}s", self.describe(log_lines=30)
        )

    def _signal(self, sig: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, sig)


def _exits_within(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``process`` exits within ``timeout`` seconds, woken by its exit (a pidfd)
    where the system has them: ``Popen.wait(timeout)`` sleeps in steps of up to 50 ms while
    another thread (the output reader) is in ``wait()``, and every test server stops here."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux, or the process is already reaped
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        # poll, not select: a test process's fds go past select's FD_SETSIZE (1024), where
        # select raises ValueError.
        waiter = select.poll()
        waiter.register(pidfd, select.POLLIN)
        return bool(waiter.poll(max(0, math.ceil(timeout * 1000))))
    finally:
        os.close(pidfd)
