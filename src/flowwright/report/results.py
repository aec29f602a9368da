"""The results document: what ``--flow-report-json`` writes and ``merge`` reads.

``{"format": "flowwright-report", "version": 1, "created": ..., "runs": [...], "tests": [...]}``
— one entry in ``runs`` per pytest session (its shard, duration, exit status, test count) and
one record per test (see :class:`~flowwright.report.record.TestRecord`). Merging shards
concatenates both lists, so a merged document has the same shape as a single run's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flowwright.report.record import FORMAT, TestRecord

__all__ = ["ResultsError", "build", "load", "merge", "write_json"]


class ResultsError(ValueError):
    """A file given to ``merge`` is not a flowwright results file."""


def build(
    records: Iterable[TestRecord],
    *,
    shard: str | None,
    started: float,
    duration: float,
    exitstatus: int,
) -> dict[str, Any]:
    """The document of one pytest session."""
    tests = [record.to_dict() for record in records]
    run = {
        "shard": shard,
        "started": started,
        "duration": duration,
        "exitstatus": exitstatus,
        "tests": len(tests),
    }
    return {**FORMAT, "created": _now(), "runs": [run], "tests": tests}


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


def load(path: Path) -> dict[str, Any]:
    """Read one results file, refusing anything that is not one (or a newer version)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read a results file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT["format"]:
        raise ResultsError(f"{path}: not a flowwright results file (--flow-report-json)")
    if data.get("version") != FORMAT["version"]:
        raise ResultsError(
            f"{path}: results format version {data.get('version')!r}; "
            f"this flowwright reads version {FORMAT['version']}"
        )
    return data


def merge(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One document holding every run and every test of ``documents``."""
    return {
        **FORMAT,
        "created": _now(),
        "runs": [run for document in documents for run in document["runs"]],
        "tests": [test for document in documents for test in document["tests"]],
    }


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")
