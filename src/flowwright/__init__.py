"""flowwright: integration testing for long-running, event-driven, multi-agent flows.

Tests wait for what the flow signals, never for a fixed delay, against real running
components, and when they fail they say what was awaited and what arrived instead.
"""

from importlib.metadata import version as _version

from flowwright.client import FlowTestClient
from flowwright.collector import MessageCollector
from flowwright.context import Settings, settings
from flowwright.conversation import Conversation, FlowMetrics, Turn
from flowwright.dialect import Dialect
from flowwright.errors import (
    AxeNotFoundError,
    BrowserNotFoundError,
    ClientStateError,
    ConnectError,
    ConnectionLostError,
    FlowEndedError,
    FlowErrorEvent,
    FlowTimeoutError,
    FlowwrightError,
    FlowwrightWarning,
    MissingExtraError,
    NoReplyError,
    ProtocolError,
    ServerExitedError,
    ServerStartError,
    UIPageError,
    WaitAbortedError,
)
from flowwright.match import Match
from flowwright.message import Message
from flowwright.protocol import Category
from flowwright.runner import TestFlowRunner
from flowwright.server import FlowServer, RemoteServer
from flowwright.simulator import Exchange, Reply, ResponseSimulator, interpret_reply
from flowwright.waiter import Expectation, FlowEventWaiter

__version__ = _version("flowwright")
"""The installed distribution's version."""

__all__ = [
    "AxeNotFoundError",
    "BrowserNotFoundError",
    "Category",
    "ClientStateError",
    "ConnectError",
    "ConnectionLostError",
    "Conversation",
    "Dialect",
    "Exchange",
    "Expectation",
    "FlowEndedError",
    "FlowErrorEvent",
    "FlowEventWaiter",
    "FlowMetrics",
    "FlowServer",
    "FlowTestClient",
    "FlowTimeoutError",
    "FlowwrightError",
    "FlowwrightWarning",
    "Match",
    "Message",
    "MessageCollector",
    "MissingExtraError",
    "NoReplyError",
    "ProtocolError",
    "RemoteServer",
    "Reply",
    "ResponseSimulator",
    "ServerExitedError",
    "ServerStartError",
    "Settings",
    "TestFlowRunner",
    "Turn",
    "UIPageError",
    "WaitAbortedError",
    "__version__",
    "interpret_reply",
    "settings",
]
