"""The HTML dashboard: one self-contained file rendered from a results document.

Jinja2 with autoescaping on renders every value as text, so agent output (untrusted) can never
become markup; a Content-Security-Policy lets only the page's own script (by nonce) run and
loads nothing from the network (images are ``data:`` URIs). Files too big to inline (a
Playwright trace) are linked relative to the HTML file, so the link survives moving the report
together with the test output; where the file is not, the page says where it was written.
Tables attached with a ``summary`` name are gathered from every test into run-level tables at
the top of the page (computed from the tests, so a merged document gets them too).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from flowwright.report.record import TIME_ORIGIN

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


def _clock(epoch: float | None) -> str:
    """``2026-11-30 07:42:08.704 UTC`` (local time): when a flow's t=0 was."""
    if epoch is None:
        return "-"
    local = time.localtime(epoch)
    milliseconds = int(epoch % 1 * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", local) + f".{milliseconds:03d} {local.tm_zone}"


def _link(path: str | None, base: Path | None) -> str | None:
    """The href of a linked file, relative to the report's directory; ``None`` when the file
    is not there (the report was written on another machine, or the file was cleaned up)."""
    if not path or not Path(path).is_file():
        return None
    if base is None:
        return Path(path).absolute().as_uri()
    try:
        relative = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(path).absolute().as_uri()
    return quote(Path(relative).as_posix())


def _summaries(tests: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The run-level tables, by ``summary`` name: every test's rows of that name, ordered by
    their first column (then node id), each with the anchor and outcome of its test.

    ``tests`` are in page order: test ``i`` (from 1) is the entry ``test-i``."""
    gathered: dict[str, list[tuple[str, str, Mapping[str, Any], str, str]]] = {}
    for index, test in enumerate(tests, 1):
        for attachment in test.get("attachments") or []:
            name = attachment.get("summary")
            rows = attachment.get("data")
            if not isinstance(name, str) or not isinstance(rows, list):
                continue
            for row in rows:
                if isinstance(row, Mapping):
                    first = _cell(next(iter(row.values()), ""))
                    entry = (first, test["nodeid"], row, f"test-{index}", test["outcome"])
                    gathered.setdefault(name, []).append(entry)
    tables: dict[str, dict[str, Any]] = {}
    for name in sorted(gathered):
        entries = sorted(gathered[name], key=lambda entry: entry[:2])
        table = _as_table([row for _, _, row, _, _ in entries])
        table["links"] = [
            {"anchor": anchor, "nodeid": nodeid, "outcome": outcome}
            for _, nodeid, _, anchor, outcome in entries
        ]
        tables[name] = table
    return tables


_env.filters["seconds"] = _seconds
_env.filters["as_table"] = _as_table
_env.filters["clock"] = _clock


def render(results: Mapping[str, Any], base: Path | None = None) -> str:
    """The report page for a results document (one run's, or shards merged).

    ``base`` is the directory the page will be in: linked files (``attach(..., "file")``)
    get hrefs relative to it (absolute ``file:`` URIs without it)."""
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
        summaries=_summaries(tests),
        runs=results["runs"],
        created=results["created"],
        summary=summary,
        outcomes=OUTCOMES,
        nonce=secrets.token_urlsafe(16),
        time_origin=TIME_ORIGIN,
        link=lambda path: _link(path, base),
    )


def write_html(results: Mapping[str, Any], path: Path) -> None:
    """Write :func:`render`'s page to ``path``, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, base=path.parent.absolute()), encoding="utf-8")
