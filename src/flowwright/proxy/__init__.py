"""flowwright.proxy: test any flow server's resilience through a fault-injecting proxy.

A :class:`FlowProxy` sits between a client (a :class:`~flowwright.FlowTestClient`, a browser
page, a UI) and any flow server, on its own port, and does to the frames what a test scripts:
delay, drop, duplicate, reorder, corrupt, cut the connection, refuse reconnects, throttle —
matched on what the frames mean (the dialect's categories) or on any predicate::

    from flowwright.proxy import FlowProxy, drop

    async with FlowProxy(server) as proxy, FlowTestClient.create(server=proxy.endpoint) as c:
        async with proxy.fault(drop(category="result", count=1)):
            ...

Under pytest the ``flow_proxy`` fixture starts one in front of the test's server and routes
``flow_client`` and ``flow_page`` through it; ``flowwright proxy --target ws://...`` runs one
from a shell. What the proxy does is noted in the transcript of the client it did it to.
"""

# The names are imported on first use (flowwright.lazy): every pytest process loads this
# package with its plugin, and most never use the rest of it.

from types import MappingProxyType
from typing import TYPE_CHECKING

from flowwright.lazy import lazy_attributes

if TYPE_CHECKING:
    from flowwright.proxy.connection import ProxyConnection
    from flowwright.proxy.endpoint import ProxiedServer
    from flowwright.proxy.faults import (
        Corrupt,
        CorruptMode,
        Cut,
        Delay,
        Drop,
        Duplicate,
        Fault,
        FrameFault,
        Outcome,
        Refuse,
        Reorder,
        Side,
        Throttle,
        corrupt,
        cut,
        delay,
        drop,
        duplicate,
        refuse,
        reorder,
        throttle,
    )
    from flowwright.proxy.relay import FlowProxy
    from flowwright.proxy.scope import FaultScope

__all__ = [
    "Corrupt",
    "CorruptMode",
    "Cut",
    "Delay",
    "Drop",
    "Duplicate",
    "Fault",
    "FaultScope",
    "FlowProxy",
    "FrameFault",
    "Outcome",
    "ProxiedServer",
    "ProxyConnection",
    "Refuse",
    "Reorder",
    "Side",
    "Throttle",
    "corrupt",
    "cut",
    "delay",
    "drop",
    "duplicate",
    "refuse",
    "reorder",
    "throttle",
]

_HOMES = MappingProxyType(
    {
        "Corrupt": "flowwright.proxy.faults",
        "CorruptMode": "flowwright.proxy.faults",
        "Cut": "flowwright.proxy.faults",
        "Delay": "flowwright.proxy.faults",
        "Drop": "flowwright.proxy.faults",
        "Duplicate": "flowwright.proxy.faults",
        "Fault": "flowwright.proxy.faults",
        "FaultScope": "flowwright.proxy.scope",
        "FlowProxy": "flowwright.proxy.relay",
        "FrameFault": "flowwright.proxy.faults",
        "Outcome": "flowwright.proxy.faults",
        "ProxiedServer": "flowwright.proxy.endpoint",
        "ProxyConnection": "flowwright.proxy.connection",
        "Refuse": "flowwright.proxy.faults",
        "Reorder": "flowwright.proxy.faults",
        "Side": "flowwright.proxy.faults",
        "Throttle": "flowwright.proxy.faults",
        "corrupt": "flowwright.proxy.faults",
        "cut": "flowwright.proxy.faults",
        "delay": "flowwright.proxy.faults",
        "drop": "flowwright.proxy.faults",
        "duplicate": "flowwright.proxy.faults",
        "refuse": "flowwright.proxy.faults",
        "reorder": "flowwright.proxy.faults",
        "throttle": "flowwright.proxy.faults",
    }
)
"""Public name → the module it is imported from on first use."""

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES)
