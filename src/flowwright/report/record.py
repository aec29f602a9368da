"""What the report knows about each test: one JSON-ready record, built the same way everywhere.

A test's record is assembled from its pytest reports (outcome, duration, errors, captured
output) and from the flows it opened (every message, every wait and how it ended, the prompts
and the replies, per-agent step times), plus the attachments other features registered with
:func:`attach`. Records are plain dicts and lists, so they cross from an xdist worker to the
controller inside the teardown report, go into ``--flow-report-json`` files as they are, and
merge across shards by concatenation.

Attaching evidence (screenshots, visual diffs, accessibility violations) to the running test::

    from flowwright.report import attach

    attach("after reply", Path("shot.png"))                    # an image file, inlined
    attach("diff", png_bytes, "image")                         # image bytes (PNG)
    attach("axe", violations)                                  # a list of dicts: a table
    attach("axe", Path("axe.json"), "violations")              # a JSON list, or axe's result
    attach("console", "text that was logged", "text")
    attach("trace", Path("trace.zip"), "file")                 # linked, not inlined
    attach("rule x", [{"rule": "x", "result": "pass"}], summary="conformance")

A table given a ``summary`` name is shown in its test's entry and also gathered, with every
other test's rows of that name, into one run-level table at the top of the page. The rows
travel inside each test's record like any attachment, so the table comes out the same from
one process, from xdist workers and from merged shards.

``attach`` reads a file at once (the test may delete it later) — except a ``"file"``, which is
only linked (a Playwright trace is megabytes) — and is a no-op unless a report is being
written (``--flow-report`` / ``--flow-report-json``).

Times: every ``Message.time`` and wait time of a flow counts from the moment its stream was
created (``FlowTestClient.create()``, a ``UIFlow`` on a page, an MCP client); the record keeps
that moment as the flow's ``started`` (seconds since the epoch), so flows line up with the test.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import pytest

from flowwright.context import TestScope, current
from flowwright.diagnostics import TRANSCRIPT_SECTION

if TYPE_CHECKING:
    from flowwright.stream import FlowStream

__all__ = [
    "FORMAT",
    "IMAGE_TYPES",
    "LINKED_TYPES",
    "TIME_ORIGIN",
    "AttachmentKind",
    "ReportRecords",
    "TestRecord",
    "attach",
    "first_line",
    "flow_data",
    "open_streams",
    "record_stream",
]

FORMAT = MappingProxyType({"format": "flowwright-report", "version": 1})
"""The header of every JSON results file; ``merge`` refuses files without it."""


IMAGE_TYPES = MappingProxyType(
    {
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".gif": "image/gif",
        ".webp": "image/webp",
    }
)
"""Image files ``attach`` inlines, by suffix."""

LINKED_TYPES = frozenset({".zip"})
"""Files ``attach`` links rather than reads, by suffix (Playwright's ``trace.zip``)."""

_SUMMARY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

TIME_ORIGIN = "when its client, page or MCP client was created"
"""What a flow's t=0 is, in the words the report and the docs both use."""

AttachmentKind = Literal["image", "violations", "text", "file"]
"""How an attachment is shown: an inlined image, a table of violations, text, or a link to a
file (the report links it relative to the HTML file, or says where it was)."""
Outcome = Literal["passed", "failed", "skipped", "error", "xfailed", "xpassed"]


def attach(
    name: str,
    content: str | os.PathLike[str] | bytes | Sequence[Mapping[str, Any]],
    kind: AttachmentKind | None = None,
    *,
    summary: str | None = None,
) -> None:
    """Add evidence to the running test's report entry.

    ``content`` is a file (any ``os.PathLike``), image bytes, a list of dicts (one table row
    each), or a ``str`` holding the text itself. ``kind`` defaults from the content: an image
    suffix or bytes → ``"image"``, a list or a ``.json`` file → ``"violations"`` (a table),
    a ``.zip`` file → ``"file"`` (linked, not read), anything else → ``"text"``. A
    ``"violations"`` file holds a JSON list, or an axe-core result whose ``violations`` list
    is taken.

    ``summary`` (a table only) also puts its rows in the run-level table of that name at the
    top of the report (``"conformance"``: the conformance suite's), each row linking to this
    test; the rows are ordered by their first column.
    """
    path = Path(content) if isinstance(content, os.PathLike) else None
    if kind is None:
        kind = _infer_kind(content, path)
    if kind not in ("image", "violations", "text", "file"):
        raise ValueError(
            f"attach() kind must be 'image', 'violations', 'text' or 'file', not {kind!r}"
        )
    if summary is not None:
        if kind != "violations":
            raise ValueError(f"attach(summary=...) takes a table (kind 'violations'), not {kind!r}")
        if not isinstance(summary, str) or not _SUMMARY_NAME.fullmatch(summary):
            raise ValueError(
                f"attach() summary must be a short name of letters, digits, '_', '.' or '-' "
                f"(like 'conformance'), not {summary!r}"
            )
    if kind == "file" and path is None:
        raise TypeError("attach(kind='file') needs a file path")
    attachments = current().attachments
    if attachments is None:  # no report is being written
        return
    item: dict[str, Any] = {"name": name, "kind": kind, "path": str(path) if path else None}
    if kind == "file" and path is not None:  # (a path: checked above)
        item["path"] = str(path.absolute())  # the report links it from wherever it is written
        item["size"] = path.stat().st_size if path.is_file() else None
    elif kind == "image":
        if path is not None:
            mime = IMAGE_TYPES.get(path.suffix.lower())
            if mime is None:
                raise ValueError(f"attach(): {path} is not one of {sorted(IMAGE_TYPES)}")
            data = path.read_bytes()
        elif isinstance(content, bytes):
            mime, data = "image/png", content
        else:
            raise TypeError("attach(kind='image') needs a file path or PNG bytes")
        item |= {"mime": mime, "data": base64.b64encode(data).decode("ascii")}
    elif kind == "violations":
        rows: Any = json.loads(path.read_text(encoding="utf-8")) if path else content
        if isinstance(rows, str):
            rows = json.loads(rows)
        if isinstance(rows, Mapping):
            rows = rows.get("violations", [])
        item["data"] = json.loads(json.dumps(list(rows), default=str))
        if summary is not None:
            item["summary"] = summary
    else:
        item["data"] = (
            path.read_text(encoding="utf-8", errors="replace")
            if path
            else content.decode(errors="replace")
            if isinstance(content, bytes)
            else str(content)
        )
    attachments.append(item)


def _infer_kind(content: object, path: Path | None) -> AttachmentKind:
    if isinstance(content, bytes) or (path and path.suffix.lower() in IMAGE_TYPES):
        return "image"
    if path is not None and path.suffix.lower() in LINKED_TYPES:
        return "file"
    if path is not None:
        return "violations" if path.suffix.lower() == ".json" else "text"
    if isinstance(content, Sequence) and not isinstance(content, str):
        return "violations"
    return "text"


def open_streams(scope: TestScope) -> list[tuple[str, FlowStream]]:
    """Every flow a test opened, labelled as its transcript section is.

    Every :class:`FlowStream` registers itself in its test's scope — WebSocket clients,
    browser pages and MCP clients alike.
    """
    if not scope.streams:
        return []
    from flowwright.stream import FlowStream  # loaded already by whatever opened the streams

    streams = [stream for stream in scope.streams if isinstance(stream, FlowStream)]
    return [(f"{i}: {stream.title}", stream) for i, stream in enumerate(streams, 1)]


def record_stream(label: str, stream: FlowStream) -> dict[str, Any]:
    """One flow as the report shows it: messages, waits, turns and step times, and when its
    t=0 was (``started``, seconds since the epoch; see :data:`TIME_ORIGIN`).

    A bounded collector (``--flow-keep-messages N``) gives its last ``N`` messages only, and
    how many came before (``omitted``): the report must not hold what the run chose not to.
    """
    collector = stream.collector
    shown = collector.since(max(0, collector.last_seq - collector.keep)) if collector.keep else None
    turns = [
        {
            "index": turn.index,
            "prompt": {
                "seq": turn.prompt.seq,
                "time": turn.prompt.time,
                "agent": turn.prompt.role or turn.prompt.agent,
                "content": turn.prompt.content,
                "options": turn.prompt.options,
            },
            "reply": None
            if turn.reply is None
            else {"seq": turn.reply.seq, "time": turn.reply.time, "content": turn.reply.raw},
            "agents": turn.agents,
        }
        for turn in stream.conversation().turns
    ]
    waits = [asdict(wait) | {"duration": wait.duration} for wait in stream.waiter.history]
    return {
        "label": label,
        "started": time.time() - collector.elapsed,
        "messages": [message.to_dict() for message in (collector if shown is None else shown)],
        "omitted": 0 if shown is None else collector.last_seq - len(shown),
        "waits": waits,
        "turns": turns,
        "metrics": asdict(stream.metrics),
    }


@dataclass
class TestRecord:
    """One test in the report; its fields are the JSON results file's per-test keys."""

    __test__ = False  # not a test class, whatever its name says

    nodeid: str
    outcome: Outcome = "passed"
    cause: str | None = None  # the first failure's first line (as pytest's short summary)
    duration: float = 0.0
    started: float = 0.0  # seconds since the epoch
    errors: list[str] = field(default_factory=list)  # the failing phases' tracebacks
    skip_reason: str | None = None
    output: list[dict[str, str]] = field(default_factory=list)  # captured output sections
    streams: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    worker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (what ``--flow-report-json`` writes)."""
        return asdict(self)


class ReportRecords:
    """Builds :class:`TestRecord` s from the reports pytest hands the controller, in order.

    Works on both sides of xdist: the flow data arrive as the teardown report's ``flowwright``
    attribute, set where the test ran.
    """

    def __init__(self) -> None:
        self.records: list[TestRecord] = []
        self._open: dict[str, TestRecord] = {}

    def add(self, report: pytest.TestReport) -> None:
        record = self._open.get(report.nodeid)
        if record is None:
            record = self._open[report.nodeid] = TestRecord(
                nodeid=report.nodeid,
                started=report.start,
                worker=getattr(report, "worker_id", None),
            )
        record.duration += report.duration
        xfail = hasattr(report, "wasxfail")
        if report.failed:
            in_call = report.when == "call" or record.outcome == "failed"
            record.outcome = "failed" if in_call else "error"
            if record.cause is None:
                record.cause = first_line(report)
            record.errors.append(f"[{report.when}] {report.longreprtext}")
        elif report.skipped:
            record.outcome = "xfailed" if xfail else "skipped"
            record.skip_reason = report.wasxfail if xfail else _skip_reason(report)
        elif report.when == "call" and xfail:
            record.outcome = "xpassed"
        if report.when == "teardown":
            record.output = [
                {"name": name, "text": text}
                for name, text in report.sections
                if not name.startswith(TRANSCRIPT_SECTION)
            ]
            data = getattr(report, "flowwright", None) or {}
            record.streams = data.get("streams", [])
            record.attachments = data.get("attachments", [])
            self.records.append(self._open.pop(report.nodeid))

    def add_collect_error(self, report: pytest.CollectReport) -> None:
        """A module that failed to import: its tests never ran, which the report must show."""
        self.records.append(
            TestRecord(
                nodeid=report.nodeid,
                outcome="error",
                cause=first_line(report),
                errors=[report.longreprtext],
            )
        )


def first_line(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The failure's first line: the exception line pytest's short summary shows
    (``flowwright.FlowEndedError: the flow ended ...``), else the first ``E`` line of the
    text, else its first line."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if isinstance(message, str) and message.strip():
        return message.strip().splitlines()[0]
    lines = [line.strip() for line in report.longreprtext.splitlines() if line.strip()]
    errors = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    return (errors or lines or [""])[0]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def flow_data(scope: TestScope) -> dict[str, Any]:
    """The worker's half of a test's record, attached to its teardown report."""
    return {
        "streams": [record_stream(label, stream) for label, stream in open_streams(scope)],
        "attachments": list(scope.attachments or []),
    }
