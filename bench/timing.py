"""The one clock, the one timing helper and the one percentile function of the benchmarks.

Every figure is taken with ``time.monotonic_ns()`` (``CLOCK_MONOTONIC``), not
``perf_counter_ns()``: the benchmark server stamps frames in *another process*, and on Linux
``CLOCK_MONOTONIC`` is one system-wide clock, so a stamp taken there and a reading taken
here subtract meaningfully (``perf_counter`` makes no cross-process promise). It also never
jumps with NTP as ``time.time_ns()`` can. Its resolution is 1 ns on Linux.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Timer", "clock_info", "median", "now_ns", "percentile", "timed"]

now_ns = time.monotonic_ns
"""Nanoseconds on the system-wide monotonic clock (comparable across processes on Linux)."""


@dataclass
class Timer:
    """The span of one :func:`timed` block; ``seconds`` is final once the block has ended."""

    start_ns: int
    end_ns: int | None = None

    @property
    def seconds(self) -> float:
        end = now_ns() if self.end_ns is None else self.end_ns
        return (end - self.start_ns) / 1e9


@contextmanager
def timed() -> Iterator[Timer]:
    """Time a block, sync or async alike: ``with timed() as t: await work()``; ``t.seconds``."""
    timer = Timer(now_ns())
    try:
        yield timer
    finally:
        timer.end_ns = now_ns()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100) by linear interpolation between closest ranks.

    Interpolation, not nearest rank, so that p99 of a few hundred samples is not simply the
    maximum and p50 of an even count is the usual median.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def clock_info() -> dict[str, object]:
    """What the figures were measured with, for the JSON report."""
    info = time.get_clock_info("monotonic")
    return {
        "name": "time.monotonic_ns",
        "implementation": info.implementation,
        "resolution_s": info.resolution,
    }
