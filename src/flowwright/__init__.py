"""flowwright: integration testing for long-running, event-driven, multi-agent flows.

Tests wait for what the flow signals, never for a fixed delay, against real running
components, and when they fail they say what was awaited and what arrived instead.
"""

# ``__all__`` is derived from the modules' own ``__all__`` (the forms type checkers read:
# ``from m import *`` and ``__all__ += m.__all__``): a module re-exported whole adds its
# public names here by adding them to its own ``__all__``. From a module only partly
# re-exported, the names are picked below; the rest stay in their module (the wire models
# in ``flowwright.protocol``, the built-in dialects in ``flowwright.dialect``...).
# tests/framework/test_exports.py pins the result and fails on a duplicate or on a public
# name left out of ``__all__``.

from importlib.metadata import version as _version

from flowwright import client, conversation, errors
from flowwright.client import *  # noqa: F403
from flowwright.collector import MessageCollector
from flowwright.context import Settings, settings
from flowwright.conversation import *  # noqa: F403
from flowwright.dialect import Dialect
from flowwright.errors import *  # noqa: F403
from flowwright.match import Match
from flowwright.message import Message
from flowwright.protocol import Category
from flowwright.runner import TestFlowRunner
from flowwright.server import FlowServer, RemoteServer
from flowwright.simulator import Exchange, Reply, ResponseSimulator, interpret_reply
from flowwright.waiter import Expectation, FlowEventWaiter

__version__ = _version("flowwright")
"""The installed distribution's version."""

__all__ = [  # noqa: RUF022 (by module, as the imports)
    "__version__",
    # flowwright.collector
    "MessageCollector",
    # flowwright.context
    "Settings",
    "settings",
    # flowwright.dialect
    "Dialect",
    # flowwright.match
    "Match",
    # flowwright.message
    "Message",
    # flowwright.protocol
    "Category",
    # flowwright.runner
    "TestFlowRunner",
    # flowwright.server
    "FlowServer",
    "RemoteServer",
    # flowwright.simulator
    "Exchange",
    "Reply",
    "ResponseSimulator",
    "interpret_reply",
    # flowwright.waiter
    "Expectation",
    "FlowEventWaiter",
]
__all__ += client.__all__
__all__ += conversation.__all__
__all__ += errors.__all__
