"""The flowwright pytest plugin (registered through the ``pytest11`` entry point).

It owns the session's server (:mod:`flowwright.session_server`: the embedded reference
server started on first use, a ``--flow-server-cmd`` process, or a running
``--flow-server-url``) and exposes it through fixtures and through the test's scope
(:mod:`flowwright.context`), so ``FlowTestClient.create()`` works in a test that asks for no
fixture at all. A failing test's report ends with the transcript of every client it opened.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from flowwright.context import SCOPE, Source, TestScope, entered
from flowwright.diagnostics import TRANSCRIPT_SECTION
from flowwright.dialect import resolve_dialect
from flowwright.errors import ServerStartError
from flowwright.extras import extra_for
from flowwright.options import declare_options, read_options
from flowwright.server import FlowServer
from flowwright.session_server import SessionServer

# The client (websockets), the replay and the simulator are imported where a fixture
# or hook uses them: every pytest process loads this plugin, an xdist controller never does.
if TYPE_CHECKING:
    from flowwright.client import FlowTestClient
    from flowwright.replay import ReplayServer
    from flowwright.simulator import ResponseSimulator

__all__ = [
    "flow_client",
    "flow_replay",
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
    "write_recordings",
]

_MARKER_OPTIONS = (
    "timeout",
    "fail_on_error",
    "fresh_server",
    "dialect",
    "allow_malformed",
    "keep_messages",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    declare_options(parser)


_session_key = pytest.StashKey[SessionServer]()
_scope_key = pytest.StashKey[contextlib.AbstractContextManager[TestScope]]()
_failed_key = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "flow(timeout=None, fail_on_error=True, fresh_server=False, dialect=None, "
        "allow_malformed=False, keep_messages=None): flowwright settings for one test: its "
        "default wait timeout, whether an error the dialect calls fatal fails waits at once "
        "(or a predicate), whether it gets a server of its own, the dialect its clients "
        "speak, whether malformed frames from the server are allowed (else they fail the "
        "test at teardown), and how many messages per stream are held in memory",
    )
    workdir = None
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        _quiet_orphaned_worker()
        parent = config.workerinput.get(_WORKDIR)
        if parent and Path(parent).is_dir():
            workdir = Path(parent) / str(config.workerinput.get("workerid", "worker"))
    options = read_options(config)
    session = SessionServer(options, workdir=workdir)
    config.stash[_session_key] = session
    # The session's scope: what runs outside any test (session fixtures, hooks) sees the
    # run's settings; each test gets a scope of its own (_flowwright_test).
    scope = TestScope("session", settings=session.settings)
    config.stash[_scope_key] = entered(scope)
    config.stash[_scope_key].__enter__()


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_session_key, None)
    if session is not None:
        session.stop()
        session.clean_up()
    scope = config.stash.get(_scope_key, None)
    if scope is not None:
        with contextlib.suppress(ValueError):  # unconfigured from another context
            scope.__exit__(None, None, None)


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
_WORKDIR = "flowwright_workdir"
_kept_key = pytest.StashKey[list[str]]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: each worker makes its workdir inside the controller's, so a run cut
    short (Ctrl-C), whose workers never report what they kept, leaves one directory, named."""
    session = node.config.stash.get(_session_key, None)
    if session is not None:
        node.workerinput[_WORKDIR] = str(session.workdir)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: collect each worker's kept workdir for the controller's summary."""
    kept = getattr(node, "workeroutput", {}).get(_KEPT)
    if kept:
        node.config.stash.setdefault(_kept_key, []).append(kept)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    server = config.stash.get(_session_key, None)
    kept = [*config.stash.get(_kept_key, [])]
    if server is not None and server.keep and any(server.workdir.iterdir()):
        # The run's own directory holds its workers' (pytest_configure_node): name it once.
        inside = [path for path in kept if Path(path).parent == server.workdir]
        kept = [str(server.workdir), *(path for path in kept if path not in inside)]
    for workdir in kept:
        terminalreporter.write_line(
            f"flowwright: kept {workdir} (server logs and storage of this failed session)"
        )


@pytest.fixture(autouse=True)
def _flowwright_test(request: pytest.FixtureRequest) -> Iterator[TestScope]:
    """Open the test's scope (its settings, with the ``flow`` marker applied, and its
    streams): every client, page and helper of the test reads it."""
    marker = request.node.get_closest_marker("flow")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = sorted(set(kwargs) - set(_MARKER_OPTIONS))
    if unknown:
        pytest.fail(
            f"@pytest.mark.flow got unknown option(s) {unknown}; valid: {list(_MARKER_OPTIONS)}",
            pytrace=False,
        )
    session = request.config.stash[_session_key]
    session.current_test = request.node.nodeid
    test_settings = session.settings
    if kwargs.get("timeout") is not None:
        test_settings = test_settings.replace(timeout=_marker_timeout(kwargs["timeout"]))
    if "fail_on_error" in kwargs:
        value = kwargs["fail_on_error"]
        test_settings = test_settings.replace(
            fail_on_error=value if callable(value) else bool(value)
        )
    if kwargs.get("keep_messages") is not None:
        test_settings = test_settings.replace(keep_messages=_marker_count(kwargs["keep_messages"]))
    if kwargs.get("dialect") is not None:
        try:
            test_settings = test_settings.replace(dialect=resolve_dialect(kwargs["dialect"]))
        except ValueError as exc:
            pytest.fail(f"@pytest.mark.flow(dialect=...): {exc}", pytrace=False)
    runner = None
    if kwargs.get("fresh_server"):
        fresh = runner = session.new_runner()
        test_settings = test_settings.replace(server=lambda: fresh.start())
    scope = TestScope(request.node.nodeid, settings=test_settings, streams=[])
    request.node.stash[SCOPE] = scope
    try:
        with entered(scope):
            yield scope
    finally:
        if session.options.record_dir is not None:
            write_recordings(session.options.record_dir, request.node.nodeid, scope.streams or [])
        if runner is not None:
            runner.stop()
    if not kwargs.get("allow_malformed") and not request.node.stash.get(_failed_key, False):
        _fail_on_malformed(scope.streams or [])  # a test that failed already shows them


def _marker_timeout(value: object) -> float:
    """The marker's ``timeout=``, checked as ``--flow-timeout`` is: a bad one fails the test
    naming the marker, not deep inside the first wait."""
    __tracebackhide__ = True
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else -1.0
    if not 0 < number < float("inf"):
        pytest.fail(
            f"@pytest.mark.flow(timeout=...) must be a positive number of seconds, not {value!r}",
            pytrace=False,
        )
    return float(number)


def _marker_count(value: object) -> int:
    """The marker's ``keep_messages=``: a positive whole number, as ``--flow-keep-messages``."""
    __tracebackhide__ = True
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        pytest.fail(
            f"@pytest.mark.flow(keep_messages=...) must be a positive whole number, not {value!r}",
            pytrace=False,
        )
    return value


