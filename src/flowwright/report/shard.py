"""``--shard=i/n``: run one deterministic n-th of a suite, for CI machines working in parallel.

Tests are dealt round-robin over their sorted node ids: shard ``i`` runs the tests at sorted
positions ``i-1``, ``i-1+n``, ``i-1+2n``, … So every test runs in exactly one shard, shard
sizes differ by at most one, and the split depends only on the set of collected tests, never on
collection order or the machine — each shard must collect the same tests (same arguments).
Adding a test can move others to a neighbouring shard, which is harmless: shards are not
remembered between runs. A shard with nothing to run ends with pytest's exit code 5.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

import pytest

__all__ = ["parse_shard", "select_shard"]

T = TypeVar("T")

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(value: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``; anything else is a usage error naming the valid form."""
    match = _SHARD.fullmatch(value)
    index, total = (int(match[1]), int(match[2])) if match else (0, 0)
    if not 1 <= index <= total:
        raise pytest.UsageError(
            f"--shard={value!r} is not a shard: give i/n with 1 <= i <= n, e.g. --shard=1/4"
        )
    return index, total


def select_shard(
    items: Sequence[T], ids: Sequence[str], index: int, total: int
) -> tuple[list[T], list[T]]:
    """Split ``items`` (whose node ids are ``ids``) into (this shard's, the others')."""
    order = sorted(range(len(items)), key=lambda k: ids[k])
    mine = {k for position, k in enumerate(order) if position % total == index - 1}
    kept = [item for k, item in enumerate(items) if k in mine]
    dropped = [item for k, item in enumerate(items) if k not in mine]
    return kept, dropped
