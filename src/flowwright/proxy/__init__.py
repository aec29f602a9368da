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
from flowwright.proxy.relay import FaultScope, FlowProxy, ProxiedServer, ProxyConnection

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
