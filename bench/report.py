"""The benchmark's output: one row per measure, as a table for people and JSON for tools.

A row never fails the run: a missed target is reported as ``FAIL`` in its row and in the
JSON (``passed: false``), and the process still exits 0, because a benchmark informs and
the decision belongs to whoever reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Row", "format_table", "row_dict"]

_UNITS = {"us": "µs", "ms": "ms", "s": "s", "msg/s": "msg/s", "B": "B"}


@dataclass(frozen=True)
class Row:
    """One measure: flowwright's figure, the baseline's, and whether the target was met.

    ``ratio`` is always flowwright / baseline: below 1 is faster for times, above 1 is
    better for rates. ``passed`` is ``None`` where the issue sets no target.
    """

    key: str
    measure: str
    unit: str
    flowwright: float
    baseline: float
    baseline_label: str
    target: str = "—"
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.flowwright / self.baseline if self.baseline else float("inf")


def row_dict(row: Row) -> dict[str, Any]:
    """A row for the JSON report, its ratio included."""
    return {**asdict(row), "ratio": row.ratio}


def _value(value: float, unit: str) -> str:
    digits = 0 if value >= 100 else 1 if value >= 10 else 2 if value >= 1 else 3
    return f"{value:,.{digits}f} {_UNITS[unit]}"


def _result(passed: bool | None) -> str:
    return "—" if passed is None else "pass" if passed else "FAIL"


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per row, followed by each row's note."""
    header = ("measure", "flowwright", "baseline", "ratio", "target", "result")
    lines = [
        (
            row.measure,
            _value(row.flowwright, row.unit),
            f"{_value(row.baseline, row.unit)} ({row.baseline_label})",
            f"{row.ratio:,.0f}x" if row.ratio >= 100 else f"{row.ratio:.3g}x",
            row.target,
            _result(row.passed),
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    rule = "  ".join("-" * width for width in widths)

    def render(cells: Sequence[str]) -> str:
        cells = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return "  ".join(cells).rstrip()

    out = [render(header), rule, *(render(cells) for cells in lines), ""]
    out += [f"- {row.measure}: {row.note}" for row in rows if row.note]
    return "\n".join(out).rstrip()
