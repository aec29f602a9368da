"""``python -m flowwright.report merge OUT.html RESULTS.json...``: one report from many shards.

Each shard of a CI matrix writes ``--flow-report-json``; a final job merges them into one HTML
dashboard (and, with ``--json``, one results file), as Playwright's merge-reports does for
its blob reports. Exit status 0 on success, 2 on bad arguments or unreadable files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from flowwright.report.html import write_html
from flowwright.report.results import ResultsError, load, merge, write_json

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flowwright.report", description="flowwright reports"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    merging = commands.add_parser(
        "merge", help="merge per-shard results files (--flow-report-json) into one HTML report"
    )
    merging.add_argument("output", type=Path, help="the HTML report to write")
    merging.add_argument("results", type=Path, nargs="+", help="results files, one per shard")
    merging.add_argument("--json", type=Path, help="also write the merged results here")
    args = parser.parse_args(argv)
    try:
        merged = merge([load(path) for path in args.results])
    except ResultsError as exc:
        parser.exit(2, f"{parser.prog} merge: error: {exc}\n")
    write_html(merged, args.output)
    if args.json is not None:
        write_json(merged, args.json)
    print(f"{args.output}: {len(merged['tests'])} tests from {len(args.results)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
