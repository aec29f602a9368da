"""FlowStream: the waits and queries every source of flow messages offers.

A source — the test's own WebSocket (:class:`~flowwright.client.FlowTestClient`), a browser
page's sockets (:class:`~flowwright.web.flow.UIFlow`), a proxy's traffic
(:class:`~flowwright.proxy.FlowProxy`), an MCP session
(:class:`~flowwright.mcp.FlowMCPClient`) — appends frames to one collector; this class gives
it the lifecycle waits, all through one :class:`FlowEventWaiter`. A wait matches messages
since the source's last *action* (the last frame sent) unless told otherwise, so a fast answer
is never missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from flowwright.collector import MessageCollector
from flowwright.context import current
from flowwright.conversation import Conversation, FlowMetrics
from flowwright.diagnostics import describe_returncode
from flowwright.dialect import Dialect, resolve_dialect
from flowwright.errors import ConnectionLostError, ServerExitedError, WaitAbortedError
from flowwright.match import Match, Matcher
from flowwright.message import Message
from flowwright.protocol import Category
from flowwright.recording import RecordingLine, recording_lines
from flowwright.server import FlowServer
from flowwright.waiter import Description, Expectation, FailOnError, FlowEventWaiter

__all__ = ["FlowStream"]

_WORK = frozenset({Category.RESULT, Category.CHAT})
"""The categories of an agent's work: what a wait for results looks at."""
_EXIT_GRACE = 0.5  # a dropped socket waits this long for the server's exit to explain it


