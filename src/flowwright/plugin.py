"""The flowwright pytest plugin (registered through the ``pytest11`` entry point).

It owns the session's server — the embedded reference server started on first use, a
``--flow-server-cmd`` process, or a running ``--flow-server-url`` — and exposes it through
fixtures and through :data:`flowwright.config.settings`, so ``FlowTestClient.create()``
works in a test that asks for no fixture at all. A failing test's report ends with the
transcript of every client it opened.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from flowwright.client import FlowTestClient
from flowwright.config import Settings, settings
from flowwright.dialect import FLOWWRIGHT, Dialect, resolve_dialect
from flowwright.runner import DEFAULT_COMMAND, FlowServer, RemoteServer, TestFlowRunner
from flowwright.simulator import ResponseSimulator

__all__ = [
    "flow_client",
    "flow_server",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "response_simulator",
]

_MARKER_OPTIONS = ("timeout", "fail_on_error", "fresh_server", "dialect")
_URL_SCHEMES = ("ws://", "wss://", "http://", "https://")


@dataclass(frozen=True)
class Options:
    """The plugin's validated settings (command line first, then ini)."""

    server_url: str | None
    server_cmd: tuple[str, ...] | None
    timeout: float
    timeout_factor: float
    dialect: Dialect = FLOWWRIGHT

    def describe_server(self) -> str:
        if self.server_url:
            return self.server_url
        if self.server_cmd:
            return shlex.join(self.server_cmd)
        return "embedded reference server (started on first use)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowwright", "flowwright: agent flow testing")
    options = [
        (
            "--flow-server-url",
            "flow_server_url",
            "use a running flow server at this URL (ws://host:port) instead of starting one",
        ),
        (
            "--flow-server-cmd",
            "flow_server_cmd",
            "command that starts the server under test; '{port}' is replaced by a free port, "
            "otherwise the server must print its http://host:port URL on stdout",
        ),
        (
            "--flow-timeout",
            "flow_timeout",
            "default timeout of every wait, in seconds (default 30)",
        ),
        (
            "--flow-timeout-factor",
            "flow_timeout_factor",
            "multiply every timeout by this positive number, for slow machines (default 1)",
        ),
        (
            "--flow-dialect",
            "flow_dialect",
            "how the server under test speaks: 'flowwright' (default), 'buttermilk', or "
            "'package.module:NAME' for a Dialect of your own",
        ),
    ]
    for flag, name, help_text in options:
        group.addoption(flag, dest=name, default=None, help=help_text)
        parser.addini(name, help=help_text, default=None)


def _read_options(config: pytest.Config) -> Options:
    def get(name: str) -> str | None:
        value = config.getoption(name)
        return value if value is not None else config.getini(name) or None

    url, cmd = get("flow_server_url"), get("flow_server_cmd")
    if url and cmd:
        raise pytest.UsageError(
            "--flow-server-url and --flow-server-cmd exclude each other: give one of them"
        )
    if url and not url.startswith(_URL_SCHEMES):
        raise pytest.UsageError(
            f"--flow-server-url {url!r} is not a URL: it must start with one of "
            f"{', '.join(_URL_SCHEMES)}"
        )
    command = tuple(shlex.split(cmd)) if cmd else None
    if cmd is not None and not command:
        raise pytest.UsageError(
            "--flow-server-cmd is empty: give the command that starts the server"
        )
    try:
        dialect = resolve_dialect(get("flow_dialect"))
    except ValueError as exc:
        raise pytest.UsageError(f"--flow-dialect: {exc}") from None
    return Options(
        server_url=url,
        server_cmd=command,
        timeout=_positive(get("flow_timeout"), "--flow-timeout", default=30.0),
        timeout_factor=_positive(get("flow_timeout_factor"), "--flow-timeout-factor", default=1.0),
        dialect=dialect,
    )


