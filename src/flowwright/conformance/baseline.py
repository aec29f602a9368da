"""The expected-failures baseline: a server's known deviations, named by rule.

A TOML file with one table, ``[expected-failures]``, mapping a rule id to why it is excused::

    [expected-failures]
    unknown-flow = "logs the error and sends nothing (tracked in #123)"

A rule listed there that fails is reported as expected; one that passes fails the run, so
the baseline is trimmed as deviations are fixed. ``--conformance-write-baseline`` writes the
current deviations as a starting file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

from flowwright.conformance.rules import RULES

__all__ = ["TABLE", "load_baseline", "write_baseline"]

TABLE = "expected-failures"
"""The baseline file's one table."""


def load_baseline(path: Path) -> dict[str, str]:
    """Rule id → reason, from ``path``; a ``ValueError`` says what is wrong with the file
    (missing, not TOML, another table, an unknown rule)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the baseline {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the baseline {path} is not TOML: {exc}") from None
    unknown_tables = sorted(set(data) - {TABLE})
    if unknown_tables:
        raise ValueError(
            f"the baseline {path} has table(s) {unknown_tables}; it holds one: [{TABLE}]"
        )
    entries = data.get(TABLE, {})
    if not isinstance(entries, dict):
        raise ValueError(f'[{TABLE}] in {path} must be a table: rule-id = "why"')
    unknown = sorted(set(entries) - set(RULES))
    if unknown:
        raise ValueError(
            f"the baseline {path} names no such rule(s): {', '.join(unknown)} "
            f"(rules: {', '.join(RULES)})"
        )
    return {rule_id: str(reason) for rule_id, reason in entries.items()}


def write_baseline(path: Path, deviations: Mapping[str, str], *, server: str = "") -> None:
    """Write ``deviations`` (rule id → why) as a baseline file."""
    lines = [
        "# flowwright conformance baseline: known deviations, excused by rule id."
        + (f"\n# Server: {server}" if server else ""),
        "# A listed rule that passes fails the run: remove it then.",
        "",
        f"[{TABLE}]",
    ]
    lines += [f"{rule_id} = {json.dumps(reason)}" for rule_id, reason in deviations.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
