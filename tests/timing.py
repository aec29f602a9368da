"""Wall-clock bounds in tests, scaled by ``--flow-timeout-factor`` (as websockets scales
every timing by one factor): a loaded machine is slower, never faster, so an upper bound on
elapsed time ("it failed fast, it did not wait out its timeout") holds only scaled.
tests/framework/test_hygiene.py fails on an upper bound that is not.
"""

from __future__ import annotations

from flowwright import settings

__all__ = ["scaled"]


def scaled(seconds: float) -> float:
    """``seconds`` times the run's timeout factor (``--flow-timeout-factor``, ini too)."""
    return seconds * settings.timeout_factor
