"""FlowMCPClient: an MCP session under test, with flowwright's collector, waits and diagnostics.

It drives the official SDK's client (``mcp.Client`` over a ``ClientSession``) on one of three
transports — a server command as a real subprocess over **stdio**, a **Streamable HTTP** URL,
or an ``MCPServer`` object **in memory** — and records every message both ways
(:mod:`flowwright.mcp.recording`) in the same :class:`MessageCollector` a flow test's
WebSocket uses. So MCP waits are the :class:`FlowStream` waits (``wait_for``, ``expect``):
event-driven, failing fast when the connection ends, and explaining a timeout with what did
arrive and the server's state (its stderr, for a subprocess).

A tool call is guarded by the same waiter: a call that outlives its timeout, or a server
that goes away mid-call, ends with the same diagnostic errors instead of hanging.
"""

from __future__ import annotations

import asyncio
import shlex
import tempfile
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

from mcp import Client, StdioServerParameters
from mcp.client import Transport

# A private module, on purpose: the SDK's public in-process path, ``Client(server)``, skips
# JSON-RPC altogether (a direct dispatcher), so nothing would pass the recording transport;
# InMemoryTransport is the only in-memory path with real messages. Tested with mcp 2.3.x
# (pinned >=2.3,<3). Upstream decided not to export it (modelcontextprotocol/python-sdk
# PR #1972, "We shouldn't expose InMemoryTransport"); no open issue asks for a public one.
from mcp.client._memory import InMemoryTransport
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, Implementation, Tool

from flowwright.diagnostics import format_output_tail
from flowwright.errors import ClientStateError, ConnectError, ConnectionLostError, ProtocolError
from flowwright.match import Match
from flowwright.mcp.recording import MCP_DIALECT, PROGRESS, JsonRpcRecorder, RecordingTransport
from flowwright.mcp.results import ToolResult
from flowwright.message import Message
from flowwright.protocol import Category
from flowwright.server import FlowServer
from flowwright.stream import FlowStream

__all__ = ["FlowMCPClient"]

T = TypeVar("T")

STDERR_LINES = 10


def _never(message: Message) -> bool:
    """A guard's matcher: the call's own completion ends the wait, never a message."""
    return False


