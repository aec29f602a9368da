"""docs/protocol.md matches the models: every JSON sample in it is checked against them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from flowwright.protocol import (
    ChatPayload,
    Envelope,
    ErrorPayload,
    FlowEvent,
    MessageType,
    ProgressUpdate,
    ResearchResult,
    SessionResumed,
    TaskUpdate,
    UIPrompt,
    parse,
    parse_client,
    text_of,
)
from flowwright_demo.engine import IGNORED_TYPES
from flowwright_demo.faults import Faults

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"

_BLOCK = re.compile(r"(?:<!-- (?P<mark>[\w ]+) -->\n)?```json\n(?P<body>.*?)\n```", re.DOTALL)


class RecordMetadata(BaseModel):
    title: str
    dataset: str | None = None
    source: str | None = None


class RecordPayload(BaseModel):
    """``record`` has no model in flowwright.protocol; this is what the document promises:
    Buttermilk's shape (``content``, ``metadata``) and this server's first one."""

    record_id: str
    name: str
    text: str
    content: str
    metadata: RecordMetadata


class ResearchPayload(ResearchResult):
    """The reference server adds ``summary``: what Buttermilk's UI shows of a result."""

    summary: str | None = None


class TaskPayload(TaskUpdate):
    """The reference server adds ``step_name``: Buttermilk's UI shows it in its header."""

    step_name: str | None = None


PAYLOADS: dict[str, type[BaseModel]] = {
    MessageType.SYSTEM_MESSAGE: FlowEvent,
    MessageType.SYSTEM_ERROR: ErrorPayload,
    MessageType.UI_MESSAGE: UIPrompt,
    MessageType.CHAT_MESSAGE: ChatPayload,
    MessageType.RESEARCH_RESULT: ResearchPayload,
}


def samples() -> list[tuple[str, Any]]:
    """(mark, decoded JSON) of every ```json block; the mark is "" when there is none."""
    found = [
        (match["mark"] or "", json.loads(match["body"]))
        for match in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))
    ]
    assert found, f"no json samples in {DOC}"
    return found


def kind(mark: str, sample: Any) -> str:
    if mark:
        return mark
    if isinstance(sample, dict) and "outputs" in sample:
        return "envelope"
    return "client"


def payload_model(message: Envelope) -> type[BaseModel]:
    if message.type == MessageType.SYSTEM_UPDATE:
        assert isinstance(message.outputs, dict)
        return TaskPayload if "agent_id" in message.outputs else ProgressUpdate
    if message.type == MessageType.RECORD:
        return RecordPayload
    return PAYLOADS[message.type]


SAMPLES = samples()


@pytest.mark.parametrize(("mark", "sample"), SAMPLES, ids=[f"{i}" for i in range(len(SAMPLES))])
def test_sample_matches_the_models(mark: str, sample: Any) -> None:
    match kind(mark, sample):
        case "envelope":
            message = parse(json.dumps(sample))
            assert isinstance(message, Envelope), message
            model = payload_model(message)
            model.model_validate(message.outputs)
            assert set(message.outputs or {}) <= set(model.model_fields), "undocumented fields"
            assert message.message_id
            assert message.timestamp
            if message.preview is not None:
                assert message.preview == text_of(message), "preview is the display text"
        case "resume notice":
            message = parse(json.dumps(sample))
            assert isinstance(message, Envelope), message
            SessionResumed.model_validate(message.outputs)
            assert message.message_id is None  # never a resume cursor
        case "client":
            parse_client(sample)
        case "invalid":
            with pytest.raises(ValueError, match=r"."):
                parse_client(sample)
        case "fault":
            Faults.model_validate(sample)
        case "ui bookkeeping":  # accepted by the server, though no client message of ours
            assert sample["type"] in IGNORED_TYPES
            with pytest.raises(ValueError, match="unknown message type"):
                parse_client(sample)
        case "http":
            assert isinstance(sample, dict | list)
        case other:
            pytest.fail(f"unknown sample mark {other!r}")


def test_every_message_type_the_server_sends_has_a_sample() -> None:
    types = {s["type"] for mark, s in SAMPLES if kind(mark, s) == "envelope"}
    sent = {
        MessageType.SYSTEM_MESSAGE,
        MessageType.SYSTEM_UPDATE,
        MessageType.SYSTEM_ERROR,
        MessageType.UI_MESSAGE,
        MessageType.CHAT_MESSAGE,
        MessageType.RESEARCH_RESULT,
        MessageType.RECORD,
    }
    assert sent <= types
    updates = [
        s["outputs"]
        for m, s in SAMPLES
        if kind(m, s) == "envelope" and s["type"] == "system_update"
    ]
    assert any("agent_id" in u for u in updates), "a task update"
    assert any("agent_id" not in u for u in updates), "a progress update"


def test_both_client_messages_have_samples() -> None:
    clients = [parse_client(s) for m, s in SAMPLES if kind(m, s) == "client"]
    assert {message.type for message in clients} == {"run_flow", "manager_response"}