def _positive(value: str | None, flag: str, *, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number == float("inf"):
        raise pytest.UsageError(
            f"{flag} must be a positive number of seconds or factor (e.g. 2 or 0.5), not {value!r}"
        )
    return number


class SessionServer:
    """The session's one server, started on first use from any thread, stopped at the end."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.workdir = Path(tempfile.mkdtemp(prefix="flowwright-"))
        self._server: FlowServer | None = None
        self._lock = threading.Lock()
        self._runners: list[TestFlowRunner] = []
        self.keep = True
        """Whether :attr:`workdir` outlives the session: until it is known to have passed."""

    def get(self) -> FlowServer:
        with self._lock:
            if self._server is None:
                if self.options.server_url:
                    self._server = RemoteServer(self.options.server_url)
                else:
                    self._server = self.new_runner("session").start()
            return self._server

    def new_runner(self, name: str | None = None) -> TestFlowRunner:
        """A runner with its own log file and storage directory under the session's workdir."""
        name = name or f"server-{len(self._runners) + 1}"
        storage = self.workdir / name / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        runner = TestFlowRunner(
            self.options.server_cmd or DEFAULT_COMMAND,
            log_path=self.workdir / name / "server.log",
            env={"FLOWWRIGHT_STORAGE": str(storage)},
            startup_timeout=30.0 * settings.timeout_factor,
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


_session_key = pytest.StashKey[SessionServer]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "flow(timeout=None, fail_on_error=True, fresh_server=False, dialect=None): flowwright "
        "settings for one test: its default wait timeout, whether an error the dialect calls "
        "fatal fails waits at once (or a predicate), whether it gets a server of its own, "
        "and the dialect its clients speak",
    )
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        _quiet_orphaned_worker()
    options = _read_options(config)
    session = SessionServer(options)
    config.stash[_session_key] = session
    settings.timeout = options.timeout
    settings.timeout_factor = options.timeout_factor
    settings.dialect = options.dialect
    settings.server = session.get
    settings.track_streams = True


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_session_key, None)
    if session is not None:
        session.stop()
        session.clean_up()
    defaults = Settings()
    for name in (
        "timeout",
        "timeout_factor",
        "fail_on_error",
        "server",
        "track_streams",
        "dialect",
    ):
        setattr(settings, name, getattr(defaults, name))
    settings.streams.clear()


