"""Recorded sessions: one JSONL file per session, written by ``--flow-record``, read by replay.

The format is the one a real Buttermilk session was recorded in, so a recording made by
flowwright and one made elsewhere replay the same way. One JSON object per line:

- ``{"direction": "http", "path": "/api/flows", "body": {...}}`` — what a REST path answered;
- ``{"direction": "sent", "at": 1.2, "frame": "..."}`` — a frame the client sent;
- ``{"direction": "received", "at": 1.5, "frame": "..."}`` — a frame the server sent.

``frame`` is the text exactly as it went over the wire; ``at`` is seconds since the first frame
the client sent (the run's start), and is optional on ``sent`` lines.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flowwright.errors import ProtocolError
from flowwright.message import Message

__all__ = ["Recording", "RecordingLine", "Segment", "load_recording", "recording_lines"]

LineDirection = Literal["http", "sent", "received"]


@dataclass(frozen=True, slots=True)
class RecordingLine:
    """One line of a recording."""

    direction: LineDirection
    frame: str = ""
    at: float | None = None
    path: str | None = None  # http lines: the path asked
    body: Any = None  # http lines: the JSON answer

    def to_json(self) -> str:
        """The line as written to the file."""
        if self.direction == "http":
            data: dict[str, Any] = {"direction": "http", "path": self.path, "body": self.body}
        else:
            data = {"direction": self.direction}
            if self.at is not None:
                data["at"] = round(self.at, 3)
            data["frame"] = self.frame
        return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Segment:
    """What the server sent after one client frame (``trigger``; ``None`` for what it sent on
    connect, before the client said anything)."""

    trigger: RecordingLine | None
    received: tuple[RecordingLine, ...]


@dataclass(frozen=True)
class Recording:
    """A whole recorded session, as its lines and as the segments a replay serves."""

    lines: tuple[RecordingLine, ...]
    http: dict[str, Any] = field(default_factory=dict)
    """REST answers by path (``/api/flows`` → its body)."""

    @property
    def segments(self) -> list[Segment]:
        """The server's frames grouped by the client frame each group followed."""
        segments: list[Segment] = []
        trigger: RecordingLine | None = None
        received: list[RecordingLine] = []
        for line in self.lines:
            if line.direction == "sent":
                if trigger is not None or received:
                    segments.append(Segment(trigger, tuple(received)))
                trigger, received = line, []
            elif line.direction == "received":
                received.append(line)
        if trigger is not None or received:
            segments.append(Segment(trigger, tuple(received)))
        return segments

    @property
    def flows(self) -> list[str]:
        """The flows the recorded server listed, else the flow the recorded run asked for."""
        listed = self.http.get("/api/flows")
        if isinstance(listed, dict) and isinstance(listed.get("flow_choices"), list):
            return [str(flow) for flow in listed["flow_choices"]]
        for line in self.lines:
            if line.direction == "sent":
                try:
                    data = json.loads(line.frame)
                except ValueError:
                    continue
                if isinstance(data, dict) and isinstance(data.get("flow"), str):
                    return [data["flow"]]
        return []


def load_recording(path: str | Path) -> Recording:
    """Read a recording; a line that does not fit the format raises :class:`ProtocolError`
    naming the file, line number and problem."""
    path = Path(path)
    lines: list[RecordingLine] = []
    http: dict[str, Any] = {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProtocolError(f"cannot read recording {path}: {exc}") from None
    # Lines end at "\n" only: JSON written with ensure_ascii=False keeps U+2028, U+0085...
    # inside its strings, which str.splitlines() would split on.
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            line = _line(json.loads(raw.decode("utf-8")))
        except KeyError as exc:
            raise ProtocolError(f"{path}:{number}: not a recording line: no {exc} field") from None
        except RecursionError:
            raise ProtocolError(
                f"{path}:{number}: not a recording line: nested too deep to read"
            ) from None
        except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            raise ProtocolError(f"{path}:{number}: not a recording line: {exc}") from None
        if line.direction == "http" and line.path is not None:
            http[line.path] = line.body
        lines.append(line)
    return Recording(tuple(lines), http)


def _line(data: Any) -> RecordingLine:
    if not isinstance(data, dict):
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    direction = data["direction"]
    if direction == "http":
        return RecordingLine("http", path=str(data["path"]), body=data.get("body"))
    if direction not in ("sent", "received"):
        raise ValueError(f"direction must be 'http', 'sent' or 'received', not {direction!r}")
    frame = data["frame"]
    if not isinstance(frame, str):
        raise TypeError("'frame' must be the frame's text, a string")
    frame.encode()  # a lone surrogate ("\ud800") is no text a WebSocket can carry
    at = data.get("at")
    if at is not None and (
        isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at)
    ):
        raise TypeError(f"'at' must be a number of seconds, and finite: not {at!r}")
    return RecordingLine(direction, frame=frame, at=None if at is None else float(at))


def recording_lines(
    messages: Sequence[Message], *, http: Iterable[tuple[str, Any]] = ()
) -> list[RecordingLine]:
    """A stream's messages as recording lines (notes left out), ``at`` counted from the first
    frame the test sent."""
    frames = [m for m in messages if m.direction in ("sent", "received")]
    start = next((m.time for m in frames if m.direction == "sent"), frames[0].time if frames else 0)
    lines = [RecordingLine("http", path=path, body=body) for path, body in http]
    lines += [
        RecordingLine(
            "sent" if m.direction == "sent" else "received",
            frame=m.raw,
            at=max(m.time - start, 0.0),
        )
        for m in frames
    ]
    return lines
