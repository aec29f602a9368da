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

if TYPE_CHECKING:  # ``X as X``: an explicit re-export, to mypy --strict and ruff
    from flowwright.proxy.connection import ProxyConnection as ProxyConnection
    from flowwright.proxy.endpoint import ProxiedServer as ProxiedServer
    from flowwright.proxy.faults import Corrupt as Corrupt
    from flowwright.proxy.faults import CorruptMode as CorruptMode
    from flowwright.proxy.faults import Cut as Cut
    from flowwright.proxy.faults import Delay as Delay
    from flowwright.proxy.faults import Drop as Drop
    from flowwright.proxy.faults import Duplicate as Duplicate
    from flowwright.proxy.faults import Fault as Fault
    from flowwright.proxy.faults import FrameFault as FrameFault
    from flowwright.proxy.faults import Outcome as Outcome
    from flowwright.proxy.faults import Refuse as Refuse
    from flowwright.proxy.faults import Reorder as Reorder
    from flowwright.proxy.faults import Side as Side
    from flowwright.proxy.faults import Throttle as Throttle
    from flowwright.proxy.faults import corrupt as corrupt
    from flowwright.proxy.faults import cut as cut
    from flowwright.proxy.faults import delay as delay
    from flowwright.proxy.faults import drop as drop
    from flowwright.proxy.faults import duplicate as duplicate
    from flowwright.proxy.faults import refuse as refuse
    from flowwright.proxy.faults import reorder as reorder
    from flowwright.proxy.faults import throttle as throttle
    from flowwright.proxy.relay import FlowProxy as FlowProxy
    from flowwright.proxy.scope import FaultScope as FaultScope


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
__all__ = sorted(_HOMES)  # the TYPE_CHECKING imports re-export them to type checkers

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES)
