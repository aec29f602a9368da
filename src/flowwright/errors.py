"""Every exception flowwright raises, under one root, each with a message a person can act on.

::

    FlowwrightError
    ├── FlowTimeoutError        (also a built-in TimeoutError) the awaited event never came
    ├── WaitAbortedError        a pending wait was failed early, instead of timing out:
    │   ├── FlowErrorEvent          the flow sent an error the dialect calls fatal
    │   ├── FlowEndedError          the flow ended without the awaited message
    │   ├── NoReplyError            the simulator had no reply for a prompt
    │   ├── ConnectionLostError     the WebSocket closed
    │   └── ServerExitedError       the server process exited
    ├── ServerStartError        the server under test did not come up
    ├── ConnectError            the client could not open its WebSocket
    ├── ProtocolError           a frame or an argument breaks the wire protocol
    ├── ClientStateError        a client method was called at the wrong time
    ├── BrowserNotFoundError    no Chromium to run UI tests with (says how to install one)
    ├── AxeNotFoundError        no axe-core script for accessibility checks (says how to get it)
    ├── UIPageError             the UI under test answered an error status or could not be opened
    └── MissingExtraError       (also an ImportError) a feature's extra is not installed

Warnings flowwright gives (a reconnect that may have lost messages) are
:class:`FlowwrightWarning` s.

Wait errors carry a ``diagnostics`` text (what was awaited, for how long, the last messages
that did arrive, the server's state and log tail) that is part of ``str(error)``.
"""

from __future__ import annotations

from typing import Self

__all__ = [
    "AxeNotFoundError",
    "BrowserNotFoundError",
    "ClientStateError",
    "ConnectError",
    "ConnectionLostError",
    "FlowEndedError",
    "FlowErrorEvent",
    "FlowTimeoutError",
    "FlowwrightError",
    "FlowwrightWarning",
    "MissingExtraError",
    "NoReplyError",
    "ProtocolError",
    "ServerExitedError",
    "ServerStartError",
    "UIPageError",
    "WaitAbortedError",
]


class FlowwrightError(Exception):
    """Root of every flowwright exception."""


class FlowwrightWarning(UserWarning):
    """Something a test should know that does not fail it by itself (e.g. a reconnect to a
    server that cannot resume: messages sent during the gap may be missing)."""


class _Diagnosed(FlowwrightError):
    """An error whose message ends with the diagnostics gathered while waiting."""

    def __init__(self, message: str, diagnostics: str = "") -> None:
        self.message = message
        self.diagnostics = diagnostics
        self.shown: tuple[object, int] | None = None
        """(the collector, the first message number) of the transcript tail the diagnostics
        show, so a report does not print those messages twice."""
        super().__init__(message)

    def with_diagnostics(self, diagnostics: str) -> Self:
        """Attach diagnostics once they are known (the waiter adds them on failure)."""
        self.diagnostics = diagnostics
        return self

    def __str__(self) -> str:
        return f"{self.message}\n{self.diagnostics}" if self.diagnostics else self.message


class FlowTimeoutError(_Diagnosed, TimeoutError):
    """The awaited message did not arrive in time. Also a ``TimeoutError``."""

    def __init__(self, message: str, diagnostics: str = "", *, timeout: float = 0.0) -> None:
        super().__init__(message, diagnostics)
        self.timeout = timeout


class WaitAbortedError(_Diagnosed):
    """A pending wait was failed at once because waiting on could not succeed."""


class FlowErrorEvent(WaitAbortedError):
    """The flow reported an error (a ``system_error``) while a wait was pending."""

    def __init__(
        self, message: str, diagnostics: str = "", *, source: str | None = None, content: str = ""
    ) -> None:
        super().__init__(message, diagnostics)
        self.source = source
        self.content = content


class FlowEndedError(WaitAbortedError):
    """The flow ended (the dialect's end of flow arrived) while the awaited message had not."""


class NoReplyError(WaitAbortedError):
    """A :class:`~flowwright.simulator.ResponseSimulator` had no reply for a prompt: no script
    step or rule matched and it has no default. Fails the waits pending at that prompt."""


class ConnectionLostError(WaitAbortedError):
    """The WebSocket closed while a wait was pending (or before a send)."""

    def __init__(
        self, message: str, diagnostics: str = "", *, code: int | None = None, reason: str = ""
    ) -> None:
        super().__init__(message, diagnostics)
        self.code = code
        self.reason = reason


class ServerExitedError(WaitAbortedError):
    """The server process under test exited; carries its exit code and log tail."""

    def __init__(
        self,
        message: str,
        diagnostics: str = "",
        *,
        returncode: int | None = None,
        log_tail: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, diagnostics)
        self.returncode = returncode
        self.log_tail = log_tail


class ServerStartError(_Diagnosed):
    """The server under test could not be started or never became healthy."""


class ConnectError(_Diagnosed):
    """The WebSocket could not be opened (refused, bad URL, handshake rejected, timeout)."""


class ProtocolError(FlowwrightError):
    """A message or argument that breaks the wire protocol (e.g. an unknown flow option)."""


class ClientStateError(FlowwrightError):
    """A client method was called in a state where it cannot work (e.g. before connecting)."""


class BrowserNotFoundError(FlowwrightError):
    """No Chromium executable was found for UI tests; the message says how to provide one."""


class AxeNotFoundError(FlowwrightError):
    """No axe-core script was found for accessibility checks; the message says how to get it."""


class UIPageError(FlowwrightError):
    """The UI's page answered an error status or could not be loaded at all (the message
    names the URL, the status and the start of the body)."""


class MissingExtraError(FlowwrightError, ImportError):
    """A feature needs an optional extra that is not installed; the message names the
    ``pip install "flowwright[...]"`` that brings it. Also an ``ImportError``."""


for _name in __all__:  # printed as flowwright.X, the name users import, in every traceback
    globals()[_name].__module__ = "flowwright"
del _name