def _fail_on_malformed(streams: Sequence[Source]) -> None:
    """A server that broke the protocol fails the test, even one whose waits all passed."""
    breaches = [
        (stream, message)
        for stream in streams
        for message in stream.collector.by_category("malformed")
        if message.direction == "received"
    ]
    if not breaches:
        return
    stream, first = breaches[0]
    lines = [
        f"the server sent {len(breaches)} malformed frame(s); the first, #{first.seq} on "
        f"{stream.title}: {first.error}",
        f"  raw: {first.raw[:300]}{'…' if len(first.raw) > 300 else ''}",
        "(a test that sends them on purpose: @pytest.mark.flow(allow_malformed=True))",
    ]
    pytest.fail("\n".join(lines), pytrace=False)


def write_recordings(directory: Path, nodeid: str, streams: Sequence[Source]) -> list[Path]:
    """Write each recordable stream of a test as ``<test>.jsonl`` (``<test>-2.jsonl``...)."""
    name = re.sub(r"[^\w.\-]+", "-", nodeid).strip("-")[:150]
    from flowwright.stream import FlowStream

    written: list[Path] = []
    recordable = [s for s in streams if isinstance(s, FlowStream) and s.recordable]
    for stream in (stream for stream in recordable if len(stream.collector)):
        suffix = f"-{len(written) + 1}" if written else ""
        path = directory / f"{name}{suffix}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line.to_json() + "\n" for line in stream.recording()), "utf-8")
        written.append(path)
    return written


