"""flowwright: integration testing for long-running, event-driven, multi-agent flows.

Tests wait for what the flow signals, never for a fixed delay, against real running
components, and when they fail they say what was awaited and what arrived instead.
"""

# The names below are imported on first use (PEP 562): ``import flowwright.protocol`` (the
# reference server, every pytest-xdist worker's plugins) then costs the package this file
# only, not the client, websockets and pytest's machinery behind it. Type checkers read the
# ``TYPE_CHECKING`` imports, which are the same names from the same modules.
#
# ``_EXPORTS`` says which module each public name comes from; ``__all__`` is derived from it.
# ``client``, ``conversation`` and ``errors`` are re-exported whole: tests/framework/
# test_exports.py fails when a name in their ``__all__`` is missing here, pins the result,
# and fails on a duplicate or on a name that is not its module's public name.

import typing as _typing
from types import MappingProxyType as _MappingProxyType

if _typing.TYPE_CHECKING:  # ``X as X``: an explicit re-export, to mypy --strict and ruff
    from flowwright.category import Category as Category
    from flowwright.client import *  # noqa: F403
    from flowwright.collector import MessageCollector as MessageCollector
    from flowwright.context import Settings as Settings
    from flowwright.context import settings as settings
    from flowwright.conversation import *  # noqa: F403
    from flowwright.dialect import Dialect as Dialect
    from flowwright.errors import *  # noqa: F403
    from flowwright.match import Match as Match
    from flowwright.message import Message as Message
    from flowwright.runner import TestFlowRunner as TestFlowRunner
    from flowwright.server import FlowServer as FlowServer
    from flowwright.server import RemoteServer as RemoteServer
    from flowwright.simulator import Exchange as Exchange
    from flowwright.simulator import Reply as Reply
    from flowwright.simulator import ResponseSimulator as ResponseSimulator
    from flowwright.simulator import interpret_reply as interpret_reply
    from flowwright.waiter import Expectation as Expectation
    from flowwright.waiter import FlowEventWaiter as FlowEventWaiter

_EXPORTS = _MappingProxyType(
    {
        "flowwright.client": ("FlowTestClient",),
        "flowwright.collector": ("MessageCollector",),
        "flowwright.context": ("Settings", "settings"),
        "flowwright.conversation": ("Conversation", "FlowMetrics", "Turn"),
        "flowwright.dialect": ("Dialect",),
        "flowwright.errors": (
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
        ),
        "flowwright.match": ("Match",),
        "flowwright.message": ("Message",),
        "flowwright.category": ("Category",),
        "flowwright.runner": ("TestFlowRunner",),
        "flowwright.server": ("FlowServer", "RemoteServer"),
        "flowwright.simulator": ("Exchange", "Reply", "ResponseSimulator", "interpret_reply"),
        "flowwright.waiter": ("Expectation", "FlowEventWaiter"),
    }
)
"""Module → the names of it the package exports."""

_HOMES = _MappingProxyType({name: module for module, names in _EXPORTS.items() for name in names})
"""Public name → the module it is imported from on first use."""

__all__ = ["__version__", *_HOMES]

__version__: str  # declared for type checkers; looked up on first use (``__getattr__``)
"""The installed distribution's version."""

if not _typing.TYPE_CHECKING:  # to a type checker, an unknown name stays an error

    def __getattr__(name: str) -> object:
        """Import a public name's module on first use, and keep the name here."""
        if name != "__version__":
            from flowwright.lazy import lazy_attributes  # not even this until a name is asked

            return lazy_attributes(__name__, _HOMES)(name)
        from importlib.metadata import version  # email, zipfile...: only when asked

        globals()[name] = value = version("flowwright")
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
