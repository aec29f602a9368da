"""The wire protocol, as pure data: pydantic v2 models, tolerant parsing, builders. No I/O.

Both sides import this module — the framework to read what a server sends, the reference
server to build what it sends — so there is one definition of every message. The prose
reference is ``docs/protocol.md``; a test checks its samples against these models.

Server → client frames are *envelopes* (:class:`Envelope`) with the payload under ``outputs``.
Parsing is tolerant on purpose: a real Buttermilk server sends ``outputs`` as a plain string
at times, omits ``preview`` and ``agent_info``, and uses types nobody listed; such frames are
kept, never rejected. Only a frame that is not a JSON object with a string ``type`` is
:class:`Malformed`. What a frame *means* (its :class:`Category`) is the dialect's to say
(:mod:`flowwright.dialect`), not this module's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from flowwright.category import Category as Category  # its home (no pydantic); kept here too

__all__ = [
    "FLOW_COMPLETED",
    "RESULT_TYPES",
    "AgentInfo",
    "ChatPayload",
    "ClientMessage",
    "Envelope",
    "ErrorPayload",
    "FlowEvent",
    "Literature",
    "Malformed",
    "ManagerResponse",
    "MessageType",
    "ProgressUpdate",
    "ResearchResult",
    "RunFlow",
    "SessionResumed",
    "TaskUpdate",
    "UIPrompt",
    "describe_validation_error",
    "envelope",
    "parse",
    "parse_client",
    "text_of",
]

FLOW_COMPLETED = "flow_completed"
"""``outputs.content`` of the ``system_message`` that ends a flow."""


class MessageType(StrEnum):
    """The ``type`` values this protocol defines for server → client envelopes."""

    SYSTEM_MESSAGE = "system_message"
    SYSTEM_UPDATE = "system_update"
    SYSTEM_ERROR = "system_error"
    UI_MESSAGE = "ui_message"
    CHAT_MESSAGE = "chat_message"
    RESEARCH_RESULT = "research_result"
    RECORD = "record"
    JUDGE_REASONS = "judge_reasons"
    ASSESSMENTS = "assessments"
    DIFFERENCES = "differences"


RESULT_TYPES = frozenset(
    {
        MessageType.RESEARCH_RESULT,
        MessageType.RECORD,
        MessageType.JUDGE_REASONS,
        MessageType.ASSESSMENTS,
        MessageType.DIFFERENCES,
    }
)
"""Types that carry an agent's work product (the built-in dialects' :attr:`Category.RESULT`)."""


# --------------------------------------------------------------------------- payloads


class _Payload(BaseModel):
    """Payload models ignore what they do not know, so a richer server still parses."""

    model_config = ConfigDict(extra="allow")


class AgentInfo(_Payload):
    """The sender of an envelope. Every field is optional: Buttermilk's mock agents send no
    ``role``, its configured agents no ``agent_id``."""

    agent_id: str | None = None
    role: str | None = None
    agent_name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None


class UIPrompt(_Payload):
    """``ui_message``: the flow asks the human. ``options`` absent means free text."""

    content: str
    options: list[str] | bool | None = None
    thought: str | None = None


class FlowEvent(_Payload):
    """``system_message``: flow events and agent announcements."""

    content: str
    source: str | None = None
    call_id: str | None = None


class ProgressUpdate(_Payload):
    """``system_update`` reporting progress of the flow or of a step."""

    source: str
    step_name: str | None = None
    status: str
    message: str | None = None
    waiting_on: dict[str, Any] | list[str] | None = None


class TaskUpdate(_Payload):
    """``system_update`` framing an agent's task: ``status`` "started", then "complete"."""

    agent_id: str
    role: str
    status: str | None = None
    task_index: int = 0
    more_tasks_remain: bool = False
    is_error: bool = False


class ErrorPayload(_Payload):
    """``system_error``: something went wrong; ``content`` says what."""

    source: str
    content: str


class Literature(_Payload):
    """One document a researcher relied on."""

    summary: str
    source: str


class ResearchResult(_Payload):
    """``research_result``: what the researcher found and its answer."""

    literature: list[Literature] = Field(default_factory=list)
    response: str


class SessionResumed(_Payload):
    """The notice a resumed socket gets after its replay (a flowwright extension, sent with no
    ``message_id``): the last reply the session received, so the client sends again only the
    replies a cut lost."""

    source: str = "server"
    content: Literal["session_resumed"] = "session_resumed"
    replayed: int = 0
    last_reply_id: str | None = None


class ChatPayload(_Payload):
    """``chat_message``: free text from an agent."""

    content: str


