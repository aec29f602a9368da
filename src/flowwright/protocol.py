"""The wire protocol, as pure data: pydantic v2 models, parsing and categorising. No I/O.

Both sides import this module — the framework to read what a server sends, the reference
server to build what it sends — so there is one definition of every message. The prose
reference is ``docs/protocol.md``; a test checks its samples against these models.

Server → client frames are *envelopes* (:class:`Envelope`) with the payload under ``outputs``.
Parsing is tolerant on purpose: a real Buttermilk server sends ``outputs`` as a plain string
at times, omits ``preview`` and ``agent_info``, and uses types nobody listed; such frames are
kept and categorised, never rejected. Only a frame that is not a JSON object with a string
``type`` is :class:`Malformed`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "FLOW_COMPLETED",
    "RESULT_TYPES",
    "AgentInfo",
    "Category",
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
    "TaskUpdate",
    "UIPrompt",
    "categorise",
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
"""Types that carry an agent's work product (categorised :attr:`Category.RESULT`)."""


class Category(StrEnum):
    """What a received frame means to a test; every frame gets exactly one."""

    LIFECYCLE = "lifecycle"  # flow events, announcements, flow_completed
    PROMPT = "prompt"  # the flow asks the human (ui_message)
    RESULT = "result"  # an agent's work product
    PROGRESS = "progress"  # progress and task started/complete updates
    ERROR = "error"  # system_error
    CHAT = "chat"  # free text from an agent
    OTHER = "other"  # a well-formed envelope of a type this protocol does not define
    MALFORMED = "malformed"  # not a JSON object with a string "type"
    SENT = "sent"  # a frame the test itself sent, kept so the transcript reads as a dialogue


# --------------------------------------------------------------------------- payloads


class _Payload(BaseModel):
    """Payload models ignore what they do not know, so a richer server still parses."""

    model_config = ConfigDict(extra="allow")


class AgentInfo(_Payload):
    """The sender of an envelope."""

    agent_id: str
    role: str
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


class ChatPayload(_Payload):
    """``chat_message``: free text from an agent."""

    content: str


# --------------------------------------------------------------------------- envelope


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Envelope(BaseModel):
    """A server → client frame. ``None`` fields are omitted on the wire."""

    model_config = ConfigDict(extra="allow")

    type: str
    message_id: str | None = None
    preview: str | None = None
    outputs: dict[str, Any] | list[Any] | str | None = None
    timestamp: str | float | None = None  # ISO 8601 from Buttermilk; epoch seconds tolerated
    agent_info: AgentInfo | None = None
    tracing_link: str | None = None

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


def parse(frame: str | bytes) -> Envelope | Malformed:
    """Parse one server frame. Never raises: a bad frame becomes :class:`Malformed`."""
    if isinstance(frame, bytes):
        try:
            frame = frame.decode()
        except UnicodeDecodeError as exc:
            return Malformed(frame.decode(errors="replace"), f"binary frame is not UTF-8: {exc}")
    try:
        return Envelope.model_validate_json(frame)  # the common case, in one pass
    except ValidationError:
        pass  # parse again, slowly, to say exactly what is wrong
    try:
        data = json.loads(frame)
    except ValueError as exc:
        return Malformed(frame, f"not JSON: {exc}")
    if not isinstance(data, dict):
        return Malformed(frame, f"not a JSON object but {type(data).__name__}")
    if not isinstance(data.get("type"), str):
        return Malformed(frame, "no string 'type' field")
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        return Malformed(frame, describe_validation_error(exc))


def categorise(message: Envelope | Malformed) -> Category:
    """The one :class:`Category` of a parsed frame."""
    if isinstance(message, Malformed):
        return Category.MALFORMED
    match message.type:
        case MessageType.SYSTEM_MESSAGE:
            return Category.LIFECYCLE
        case MessageType.SYSTEM_UPDATE:
            return Category.PROGRESS
        case MessageType.SYSTEM_ERROR:
            return Category.ERROR
        case MessageType.UI_MESSAGE:
            return Category.PROMPT
        case MessageType.CHAT_MESSAGE:
            return Category.CHAT
        case t if t in RESULT_TYPES:
            return Category.RESULT
        case _:
            return Category.OTHER


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
    if isinstance(outputs, list):
        return json.dumps(outputs, ensure_ascii=False)
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
