"""The per-test scope: one test's settings, streams, attachments and plugin state.

flowwright keeps no process-wide mutable state. The pytest plugin opens a :class:`TestScope`
for the session (what runs outside any test) and one for each test, and sets it in a context
variable; clients, pages, helpers and the other plugins read :func:`current`. So a test's
streams are its own, its marker's settings end with it, and nothing needs restoring field by
field. Outside pytest the defaults apply and nothing is remembered.

A timeout resolves per call → per client → :attr:`Settings.timeout`, then is multiplied by
:attr:`Settings.timeout_factor` (``--flow-timeout-factor``), so a slow machine scales them all.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self, cast

import pytest

from flowwright.dialect import FLOWWRIGHT, Dialect

if TYPE_CHECKING:
    from flowwright.collector import MessageCollector
    from flowwright.server import FlowServer
    from flowwright.waiter import FailOnError

__all__ = ["SCOPE", "Settings", "Source", "TestScope", "current", "entered", "settings"]


@dataclass(frozen=True)
class Settings:
    """What every client falls back on; one value per scope, changed by replacing it."""

    timeout: float = 30.0
    timeout_factor: float = 1.0
    fail_on_error: FailOnError = True
    dialect: Dialect = FLOWWRIGHT
    """How the server under test speaks (``--flow-dialect``); clients may name their own."""
    server: Callable[[], FlowServer] | None = None
    """Returns the test's server, starting it on first use (set by the pytest plugin)."""
    keep_messages: int | None = None
    """Hold at most this many messages' text in memory per stream, older ones spilled to a
    JSONL file and read back when asked for (``--flow-keep-messages``): for very long runs."""

    def scale(self, timeout: float | None, fallback: float | None = None) -> float:
        """``timeout`` (else ``fallback``, else the default) times the timeout factor."""
        for value in (timeout, fallback):
            if value is not None:
                return value * self.timeout_factor
        return self.timeout * self.timeout_factor

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


class Source(Protocol):
    """What a scope knows of each of its streams (a :class:`~flowwright.stream.FlowStream`):
    its title and its messages."""

    @property
    def title(self) -> str: ...

    @property
    def collector(self) -> MessageCollector: ...


@dataclass(eq=False)
class TestScope:
    """What one test (or the session, or a program outside pytest) shares."""

    __test__ = False  # not a test class, whatever its name says

    name: str
    settings: Settings = field(default_factory=Settings)
    streams: list[Source] | None = None
    """Every flow stream opened in this scope — WebSocket clients, browser pages, MCP clients —
    for failure reports and the HTML report; ``None``: not remembered (outside a test)."""
    attachments: list[dict[str, Any]] | None = None
    """Evidence for the report (``flowwright.report.attach``); ``None``: no report is written."""
    stash: pytest.Stash = field(default_factory=pytest.Stash)
    """What plugins keep for this test (the web plugin: its directories and options)."""


SCOPE = pytest.StashKey[TestScope]()
"""Where a test item keeps its scope, for the report hooks that run after it has ended."""

_CURRENT: ContextVar[TestScope | None] = ContextVar("flowwright_scope", default=None)


def current() -> TestScope:
    """The running test's scope; a fresh default one outside pytest (nothing remembered)."""
    return _CURRENT.get() or TestScope("outside pytest")


@contextlib.contextmanager
def entered(scope: TestScope) -> Iterator[TestScope]:
    """Make ``scope`` current for the block (and for tasks and threads started in it)."""
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)


class _CurrentSettings:
    """``flowwright.settings``: the running test's :class:`Settings`, read-only.

    Read it anywhere (``settings.timeout_factor``); change it per test with the ``flow``
    marker or for the run with the plugin's options, never by assignment.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(current().settings, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"flowwright.settings is read-only (it is the running test's): set {name!r} with "
            "@pytest.mark.flow(...) or the plugin's options, or replace a scope's settings: "
            "flowwright.context.current().settings = ....replace(...)"
        )

    def __repr__(self) -> str:
        return f"<the settings of {current().name}: {current().settings}>"


settings: Settings = cast(Settings, _CurrentSettings())
"""The running test's settings (see :class:`_CurrentSettings`)."""
