"""FlowEventWaiter: the one waiting mechanism behind every ``wait_for`` in flowwright.

A wait is a future resolved by the collector's listener as messages arrive (no polling), fed
first with the backlog since a given sequence number so that a fast answer is never missed.
It ends one of five ways: the matcher accepts a message; an error the dialect calls fatal
arrives (fail fast, unless the wait asked for errors); the flow ends without the awaited
message (for waits that ask, such as results and prompts); the source closes or the server
exits (:meth:`FlowEventWaiter.close`); or the timeout expires. All but the first raise errors
whose text says what was awaited, how long, what arrived instead, and the server's state.
"""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from flowwright.collector import MessageCollector
from flowwright.errors import (
    FlowEndedError,
    FlowErrorEvent,
    FlowTimeoutError,
    FlowwrightError,
    WaitAbortedError,
)
from flowwright.match import Matcher
from flowwright.message import Message
from flowwright.protocol import Category

__all__ = [
    "Description",
    "Expectation",
    "FailOnError",
    "FlowEventWaiter",
    "PendingWait",
    "WaitRecord",
]


Description = str | Callable[[], str]
"""What a wait awaits, for its errors: a text, or a function giving it (for waits whose
description changes as messages arrive, such as "results from [...] (got: ...)")."""
FailOnError = bool | Callable[[Message], bool]
"""Which error messages fail a wait: ``True`` those the dialect calls fatal, ``False`` none,
or a predicate of your own."""
WaitOutcome = Literal["pending", "matched", "timeout", "error", "aborted", "cancelled"]


@dataclass(slots=True)
class WaitRecord:
    """What one wait was, and how it ended: the report's account of the test's waits.

    Times are seconds on the collector's clock, like :attr:`Message.time`, so a wait lines up
    with the messages around it. ``outcome`` stays ``"pending"`` for a wait still armed.
    """

    description: str
    since: int
    started: float
    timeout: float | None = None
    ended: float | None = None
    outcome: WaitOutcome = "pending"
    matched_seq: int | None = None
    detail: str | None = None  # the first line of the error that ended it

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


class PendingWait:
    """One armed wait: a future plus what it needs to explain itself if it fails."""

    def __init__(
        self,
        waiter: FlowEventWaiter,
        matcher: Matcher,
        *,
        since: int,
        description: Description | None,
        fail_on_error: FailOnError,
        fail_on_end: bool = False,
    ) -> None:
        self._waiter = waiter
        self.matcher = matcher
        self.since = since
        self._description = description
        self.fail_on_error = fail_on_error
        self.fail_on_end = fail_on_end
        self.armed_at = waiter.collector.elapsed
        self.armed_seq = waiter.collector.last_seq
        self.future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.record = WaitRecord(self.description, since, self.armed_at)
        waiter.history.append(self.record)
        self.decided_by = _deciding(matcher, fail_on_error, fail_on_end, waiter.collector)
        """The categories of the messages that can decide this wait (``None``: any); others
        are not even looked at, live as in the backlog."""

    @property
    def description(self) -> str:
        text = self._description
        if callable(text):
            return text()
        return text or str(self.matcher)

    def feed(self, message: Message) -> None:
        """Resolve or reject with ``message`` if it decides this wait."""
        if self.future.done():
            return
        if self.decided_by is not None and message.category not in self.decided_by:
            return
        if self.matcher(message):
            self._settle(message)
        elif message.category == Category.ERROR and self._fails_on(message):
            outputs = message.outputs if isinstance(message.outputs, dict) else {}
            source = outputs.get("source") or message.role
            error: WaitAbortedError = FlowErrorEvent(
                f"{message.content} ([{source or 'unknown source'}] error #{message.seq}, "
                f"while waiting for {self.description})",
                source=source,
                content=message.content,
            )
            self._settle(error.with_diagnostics(self._waiter.diagnostics(self)))
        elif self.fail_on_end and message.is_flow_completed:
            ran = self._waiter.agents_that_ran(since=self.since)
            error = FlowEndedError(
                f"the flow ended (#{message.seq} {message.content}) without "
                f"{self.description}; agents that ran: {', '.join(ran) or 'none'}"
            )
            self._settle(error.with_diagnostics(self._waiter.diagnostics(self)))

    def _fails_on(self, error: Message) -> bool:
        if callable(self.fail_on_error):
            return bool(self.fail_on_error(error))
        return self.fail_on_error and error.is_fatal

    def abort(self, error: WaitAbortedError) -> None:
        if not self.future.done():
            own = copy.copy(error)  # one exception object per wait, each with its own story
            own.message = f"{error.message} while waiting for {self.description}"
            self._settle(own.with_diagnostics(self._waiter.diagnostics(self)))

    async def result(self, timeout: float | None, *, total: float | None = None) -> Message:
        """Wait for the outcome; a timeout becomes :class:`FlowTimeoutError`.

        ``total`` is the timeout to report when ``timeout`` is what remains of it. The timer
        rejects the future itself, so a message wakes the test with no extra loop hops.
        """
        __tracebackhide__ = True
        timer = None
        self.record.timeout = timeout if total is None else total
        if timeout is not None and not self.future.done():
            timer = asyncio.get_running_loop().call_later(
                max(timeout, 0.0), self._expire, timeout if total is None else total
            )
        try:
            return await self.future
        finally:
            if timer is not None:
                timer.cancel()
            self.cancel()

    def _expire(self, total: float) -> None:
        if self.future.done():
            return
        cause = self._waiter.timeout_cause() if self._waiter.timeout_cause else None
        self._settle(
            FlowTimeoutError(
                (f"{cause}: " if cause else "")
                + f"timed out after {total:g}s waiting for {self.description}",
                self._waiter.diagnostics(self),
                timeout=total,
            )
        )

    def _settle(self, outcome: Message | Exception) -> None:
        """Decide the wait: every result and error goes through here, then into the record."""
        if isinstance(outcome, Exception):
            if isinstance(outcome, FlowwrightError) and hasattr(outcome, "shown"):
                collector = self._waiter.collector
                outcome.shown = (collector, max(1, len(collector) - self._waiter.tail + 1))
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)
        self._ended()

    def _ended(self) -> None:
        """Complete :attr:`record` once, when the future is done (decided or cancelled)."""
        record, future = self.record, self.future
        if record.ended is not None or not future.done():
            return
        record.ended = self._waiter.collector.elapsed
        if callable(self._description):  # a progress description's final state
            record.description = self.description
        if future.cancelled():
            record.outcome = "cancelled"
            return
        error = future.exception()
        if error is None:
            record.outcome, record.matched_seq = "matched", future.result().seq
            return
        record.outcome = (
            "timeout"
            if isinstance(error, FlowTimeoutError)
            else "error"
            if isinstance(error, FlowErrorEvent | FlowEndedError)
            else "aborted"
        )
        record.detail = str(error).partition("\n")[0]

    def cancel(self) -> None:
        self._waiter._pending.discard(self)
        if not self.future.done():
            self.future.cancel()
        elif not self.future.cancelled():
            self.future.exception()  # mark retrieved: no "exception never retrieved" noise
        self._ended()  # cancelled here, or by the awaiting task's cancellation