class FlowStream:
    """A collector of one session's messages and the waits on it."""

    def __init__(
        self,
        *,
        timeout: float | None = None,
        fail_on_error: FailOnError | None = None,
        describe_state: Callable[[], str] | None = None,
        dialect: Dialect | str | None = None,
    ) -> None:
        scope = current()  # the test this stream belongs to
        self.settings = scope.settings
        """The settings of the test that opened this stream (timeouts, dialect, server)."""
        self.timeout = timeout
        self.server: FlowServer | None = None
        self.dialect = self.settings.dialect if dialect is None else resolve_dialect(dialect)
        """What this source's messages mean (see :mod:`flowwright.dialect`)."""
        self.collector = MessageCollector(dialect=self.dialect, keep=self.settings.keep_messages)
        self.waiter = FlowEventWaiter(
            self.collector,
            describe_state=describe_state,
            fail_on_error=self.settings.fail_on_error if fail_on_error is None else fail_on_error,
            timeout_cause=self._timeout_cause,
        )
        self._unwatch_server: Callable[[], None] | None = None
        if scope.streams is not None:  # one registry for every kind of source, for the reports
            scope.streams.append(self)

    @property
    def title(self) -> str:
        """What this stream is, for transcript headings: ``client (ws://...)``."""
        return type(self).__name__

    @property
    def last_action_seq(self) -> int:
        """The number of the last frame sent on this session (0 before any)."""
        return self.collector.last_sent_seq

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        matcher: Matcher | None = None,
        *,
        timeout: float | None = None,
        since: int | Message | None = None,
        description: Description | None = None,
        fail_on_error: FailOnError | None = None,
        fail_on_end: bool = False,
        **criteria: Any,
    ) -> Message:
        """The first message (after ``since``, default the last action) that matches.

        ``matcher`` is any ``Message -> bool`` callable; or give :class:`Match` criteria as
        keywords: ``wait_for(category="prompt", pattern="proceed")``. ``timeout=None`` uses the
        client's default; every timeout is scaled by the timeout factor. ``fail_on_end``
        fails the wait as soon as the flow ends without a match.
        """
        __tracebackhide__ = True
        return await self.waiter.wait_for(
            self._matcher(matcher, criteria),
            timeout=self._timeout(timeout),
            since=self._since(since),
            description=description,
            fail_on_error=fail_on_error,
            fail_on_end=fail_on_end,
        )

    async def wait_for_ui_message(
        self,
        pattern: str | None = None,
        *,
        timeout: float | None = None,
        since: int | Message | None = None,
    ) -> Message:
        """The flow's next prompt to the human (optionally whose text matches ``pattern``).

        Fails as soon as the flow ends without one."""
        __tracebackhide__ = True
        return await self.wait_for(
            Match(category=Category.PROMPT, pattern=pattern),
            timeout=timeout,
            since=since,
            fail_on_end=True,
        )

    async def wait_for_agent_results(
        self,
        expected_agents: Iterable[str],
        *,
        timeout: float | None = None,
        since: int | Message | None = None,
    ) -> list[Message]:
        """Wait until every expected agent has produced a result.

        An agent is named by its role, name or id, case-insensitively (``"judge"`` finds a
        ``JUDGE``). Returns their result and chat messages in arrival order; fails as soon as
        the flow ends without them.
        """
        __tracebackhide__ = True
        expected = list(expected_agents)
        if not expected:
            raise ValueError("expected_agents is empty: name at least one agent")
        results: list[Message] = []
        missing = set(expected)

        def is_result(message: Message) -> bool:
            if message.category not in (Category.RESULT, Category.CHAT):
                return False
            agents = [name for name in expected if message.from_agent(name)]
            if agents:
                results.append(message)
                missing.difference_update(agents)
            return not missing

        def near(message: Message) -> bool:  # another agent's work, shown in full on failure
            return message.category in (Category.RESULT, Category.CHAT) and not any(
                message.from_agent(name) for name in expected
            )

        # The waiter's optional hints (see Matcher); a function has no declared slot for them.
        is_result.near = near  # type: ignore[attr-defined]
        is_result.categories = _WORK  # type: ignore[attr-defined]

        def describe() -> str:
            done = [name for name in expected if name not in missing]
            return (
                f"results from {expected} (got: {done or 'none'}; "
                f"missing: {[name for name in expected if name in missing]})"
            )

        await self.wait_for(
            is_result, timeout=timeout, since=since, description=describe, fail_on_end=True
        )
        return results

    async def wait_for_completion(
        self, *, timeout: float | None = None, since: int | Message | None = None
    ) -> Message:
        """The message that ends the flow (``flow_completed``; the dialect says which)."""
        __tracebackhide__ = True

        def flow_completed(message: Message) -> bool:
            return message.is_flow_completed

        # The waiter's optional hint (see Matcher): look at the flow's ends only.
        flow_completed.categories = self.dialect.end_categories  # type: ignore[attr-defined]

        return await self.wait_for(
            flow_completed, timeout=timeout, since=since, description="the end of the flow"
        )

    @contextlib.asynccontextmanager
    async def expect(
        self,
        matcher: Matcher | None = None,
        *,
        timeout: float | None = None,
        description: Description | None = None,
        fail_on_error: FailOnError | None = None,
        **criteria: Any,
    ) -> AsyncIterator[Expectation]:
        """Arm a wait, then act: ``async with client.expect(category="prompt") as event:``.

        Only messages arriving after the block is entered count; ``event.value`` holds the
        match when the block ends (the block's end waits for it).
        """
        __tracebackhide__ = True
        async with self.waiter.expect(
            self._matcher(matcher, criteria),
            timeout=self._timeout(timeout),
            description=description,
            fail_on_error=fail_on_error,
        ) as expectation:
            yield expectation

    # ------------------------------------------------------------------ queries

    def conversation(self, since: int = 0) -> Conversation:
        """The session's exchange with the human so far, as turns."""
        return Conversation(self.collector.since(since))

    @property
    def metrics(self) -> FlowMetrics:
        """Timings of the session's latest flow run (first prompt, steps, total)."""
        runs = self.collector.filter(category=Category.SENT, type="run_flow", direction="sent")
        start = runs[-1].seq - 1 if runs else 0
        return FlowMetrics.from_messages(self.collector.since(start))

    @property
    def messages(self) -> list[Message]:
        """Everything received and sent so far, in order."""
        return list(self.collector)

    def transcript(self) -> str:
        """The conversation as JSON lines (see :meth:`MessageCollector.to_jsonl`)."""
        return self.collector.to_jsonl()

    recordable = True
    """Whether ``--flow-record`` writes this stream as a replayable session."""

    def recording(self) -> list[RecordingLine]:
        """This session in the recording format replay serves (:mod:`flowwright.recording`)."""
        return recording_lines(self.collector.since(0), http=self._http_answers())

    def _http_answers(self) -> list[tuple[str, Any]]:
        """REST answers this source saw (``/api/flows``), for its recording."""
        return []

    # ------------------------------------------------------------------ the server's exit

    def _watch_server(self) -> None:
        """Fail every wait at once if ``self.server``'s process exits (a server flowwright did
        not start never reports one).

        Called from the loop the waits run in: a runner reports the exit from its watcher
        thread, and the report is handed to that loop.
        """
        if self.server is not None and self._unwatch_server is None:
            loop = asyncio.get_running_loop()
            self._unwatch_server = self.server.on_exit(
                lambda code: _call_soon(loop, self._server_exited, code)
            )

    def _stop_watching_server(self) -> None:
        if self._unwatch_server is not None:
            self._unwatch_server()
            self._unwatch_server = None

    def _server_exited(self, returncode: int) -> None:
        self.waiter.close(self._exit_error(returncode))

    def _exit_error(self, returncode: int) -> ServerExitedError:
        tail = tuple(self.server.log_tail(10)) if self.server is not None else ()
        return ServerExitedError(
            f"the server process exited ({describe_returncode(returncode)})",
            returncode=returncode,
            log_tail=tail,
        )

    async def _why_lost(self, error: ConnectionLostError) -> WaitAbortedError:
        """A dropped socket's real cause: the server's exit if it follows within a grace
        period (a crash drops the socket an instant before the process is reaped), else
        ``error``. One answer for every source, so a crash reads as a crash everywhere."""
        if self.server is not None:
            code = await asyncio.to_thread(self.server.wait_exited, _EXIT_GRACE)
            if code is not None:
                return self._exit_error(code)
        return error

    def _timeout_cause(self) -> str | None:
        """What this source knows that explains a wait timing out (``None``: nothing)."""
        return None

    # ------------------------------------------------------------------ helpers

    def _timeout(self, timeout: float | None) -> float:
        return self.settings.scale(timeout, self.timeout)

    def _since(self, since: int | Message | None) -> int:
        if since is None:
            return self.last_action_seq
        return since.seq if isinstance(since, Message) else since

    @staticmethod
    def _matcher(matcher: Matcher | None, criteria: dict[str, Any]) -> Matcher:
        if matcher is not None and criteria:
            raise TypeError("give either a matcher or Match criteria as keywords, not both")
        if matcher is not None:
            return matcher
        if not criteria:
            raise TypeError("wait_for() needs a matcher or criteria (category=, pattern=, ...)")
        return Match(**criteria)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> None:
    """Hand a call from the runner's watcher thread to the stream's loop, if it still runs."""
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
        loop.call_soon_threadsafe(callback, *args)
