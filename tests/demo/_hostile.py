"""Hostile client frames, generated from a seed: what a fuzzing client throws at a server.

Each :class:`Frame` says what a well-behaved server does with it: answer it (``close`` is
None: a ``system_error``, or the flow it happened to start) or close the socket with that
code (1007: a text frame that is not UTF-8; 1009: over the WebSocket layer's size limit).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["CLASSES", "Frame", "hostile_frames"]

KNOWN_TYPES = [
    "run_flow",
    "manager_response",
    "pull_task",
    "pull_tox",
    "TaskProcessingStarted",
    "TaskProcessingComplete",
    "system_message",
    "ui_message",
    "",
    "RUN_FLOW",
    "run_flow ",
]
FLOWS = ["osb", "chat", "nope", "", "../osb", "osb\x00"]
PARAMETERS = ["prompt", "query", "record_id", "criteria", "confirm_each_step", "step_delay"]
REPLY_FIELDS = ["confirm", "halt", "interrupt", "human_in_loop", "content", "selection", "params"]


@dataclass(frozen=True)
class Frame:
    kind: str
    """Which class of hostile input (see :data:`CLASSES`)."""
    data: str | bytes
    """A text frame (str) or a binary one (bytes); a text frame may be invalid UTF-8."""
    text: bool = True
    close: int | None = None
    """The close code a server answers this frame with; None: answered on the socket."""


def _scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            rng.randint(-(10**30), 10**30),
            rng.random() * 1e300,
            "",
            "x" * rng.randint(1, 300),
            "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 20)))
            .encode("utf-8", "replace")
            .decode("utf-8", "replace"),
        ]
    )


def _value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, nested a few levels."""
    roll = rng.random()
    if depth > 4 or roll < 0.5:
        return _scalar(rng)
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _key(rng: random.Random) -> str:
    return rng.choice(["type", "flow", "outputs", "content", "", "__proto__", "x" * 50, "é"])


def _nested(rng: random.Random, depth: int, inner: str = "1") -> str:
    opening, closing = rng.choice([("[", "]"), ('{"a":', "}")])
    return opening * depth + inner + closing * depth


def _run_flow(rng: random.Random, serial: int) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "run_flow", "flow": rng.choice(FLOWS)}
    for name in rng.sample(PARAMETERS, rng.randint(0, 3)):
        frame[name] = _value(rng, 3) if rng.random() < 0.5 else f"q{serial}"
    if rng.random() < 0.3:
        frame["fault"] = rng.choice(
            [{"exit_after": 1, "exit_code": 66}, {"agent_error": "researcher"}, _value(rng, 3)]
        )
    if rng.random() < 0.2:
        del frame["type"]
    if rng.random() < 0.2:
        frame["flow"] = _value(rng, 3)
    return frame


def _reply(rng: random.Random, serial: int) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "manager_response", "message_id": f"fuzz-{serial}"}
    for name in rng.sample(REPLY_FIELDS, rng.randint(0, 3)):
        frame[name] = _value(rng, 3)
    if rng.random() < 0.2:
        frame[rng.choice(["confrim", "halted", "x"])] = True
    if rng.random() < 0.1:  # never a string: a reply id seen before is dropped by design
        frame["message_id"] = rng.choice([None, 1, [], {"id": "x"}, True])
    return frame


def _frame(rng: random.Random, kind: str, serial: int) -> Frame:
    match kind:
        case "json":
            return Frame(kind, json.dumps(_value(rng)))
        case "type":
            typed = {"type": rng.choice([*KNOWN_TYPES, *(_value(rng, 3) for _ in range(3))])}
            return Frame(kind, json.dumps({**typed, **{_key(rng): _value(rng, 2)}}))
        case "run_flow":
            return Frame(kind, json.dumps(_run_flow(rng, serial)))
        case "reply":
            return Frame(kind, json.dumps(_reply(rng, serial)))
        case "deep":
            depth = rng.choice([33, 100, 999, 1001, 5000, rng.randint(33, 20_000)])
            inner = _nested(rng, depth)
            if rng.random() < 0.5:  # inside an otherwise valid envelope
                inner = f'{{"type": "run_flow", "flow": "osb", "prompt": "p", "x": {inner}}}'
            return Frame(kind, inner)
        case "garbage":
            valid = json.dumps(_run_flow(rng, serial))
            return Frame(
                kind,
                rng.choice(
                    [
                        valid[: rng.randint(0, len(valid) - 1)],
                        "".join(chr(rng.randint(32, 0x10FFF)) for _ in range(rng.randint(0, 80)))
                        .encode("utf-8", "replace")
                        .decode("utf-8", "replace"),
                        "{" * rng.randint(1, 50),
                        '{"type": "run_flow", "flow": "osb", "prompt": "\\ud800"}',
                        '{"type": "\\udfff"}',
                        "NaN",
                        '{"a": 1e999999}',
                        "1" * 5000,
                        "\x00",
                        "",
                    ]
                ),
            )
        case "binary":
            return Frame(kind, rng.randbytes(rng.randint(0, 300)), text=False)
        case "huge":
            return Frame(kind, json.dumps({"type": "run_flow", "prompt": "x" * 70_000}))
        case "invalid_utf8":
            return Frame(kind, b'{"type": "' + rng.randbytes(8) + b'\xff"}', close=1007)
        case "oversize":
            return Frame(kind, "[" + "1," * (600 * 1024) + "1]", close=1009)
    raise ValueError(kind)


CLASSES: dict[str, float] = {
    "json": 15,
    "type": 15,
    "run_flow": 20,
    "reply": 15,
    "deep": 10,
    "garbage": 15,
    "binary": 8,
    "huge": 1,
    "invalid_utf8": 0.3,
    "oversize": 0.2,
}
"""The classes of hostile input and how often each comes up."""


def hostile_frames(seed: int, count: int) -> list[Frame]:
    """``count`` frames from ``seed``: the same seed gives the same frames."""
    rng = random.Random(seed)
    kinds = rng.choices(list(CLASSES), weights=list(CLASSES.values()), k=count)
    return [_frame(rng, kind, serial) for serial, kind in enumerate(kinds)]