def pytest_report_header(config: pytest.Config) -> str:
    session = config.stash[_session_key]
    options = session.options
    return (
        f"flowwright: server {options.describe_server()}; dialect {options.dialect.name}; "
        f"timeout {options.timeout:g}s x{options.timeout_factor:g}; workdir {session.workdir}"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A passing session's workdir (server logs, storage) is removed at the end; a failed one
    keeps it, and the terminal summary names it."""
    server = session.config.stash.get(_session_key, None)
    if server is None:
        return
    passed = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    server.keep = bool(session.testsfailed) or not passed
    workeroutput = getattr(session.config, "workeroutput", None)  # an xdist worker's report
    if server.keep and workeroutput is not None and any(server.workdir.iterdir()):
        workeroutput[_KEPT] = str(server.workdir)


_KEPT = "flowwright_kept_workdir"
_kept_key = pytest.StashKey[list[str]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: collect each worker's kept workdir for the controller's summary."""
    kept = getattr(node, "workeroutput", {}).get(_KEPT)
    if kept:
        node.config.stash.setdefault(_kept_key, []).append(kept)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    server = config.stash.get(_session_key, None)
    kept = list(config.stash.get(_kept_key, []))
    if server is not None and server.keep and any(server.workdir.iterdir()):
        kept.insert(0, str(server.workdir))
    for workdir in kept:
        terminalreporter.write_line(
            f"flowwright: kept {workdir} (server logs and storage of this failed session)"
        )


@pytest.fixture(autouse=True)
def _flowwright_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Apply the ``flow`` marker for one test and forget the previous test's clients."""
    marker = request.node.get_closest_marker("flow")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = sorted(set(kwargs) - set(_MARKER_OPTIONS))
    if unknown:
        pytest.fail(
            f"@pytest.mark.flow got unknown option(s) {unknown}; valid: {list(_MARKER_OPTIONS)}",
            pytrace=False,
        )
    saved = (settings.timeout, settings.fail_on_error, settings.server, settings.dialect)
    settings.streams.clear()
    if kwargs.get("timeout") is not None:
        settings.timeout = float(kwargs["timeout"])
    if "fail_on_error" in kwargs:
        value = kwargs["fail_on_error"]
        settings.fail_on_error = value if callable(value) else bool(value)
    if kwargs.get("dialect") is not None:
        try:
            settings.dialect = resolve_dialect(kwargs["dialect"])
        except ValueError as exc:
            pytest.fail(f"@pytest.mark.flow(dialect=...): {exc}", pytrace=False)
    runner = None
    if kwargs.get("fresh_server"):
        fresh = runner = request.config.stash[_session_key].new_runner()
        settings.server = lambda: fresh.start()
    try:
        yield
    finally:
        settings.timeout, settings.fail_on_error, settings.server, settings.dialect = saved
        if runner is not None:
            runner.stop()


@pytest.fixture(scope="session")
def flow_server(pytestconfig: pytest.Config) -> FlowServer:
    """The session's server under test (started on first use, stopped at session end)."""
    return pytestconfig.stash[_session_key].get()


@pytest_asyncio.fixture
async def flow_client() -> AsyncIterator[FlowTestClient]:
    """A connected client on a fresh session of the test's server."""
    async with FlowTestClient.create() as client:
        yield client


@pytest.fixture
def response_simulator() -> ResponseSimulator:
    """A simulator that confirms by default; add rules with ``.on()`` and ``.script()``."""
    return ResponseSimulator()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        _explain_strict_mode(item.config, report)
        for index, stream in enumerate(settings.streams, 1):
            report.sections.append(
                (
                    f"flowwright transcript {index}: {stream.title}",
                    stream.collector.format_tail(200),
                )
            )
    return report


def _quiet_orphaned_worker() -> None:
    """A worker whose controller was terminated (SIGTERM) finishes its test, then cannot
    report it: xdist's hookwrapper fails with "cannot send (already closed?)", which pluggy
    prints as a PluggyTeardownRaisedWarning per worker. Only that message is silenced: the
    controller is gone, and with it anyone to tell."""
    warnings.filterwarnings(
        "ignore",
        message=r"(?s)A plugin raised an exception during an old-style hookwrapper teardown\."
        r".*Hook: pytest_sessionfinish\nOSError: cannot send \(already closed\?\)",
    )


_NOT_NATIVE = (
    "async def functions are not natively supported",
    "requested an async fixture",
)


def _explain_strict_mode(config: pytest.Config, report: pytest.TestReport) -> None:
    """pytest's "async def functions are not natively supported", when pytest-asyncio is
    installed but in strict mode (its default): say which one setting to add."""
    text = str(report.longrepr)
    if not any(phrase in text for phrase in _NOT_NATIVE):
        return
    try:
        mode = config.getoption("asyncio_mode", None) or config.getini("asyncio_mode")
    except ValueError:  # pytest-asyncio disabled (-p no:asyncio)
        mode = None
    if mode == "auto":
        return
    first = text.strip().splitlines()[0].rstrip(".")
    report.longrepr = (
        f"{first}: pytest-asyncio (installed with flowwright) runs async tests and fixtures as "
        f"written only in auto mode, and this project runs it in {mode or 'no'} mode; add the "
        "one setting flowwright needs to your pytest configuration:\n"
        "    [pytest]                  (pytest.ini; in pyproject.toml: [tool.pytest.ini_options])\n"
        "    asyncio_mode = auto\n"
        "(or mark each async test @pytest.mark.asyncio and decorate async fixtures with "
        "@pytest_asyncio.fixture)"
    )