# --------------------------------------------------------------------------- envelope


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Envelope(BaseModel):
    """A server → client frame. ``None`` fields are omitted on the wire.

    ``notes`` (not on the wire) lists what tolerant parsing had to leave out: a field of
    another type than the protocol's is dropped from the model, noted here, and kept in the
    raw frame, so the message keeps its type and meaning.
    """

    model_config = ConfigDict(extra="allow")

    type: str
    message_id: str | None = None
    preview: str | None = None
    outputs: Any = None  # usually an object; Buttermilk sends a plain string at times
    timestamp: str | float | None = None  # ISO 8601 from Buttermilk; epoch seconds tolerated
    agent_info: AgentInfo | None = None
    tracing_link: str | None = None
    _notes: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("message_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @property
    def notes(self) -> tuple[str, ...]:
        """What tolerant parsing left out of this envelope (empty for a clean frame)."""
        return self._notes

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def envelope(
    type: MessageType | str,
    payload: BaseModel | dict[str, Any] | str,
    *,
    agent: AgentInfo | None = None,
    preview: str | None = None,
) -> Envelope:
    """Build an envelope with a fresh ``message_id`` and ``timestamp``."""
    outputs = payload.model_dump(exclude_none=True) if isinstance(payload, BaseModel) else payload
    return Envelope(
        type=str(type),
        message_id=uuid.uuid4().hex,
        preview=preview,
        outputs=outputs,
        timestamp=_now(),
        agent_info=agent,
    )


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame that is not a valid envelope; kept with the reason, never dropped."""

    raw: str
    reason: str


MAX_DEPTH = 200
"""Nesting deeper than this (objects and arrays inside each other) is not decoded: such a
value is kept only in the raw frame, with a note (see :func:`parse`)."""


def parse(frame: str | bytes) -> Envelope | Malformed:
    """Parse one server frame. Never raises: a bad frame becomes :class:`Malformed`.

    Tolerant on purpose: a JSON object with a string ``type`` is always an :class:`Envelope`
    that keeps its type, id and payload. A field of the wrong shape (an ``agent_info`` that
    is a string, a ``timestamp`` that is a list) is left out with a note in
    :attr:`Envelope.notes`; so is a top-level value nested deeper than :data:`MAX_DEPTH`.
    """
    if isinstance(frame, bytes):
        raw = frame
        try:
            frame = raw.decode()
        except UnicodeDecodeError as exc:
            return Malformed(raw.decode(errors="replace"), f"binary frame is not UTF-8: {exc}")
    try:
        return Envelope.model_validate_json(frame)  # the common case, in one pass
    except ValidationError:
        pass  # parse again, slowly, to keep what can be kept and say what is wrong
    except Exception as exc:  # "never raises" is the contract
        return Malformed(frame, f"could not be parsed: {exc!r}")
    try:
        return _parse_slowly(frame)
    except Exception as exc:  # e.g. a RecursionError from a decoder we did not expect
        return Malformed(frame, f"could not be parsed: {exc!r}")


def _parse_slowly(frame: str) -> Envelope | Malformed:
    notes: list[str] = []
    try:
        data = json.loads(frame)
    except RecursionError:
        data = _split_top_level(frame, notes)
        if data is None:
            what = "not JSON" if frame.lstrip().startswith("{") else "not a JSON object"
            return Malformed(frame, f"{what} (nested deeper than {MAX_DEPTH} levels)")
    except ValueError as exc:
        return Malformed(frame, f"not JSON: {exc}")
    if not isinstance(data, dict):
        return Malformed(frame, f"not a JSON object but {type(data).__name__}")
    if not isinstance(data.get("type"), str):
        return Malformed(frame, "no string 'type' field")
    for key in [key for key in data if _depth(data[key]) > MAX_DEPTH]:
        del data[key]
        notes.append(f"{key}: nested deeper than {MAX_DEPTH} levels (kept only in the raw frame)")
    for _ in range(20):  # each round drops the fields the last one found wrong
        try:
            parsed = Envelope.model_validate(data)
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                if _drop(data, error["loc"]):
                    notes.append(f"{where}: {error['msg']} (left out)")
                    dropped = True
            if not dropped:
                break
            continue
        parsed._notes = tuple(notes)
        return parsed
    return Malformed(frame, "; ".join(notes) or "not a valid envelope")


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    """Remove the deepest field on a validation error's path ``loc``; False if none is there.

    The path may go on past the data (a union's member names, a list's index): the last
    field that exists goes, whole.
    """
    parent: dict[str, Any] | None = None
    key: str | None = None
    node: Any = data
    for part in loc:
        if not (isinstance(node, dict) and isinstance(part, str) and part in node):
            break
        parent, key, node = node, part, node[part]
    if parent is None or key is None:
        return False
    del parent[key]
    return True


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 0); iterative, so deep values cannot blow up."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            if isinstance(child, (dict, list)):
                deepest = max(deepest, level)
                stack.append((child, level + 1))
    return deepest + 1 if isinstance(value, (dict, list)) else 0


def _split_top_level(frame: str, notes: list[str]) -> dict[str, Any] | None:
    """Decode a JSON object key by key, keeping the keys whose values decode.

    For a frame too deep for the recursive decoder: the object is scanned iteratively, each
    top-level value decoded on its own, and a value that cannot be becomes a note. ``None``
    when ``frame`` is not a JSON object at all.
    """
    decoder = json.JSONDecoder()
    text = frame.strip()
    if not text.startswith("{"):
        return None
    data: dict[str, Any] = {}
    index = 1
    while True:
        index = _skip_space(text, index)
        if index < len(text) and text[index] == "}":
            return data
        try:
            key, index = decoder.raw_decode(text, index)
        except ValueError:
            return None
        index = _skip_space(text, index)
        if not isinstance(key, str) or index >= len(text) or text[index] != ":":
            return None
        start = _skip_space(text, index + 1)
        end = _value_end(text, start)
        if end is None:
            return None
        try:
            data[key] = json.loads(text[start:end])
        except RecursionError:
            notes.append(
                f"{key}: nested deeper than {MAX_DEPTH} levels (kept only in the raw frame)"
            )
        except ValueError:
            return None
        index = _skip_space(text, end)
        if index < len(text) and text[index] == ",":
            index += 1
        elif index >= len(text) or text[index] != "}":
            return None


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _value_end(text: str, start: int) -> int | None:
    """The index just after the JSON value starting at ``start`` (brackets and strings
    tracked iteratively); ``None`` if it does not end."""
    depth, index, in_string = 0, start, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
                if depth == 0:
                    return index + 1
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                return index
            depth -= 1
            if depth == 0:
                return index + 1
        elif char == "," and depth == 0:
            return index
        index += 1
    return None if depth or in_string else index


_TEXT_KEYS = ("content", "response", "conclusion", "message", "text")


def text_of(message: Envelope | Malformed) -> str:
    """The human-readable text of a frame, whatever its shape (what patterns match against).

    A research result's text is its response followed by the summaries it relied on, so a
    test can look for a topic in either.
    """
    if isinstance(message, Malformed):
        return message.raw
    outputs = message.outputs
    if outputs is None:
        return message.preview or ""
    if isinstance(outputs, str):
        return outputs
    if not isinstance(outputs, dict):  # a list, a number: whatever the server sent
        return json.dumps(outputs, ensure_ascii=False, default=str)
    parts = [str(outputs[key]) for key in _TEXT_KEYS if isinstance(outputs.get(key), str)][:1]
    literature = outputs.get("literature")
    if isinstance(literature, list):
        parts += [
            str(item["summary"])
            for item in literature
            if isinstance(item, dict) and "summary" in item
        ]
    if parts:
        return "\n".join(parts)
    if isinstance(outputs.get("status"), str):  # progress and task updates: "researcher started"
        who = outputs.get("role") or outputs.get("source") or ""
        error = " (error)" if outputs.get("is_error") else ""
        return f"{who} {outputs['status']}{error}".strip()
    return json.dumps(outputs, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------- client → server


class RunFlow(BaseModel):
    """Start a flow. Every key besides ``type`` and ``flow`` is a flow parameter."""

    model_config = ConfigDict(extra="allow")

    type: Literal["run_flow"] = "run_flow"
    flow: str = Field(min_length=1)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ManagerResponse(BaseModel):
    """The human's answer. ``confirm`` defaults to false; ``null`` booleans mean false.

    Unknown fields are refused (not ignored): a typo such as ``confrim`` must not quietly
    turn a confirmation into a rejection.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["manager_response"] = "manager_response"
    confirm: bool = False
    halt: bool = False
    interrupt: bool = False
    human_in_loop: bool | None = None
    content: str | None = None
    selection: str | None = None
    params: dict[str, Any] | None = None
    message_id: str | None = None
    """A flowwright extension: the reply's own id, so a server that saw it applies it once,
    and tells a resuming client the last one it got (``docs/protocol.md``, "Resume")."""

    @field_validator("confirm", "halt", "interrupt", mode="before")
    @classmethod
    def _null_is_false(cls, value: object) -> object:
        return False if value is None else value


ClientMessage = RunFlow | ManagerResponse


def parse_client(data: dict[str, Any]) -> ClientMessage:
    """Validate a decoded client message whose ``type`` is known.

    Raises ``ValueError`` (a pydantic ``ValidationError`` or an unknown type) with a message
    that names the offending field, ready to be sent back in a ``system_error``.
    """
    kind = data.get("type")
    if kind is None and "flow" in data:  # Buttermilk takes a bare {"flow", "prompt"} as a run
        data = {**data, "type": "run_flow"}
        kind = "run_flow"
    model: type[ClientMessage]
    if kind == "run_flow":
        model = RunFlow
    elif kind == "manager_response":
        model = ManagerResponse
    else:
        raise ValueError(
            f"unknown message type {kind!r} (expected 'run_flow' or 'manager_response')"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"invalid {kind}: {describe_validation_error(exc)}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line a person can act on: ``unknown field 'confrim'; flow: Field required``."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "top level"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown field {where!r}")
        else:
            problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