class Expectation:
    """The handle of :meth:`FlowEventWaiter.expect`; ``value`` is set when the block exits."""

    def __init__(self, wait: PendingWait) -> None:
        self._wait = wait
        self._value: Message | None = None

    @property
    def value(self) -> Message:
        """The matching message; an error before the block has ended."""
        if self._value is None:
            raise RuntimeError(
                "the expected message is known only after the 'async with' block ends"
            )
        return self._value


class FlowEventWaiter:
    """Waits on a :class:`MessageCollector`; every wait in flowwright goes through here."""

    def __init__(
        self,
        collector: MessageCollector,
        *,
        describe_state: Callable[[], str] | None = None,
        fail_on_error: FailOnError = True,
        tail: int = 12,
        timeout_cause: Callable[[], str | None] | None = None,
    ) -> None:
        self.collector = collector
        self.fail_on_error = fail_on_error
        self._describe_state = describe_state
        self.timeout_cause = timeout_cause
        """What the source knows explains a timeout (a page that never opened its socket),
        put first in the error; ``None`` when it knows nothing more."""
        self.tail = tail
        """How many of the last messages a failed wait's diagnostics show."""
        self._pending: set[PendingWait] = set()
        self._closed: WaitAbortedError | None = None
        self.history: list[WaitRecord] = []
        """Every wait armed here, in order, with how it ended (for the test report)."""
        collector.subscribe(self._notify)

    @property
    def closed(self) -> WaitAbortedError | None:
        """Why the source closed, or ``None`` while it is open."""
        return self._closed

    def arm(
        self,
        matcher: Matcher,
        *,
        since: int,
        description: Description | None = None,
        fail_on_error: FailOnError | None = None,
        fail_on_end: bool = False,
    ) -> PendingWait:
        """Register a wait now, decided first by the messages numbered after ``since``."""
        wait = PendingWait(
            self,
            matcher,
            since=since,
            description=description,
            fail_on_error=self.fail_on_error if fail_on_error is None else fail_on_error,
            fail_on_end=fail_on_end,
        )
        for message in self._backlog(wait):
            wait.feed(message)
            if wait.future.done():
                return wait
        if self._closed is not None:
            wait.abort(self._closed)
        else:
            self._pending.add(wait)
        return wait

    async def wait_for(
        self,
        matcher: Matcher,
        *,
        timeout: float | None,
        since: int,
        description: Description | None = None,
        fail_on_error: FailOnError | None = None,
        fail_on_end: bool = False,
    ) -> Message:
        """The first message after ``since`` that ``matcher`` accepts."""
        __tracebackhide__ = True
        wait = self.arm(
            matcher,
            since=since,
            description=description,
            fail_on_error=fail_on_error,
            fail_on_end=fail_on_end,
        )
        return await wait.result(timeout)

    @asynccontextmanager
    async def expect(
        self,
        matcher: Matcher,
        *,
        timeout: float | None,
        description: Description | None = None,
        fail_on_error: FailOnError | None = None,
        fail_on_end: bool = False,
    ) -> AsyncIterator[Expectation]:
        """Arm before acting: only messages after entry count; the timeout runs from entry."""
        __tracebackhide__ = True
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        wait = self.arm(
            matcher,
            since=self.collector.last_seq,
            description=description,
            fail_on_error=fail_on_error,
            fail_on_end=fail_on_end,
        )
        expectation = Expectation(wait)
        try:
            yield expectation
        except BaseException:
            wait.cancel()
            raise
        remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
        expectation._value = await wait.result(remaining, total=timeout)

    def _backlog(self, wait: PendingWait) -> Iterator[Message]:
        """The messages after ``wait.since`` that can decide it: of its matcher's categories,
        the errors (if they can fail it) and the flow's ends (if they can), in order — not the
        whole log since, however long it is."""
        return self.collector.candidates(wait.since, wait.decided_by)

    def close(self, error: WaitAbortedError) -> None:
        """The source is gone: fail every pending wait now, and every later one at once."""
        if self._closed is not None:
            return
        self._closed = error
        for wait in tuple(self._pending):
            wait.abort(error)
        self._pending.clear()

    def abort_pending(self, error: WaitAbortedError) -> None:
        """Fail every wait pending now (the source stays open: later waits work)."""
        for wait in tuple(self._pending):
            wait.abort(error)
        self._pending.clear()

    def reopen(self) -> None:
        """The source is back (a reconnect): waits work again."""
        self._closed = None

    def diagnostics(self, wait: PendingWait) -> str:
        """What arrived instead, and the state of the server, for a failed wait.

        Near misses — messages of the awaited kind that did not match, such as prompts whose
        text missed the pattern — are shown in full, like Playwright's "unexpected value".
        """
        arrived = self.collector.since(wait.armed_seq)
        counts = ", ".join(
            f"{category} {n}" for category, n in Counter(str(m.category) for m in arrived).items()
        )
        waited = self.collector.elapsed - wait.armed_at
        lines = [
            f"  awaited: {wait.description} (messages after #{wait.since}; waited {waited:.2f}s)",
            f"  while waiting: {len(arrived)} new message(s)" + (f" ({counts})" if counts else ""),
        ]
        near = getattr(wait.matcher, "near", None)
        misses = [m for m in self.collector.since(wait.since) if near(m)] if near else []
        if misses:
            lines.append(f"  near misses ({len(misses)}; the last {min(len(misses), 3)} in full):")
            lines += [f"    {m.in_full()}" for m in misses[-3:]]
        lines += [
            f"last messages (of {len(self.collector)} recorded):",
            self.collector.format_tail(self.tail),
        ]
        if self._describe_state is not None:
            lines.append(self._describe_state())
        return "\n".join(lines)

    def agents_that_ran(self, *, since: int = 0) -> list[str]:
        """The roles that produced results or started a task after ``since``, in order."""
        roles: dict[str, None] = {}
        for message in self.collector.since(since):
            worked = message.category in (Category.RESULT, Category.CHAT) or (
                message.task is not None and message.task.status == "started"
            )
            if worked and message.role:
                roles[message.role] = None
        return list(roles)

    def _notify(self, message: Message) -> None:
        if not self._pending:
            return
        for wait in tuple(self._pending):
            wait.feed(message)
            if wait.future.done():
                self._pending.discard(wait)


def _deciding(
    matcher: Matcher, fail_on_error: FailOnError, fail_on_end: bool, collector: MessageCollector
) -> frozenset[Category] | None:
    """The categories of the messages that can decide a wait (``None``: any): its matcher's,
    the errors if they can fail it, the flow's ends if they can — as :meth:`_backlog` reads."""
    wanted: frozenset[Category] | None = getattr(matcher, "categories", None)
    if wanted is None:
        return None
    if fail_on_error:
        wanted = wanted | {Category.ERROR}
    if fail_on_end:
        wanted = wanted | collector.dialect.end_categories
    return wanted