@pytest.fixture(scope="session")
def flow_server(pytestconfig: pytest.Config) -> FlowServer:
    """The session's server under test (started on first use, stopped at session end)."""
    __tracebackhide__ = True
    return pytestconfig.stash[_session_key].get()


@pytest_asyncio.fixture
async def flow_client() -> AsyncIterator[FlowTestClient]:
    """A connected client on a fresh session of the test's server."""
    from flowwright.client import FlowTestClient

    async with FlowTestClient.create() as client:
        yield client


@pytest_asyncio.fixture
async def flow_replay() -> AsyncIterator[Callable[..., Awaitable[ReplayServer]]]:
    """``await flow_replay(path, speed="max")``: a recorded session served on a free port
    (a :class:`~flowwright.replay.ReplayServer`, started in the test's loop, stopped after)."""
    from flowwright.replay import ReplayServer

    started: list[ReplayServer] = []

    async def start(recording: str | Path, *, speed: float | str | None = "max") -> ReplayServer:
        server = await ReplayServer(recording, speed=speed).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
def response_simulator() -> ResponseSimulator:
    """A simulator that confirms by default; add rules with ``.on()`` and ``.script()``."""
    from flowwright.simulator import ResponseSimulator

    return ResponseSimulator()


_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A test module that imports what an extra brings (``from playwright.async_api import
    ...``), where that extra is missing: the error says which extra to install."""
    if not report.failed:
        return
    found = _NO_MODULE.search(str(report.longrepr))
    extra = extra_for(found.group(1)) if found else None
    if found and extra:
        report.sections.append(
            (
                "flowwright",
                f"{found.group(1)!r} comes with flowwright's {extra!r} extra, which is not "
                f'installed: pip install "flowwright[{extra}]" (from a checkout: pip install '
                f'"/path/to/flowwright[{extra}]")',
            )
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Once a test's reports (and recordings) are written, its collectors' spill files
    (``--flow-keep-messages``) are deleted: a long suite must not fill the temp directory."""
    try:
        return (yield)
    finally:
        scope = item.stash.get(SCOPE, None)
        for stream in scope.streams or [] if scope else []:
            stream.collector.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_failed_key] = True
        error = call.excinfo.value if call.excinfo else None
        if isinstance(error, ServerStartError):
            # The cause is all in the message; the frames (pytest-asyncio, threads) add nothing.
            report.longrepr = f"{type(error).__module__}.{type(error).__name__}: {error}"
        _explain_strict_mode(item.config, report)
        shown = _shown_by(call.excinfo.value if call.excinfo else None)
        scope = item.stash.get(SCOPE, None)
        for index, stream in enumerate(scope.streams or [] if scope else [], 1):
            text = _transcript_section(stream, shown)
            if text:
                report.sections.append((f"{TRANSCRIPT_SECTION} {index}: {stream.title}", text))
    return report


def _shown_by(error: BaseException | None) -> tuple[object, int] | None:
    """Which messages the failure's own text already shows (its diagnostics' tail)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        shown = getattr(error, "shown", None)
        if shown is not None:
            return shown  # type: ignore[no-any-return]  # getattr's Any; typed in errors.py
        if isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        else:
            error = error.__cause__ or error.__context__
    return None


def _transcript_section(stream: Source, shown: tuple[object, int] | None) -> str:
    """A stream's transcript for a failure report: what the error above did not show."""
    collector = stream.collector
    if not len(collector):
        return ""  # never connected, nothing said: no empty section
    if shown is None or shown[0] is not collector:
        return collector.format_tail(200)
    earlier = collector.since(0)[: shown[1] - 1]
    if not earlier:
        return ""
    lines = [f"  {m.summary()}" for m in earlier[-200:]]
    skipped = len(earlier) - len(lines)
    head = [f"  … {skipped} earlier messages not shown"] if skipped else []
    return "\n".join([*head, *lines, f"  (#{shown[1]} on: in the error above)"])


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