class FlowMCPClient(FlowStream):
    """One MCP session; use ``async with FlowMCPClient.stdio([...]) as mcp:``.

    Build it with :meth:`stdio`, :meth:`http` or :meth:`memory`. Inside the block: ``tools``,
    ``call_tool``, ``wait_for_progress``, every :class:`FlowStream` wait, and ``session`` (the
    SDK's ``ClientSession``) for anything else.
    """

    recordable = False  # its messages are MCP's, not a flow session to replay

    def __init__(
        self,
        transport: Transport,
        *,
        label: str,
        timeout: float | None = None,
        fail_on_error: bool | None = None,
        connect_timeout: float = 30.0,
        stderr_path: Path | None = None,
        flow_server: FlowServer | None = None,
    ) -> None:
        # Every MCP error is the answer to a request of the test's own, which that call
        # returns or raises; so by default it does not also fail the waits pending meanwhile.
        super().__init__(
            timeout=timeout,
            fail_on_error=bool(fail_on_error),
            describe_state=self.describe,
            dialect=MCP_DIALECT,
        )
        self.label = label
        self.connect_timeout = connect_timeout
        self.stderr_path = stderr_path
        """Where a stdio server's stderr goes (its tail is part of every diagnostic)."""
        self._flow_server = flow_server
        self._calls: Counter[str] = Counter()  # requests the test's own calls will send
        self._recorder = JsonRpcRecorder(
            self.collector,
            source=label,
            on_close=self._connection_ended,
            asked_by_test=self._asked_by_test,
        )
        # No response cache: a test asks the server every time, and every answer is recorded.
        self._client = Client(RecordingTransport(transport, self._recorder), cache=None)
        self._open = False

    # ------------------------------------------------------------------ construction

    @classmethod
    def stdio(
        cls,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        **options: Any,
    ) -> FlowMCPClient:
        """A server started as a subprocess (``command``: a list, or a shell-quoted string)."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise ValueError("the MCP server command is empty: give the command that starts it")
        parameters = StdioServerParameters(
            command=argv[0], args=argv[1:], env=dict(env) if env else None, cwd=cwd
        )
        stderr_path = Path(tempfile.mkstemp(prefix="flowwright-mcp-", suffix=".stderr")[1])
        return cls(
            _StdioTransport(parameters, stderr_path),
            label=f"stdio: {shlex.join(argv)}",
            stderr_path=stderr_path,
            **options,
        )

    @classmethod
    def http(cls, url: str, **options: Any) -> FlowMCPClient:
        """A server at a Streamable HTTP endpoint (``http://host:port/mcp``)."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"MCP over HTTP needs an http(s):// URL of the endpoint, not {url!r}")
        return cls(streamable_http_client(url), label=f"http: {url}", **options)

    @classmethod
    def memory(cls, server: MCPServer, **options: Any) -> FlowMCPClient:
        """An ``MCPServer`` in this process, over a pair of in-memory streams."""
        return cls(InMemoryTransport(server), label=f"memory: {server.name}", **options)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FlowMCPClient:
        __tracebackhide__ = True
        try:
            async with asyncio.timeout(self.connect_timeout):
                await self._client.__aenter__()
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                reason = f"no answer to the handshake within {self.connect_timeout:g}s"
            else:
                reason = f"{type(exc).__name__}: {_first(exc)}"
            error = ConnectError(
                f"could not open an MCP session with {self.label}: {reason}", self.describe()
            )
            self._remove_stderr()
            raise error from exc
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._open = False
        try:
            await self._client.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            # The SDK's task groups wrap the body's own exception (an assertion that failed
            # inside ``async with``): let that one exception propagate as it was raised.
            if exc is None or _leaves(group) != [exc]:
                raise
        finally:
            self._connection_ended()
            self._remove_stderr()

    # ------------------------------------------------------------------ the session

    @property
    def session(self) -> Any:
        """The SDK's ``ClientSession``, for requests this class does not wrap."""
        return self._live().session

    @property
    def server_info(self) -> Implementation | None:
        """The server's name and version, as it introduced itself."""
        return self._live().server_info

    @property
    def protocol_version(self) -> str:
        """The MCP protocol version the session agreed on."""
        return self._live().protocol_version

    async def tools(self, *, timeout: float | None = None) -> list[Tool]:
        """Every tool the server lists (all pages)."""
        __tracebackhide__ = True
        client = self._live()
        tools: list[Tool] = []
        cursor: str | None = None
        while True:
            self._calls["tools/list"] += 1
            page = await self._guard(client.list_tools(cursor=cursor), "tools/list", timeout)
            tools += page.tools
            cursor = page.next_cursor
            if not cursor:
                return tools

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> ToolResult:
        """Call a tool and return its result; an ``is_error`` result is returned, not raised.

        Progress is always requested (a progress token is sent), so a server that reports
        progress does, and each notification is recorded: ``wait_for_progress`` sees it.
        A JSON-RPC error (the server refused the request itself) raises
        :class:`~flowwright.errors.ProtocolError`.
        """
        __tracebackhide__ = True
        client = self._live()
        self._calls["tools/call"] += 1
        call = client.call_tool(name, dict(arguments or {}), progress_callback=_ignore_progress)
        try:
            result = await self._guard(call, f"tools/call {name!r}", timeout)
        except MCPError as exc:
            raise ProtocolError(
                f"the server refused tools/call {name!r} with JSON-RPC error "
                f"{exc.error.code}: {exc.error.message}"
            ) from None
        return ToolResult.from_sdk(name, result)

    async def wait_for_progress(
        self,
        pattern: str | None = None,
        *,
        timeout: float | None = None,
        since: int | Message | None = None,
    ) -> Message:
        """The next ``notifications/progress`` (optionally whose text matches ``pattern``).

        By default it counts from the last request sent, so progress that arrived while
        ``call_tool`` ran is found: ``await mcp.wait_for_progress("researcher", since=0)``.
        """
        __tracebackhide__ = True
        return await self.wait_for(
            Match(category=Category.PROGRESS, type="mcp_notification", pattern=pattern),
            timeout=timeout,
            since=since,
            description=f"an MCP {PROGRESS}" + (f" matching /{pattern}/" if pattern else ""),
        )

    # ------------------------------------------------------------------ diagnostics

    @property
    def title(self) -> str:
        return f"mcp client ({self.label})"

    def describe(self) -> str:
        """The session's state, the server's, and a stdio server's stderr tail (for errors)."""
        if self._open and self.waiter.closed is None:
            state = "open"
        elif self.waiter.closed is not None:
            state = f"closed: {self.waiter.closed.message}"
        else:
            state = "not open"
        lines = [f"mcp client: {self.label} ({state})"]
        if self._flow_server is not None:
            lines.append(self._flow_server.describe())
        lines += format_output_tail("server stderr", self.stderr_tail())
        return "\n".join(lines)

    def stderr_tail(self, n: int = STDERR_LINES) -> list[str]:
        """The last ``n`` lines a stdio server wrote to stderr (none for other transports)."""
        if self.stderr_path is None or not self.stderr_path.exists():
            return []
        return self.stderr_path.read_text(errors="replace").splitlines()[-n:]

    # ------------------------------------------------------------------ internals

    def _live(self) -> Client:
        if not self._open:
            raise ClientStateError(
                f"the MCP client for {self.label} is not open: use it inside "
                "'async with FlowMCPClient...(...) as mcp:'"
            )
        return self._client

    async def _guard(self, request: Awaitable[T], what: str, timeout: float | None) -> T:
        """Await one SDK request under a wait of the waiter: its timeout, its fail-fast on
        a closed connection and its diagnostics — the one waiting mechanism, for calls too."""
        __tracebackhide__ = True
        wait = self.waiter.arm(
            _never,
            since=self.collector.last_seq,
            description=f"the answer to {what}",
            fail_on_error=False,  # an error answer is the call's to report, not the wait's
        )
        task = asyncio.ensure_future(request)
        watch = asyncio.ensure_future(wait.result(self._timeout(timeout)))
        try:
            await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
            watch.cancel()
        if task.done() and not task.cancelled():
            error = task.exception()
            if isinstance(error, MCPError) and error.error.code == CONNECTION_CLOSED:
                # The SDK's answer for a server that went away (exited, closed its stdout):
                # not a refusal by the server but the connection lost, as the waits say it.
                self._connection_ended()
                raise ConnectionLostError(
                    f"the MCP connection to {self.label} ended while waiting for the answer "
                    f"to {what}"
                ).with_diagnostics(self.describe()) from None
            return task.result()
        await asyncio.gather(task, return_exceptions=True)  # let the cancelled call unwind
        await watch  # raises: the wait timed out or the connection closed (_never matches)
        raise AssertionError(f"the wait for {what} ended without an answer or an error")

    def _asked_by_test(self, method: str) -> bool:
        if self._calls[method] > 0:
            self._calls[method] -= 1
            return True
        return False

    def _connection_ended(self) -> None:
        if self.waiter.closed is None:
            self.waiter.close(
                ConnectionLostError(f"the MCP connection to {self.label} ended").with_diagnostics(
                    ""
                )
            )

    def _remove_stderr(self) -> None:
        if self.stderr_path is not None:
            self.stderr_path.unlink(missing_ok=True)


async def _ignore_progress(progress: float, total: float | None, message: str | None) -> None:
    """Passing a callback makes the SDK send a progress token; the recording is the record."""


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The exceptions at the bottom of nested exception groups."""
    leaves: list[BaseException] = []
    for exc in group.exceptions:
        leaves += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return leaves


def _first(exc: BaseException) -> str:
    """The innermost meaningful message of an exception (task groups wrap them in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__


class _StdioTransport:
    """The SDK's stdio transport with the server's stderr sent to a file, for diagnostics."""

    def __init__(self, parameters: StdioServerParameters, stderr_path: Path) -> None:
        self._parameters = parameters
        self._stderr_path = stderr_path
        self._errlog: IO[str] | None = None
        self._inner: Transport | None = None

    async def __aenter__(self) -> Any:  # the SDK's (read, write) streams, as its Transport's
        self._errlog = self._stderr_path.open("w", encoding="utf-8")
        self._inner = stdio_client(self._parameters, errlog=self._errlog)
        try:
            return await self._inner.__aenter__()
        except BaseException:
            self._errlog.close()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        try:
            if self._inner is None:
                return None
            return await self._inner.__aexit__(exc_type, exc, traceback)
        finally:
            if self._errlog is not None:
                self._errlog.close()
