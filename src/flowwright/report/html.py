"""The HTML dashboard: one self-contained file rendered from a results document.

Jinja2 with autoescaping on renders every value as text, so agent output (untrusted) can never
become markup; a Content-Security-Policy lets only the page's own script (by nonce) run and
loads nothing from the network (images are ``data:`` URIs).
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["OUTCOMES", "render", "write_html"]

OUTCOMES = ("failed", "error", "passed", "skipped", "xfailed", "xpassed")
"""Outcomes in the order the summary and the filter buttons show them."""

_CELL_LIMIT = 300

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("flowwright.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _as_table(rows: Any) -> dict[str, list[Any]]:
    """A list of dicts as columns (every key, first seen first) and rows of short cells."""
    rows = [row for row in rows if isinstance(row, Mapping)] if isinstance(rows, list) else []
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return {
        "columns": columns,
        "rows": [[_cell(row.get(column)) for column in columns] for row in rows],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, Mapping) and "target" in v for v in value):
        # axe-core's nodes: what matters is which elements.
        text = f"{len(value)}: " + "; ".join(_cell(v["target"]) for v in value)
    elif isinstance(value, list):
        text = ", ".join(_cell(v) for v in value)
    elif isinstance(value, Mapping):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"


_env.filters["seconds"] = _seconds
_env.filters["as_table"] = _as_table


def render(results: Mapping[str, Any]) -> str:
    """The report page for a results document (one run's, or shards merged)."""
    # Failing tests first (they are what a reader came for), then by node id.
    tests = sorted(
        results["tests"],
        key=lambda test: (test["outcome"] not in ("failed", "error"), test["nodeid"]),
    )
    summary = {
        "total": len(tests),
        "counts": Counter(test["outcome"] for test in tests),
        "duration": sum(run["duration"] for run in results["runs"]),
    }
    return _env.get_template("report.html.j2").render(
        tests=tests,
        runs=results["runs"],
        created=results["created"],
        summary=summary,
        outcomes=OUTCOMES,
        nonce=secrets.token_urlsafe(16),
    )


def write_html(results: Mapping[str, Any], path: Path) -> None:
    """Write :func:`render`'s page to ``path``, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results), encoding="utf-8")
