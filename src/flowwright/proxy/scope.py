"""FaultScope: faults in force for one block, and what they took.

``proxy.fault(...)`` returns one, so that a test's faults end with its block however the
block ends (a frame they hold back is sent then), and so that ``f.hits`` answers what *these*
faults took among all the proxy did. It needs of the proxy only ``add`` and ``remove``, so it
does not import the proxy.
"""

from __future__ import annotations

from typing import Protocol, Self

from flowwright.message import Message
from flowwright.proxy.faults import Fault, FrameFault

__all__ = ["FaultScope"]


class _Proxy(Protocol):
    """What a scope does to its :class:`~flowwright.proxy.FlowProxy`."""

    def add(self, *faults: Fault) -> None: ...

    def remove(self, *faults: Fault) -> None: ...


class FaultScope:
    """The faults of one ``with``/``async with proxy.fault(...)`` block: added on entry,
    removed on exit (a frame they hold back is sent then)."""

    def __init__(self, proxy: _Proxy, faults: tuple[Fault, ...]) -> None:
        self.proxy = proxy
        self.faults = faults

    @property
    def hits(self) -> list[Message]:
        """The frames its faults took, in the proxy's order."""
        taken = {
            id(message): message
            for fault in self.faults
            if isinstance(fault, FrameFault)
            for message in fault.hits
        }
        return sorted(taken.values(), key=lambda message: message.seq)

    def __enter__(self) -> Self:
        self.proxy.add(*self.faults)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.proxy.remove(*self.faults)

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__()
