"""The pure protocol module: tolerant parsing, one category per frame, strict client input."""

from __future__ import annotations

import json

import pytest

from flowwright.dialect import FLOWWRIGHT
from flowwright.protocol import (
    AgentInfo,
    Category,
    Envelope,
    Malformed,
    ManagerResponse,
    ResearchResult,
    RunFlow,
    TaskUpdate,
    UIPrompt,
    envelope,
    parse,
    parse_client,
    text_of,
)


def test_envelope_round_trips_and_omits_none_fields() -> None:
    sent = envelope(
        "ui_message",
        UIPrompt(content="Proceed?", options=["confirm", "reject"]),
        agent=AgentInfo(agent_id="host", role="host"),
    )
    wire = json.loads(sent.to_json())
    assert set(wire) == {"type", "message_id", "outputs", "timestamp", "agent_info"}
    assert wire["agent_info"] == {"agent_id": "host", "role": "host"}
    parsed = parse(sent.to_json())
    assert isinstance(parsed, Envelope)
    assert UIPrompt.model_validate(parsed.outputs).options == ["confirm", "reject"]


@pytest.mark.parametrize(
    ("frame", "category", "text"),
    [
        ('{"type": "chat_message", "outputs": "plain string"}', Category.CHAT, "plain string"),
        ('{"type": "judge_reasons", "outputs": {"conclusion": "ok"}}', Category.RESULT, "ok"),
        ('{"type": "brand_new", "outputs": {"x": 1}}', Category.OTHER, '{"x": 1}'),
        (
            '{"type": "system_message", "outputs": {"content": "flow_completed"}}',
            Category.LIFECYCLE,
            "flow_completed",
        ),
        (
            '{"type": "system_update", "outputs": {"agent_id": "r-1", "role": "researcher",'
            ' "status": "complete", "is_error": true}}',
            Category.PROGRESS,
            "researcher complete (error)",
        ),
        (
            '{"type": "system_error", "outputs": {"source": "s", "content": "boom"}}',
            Category.ERROR,
            "boom",
        ),
        (
            '{"type": "ui_message", "outputs": {"content": "Go?"}, "extra_field": 1}',
            Category.PROMPT,
            "Go?",
        ),
        ('{"type": "record", "preview": "a post"}', Category.RESULT, "a post"),
    ],
)
def test_tolerant_parsing_keeps_every_wellformed_envelope(
    frame: str, category: Category, text: str
) -> None:
    parsed = parse(frame)
    assert isinstance(parsed, Envelope)
    assert FLOWWRIGHT.categorise(parsed) is category
    assert text_of(parsed) == text


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{oops", "not JSON"),
        ("[1, 2]", "not a JSON object but list"),
        ('{"outputs": {}}', "no string 'type' field"),
        ('{"type": []}', "no string 'type' field"),
        ("[" * 5000 + "]" * 5000, "not a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_frames_are_values_not_exceptions(frame: str | bytes, reason: str) -> None:
    parsed = parse(frame)
    assert isinstance(parsed, Malformed)
    assert reason in parsed.reason


@pytest.mark.parametrize(
    ("frame", "note"),
    [
        ('{"type": "x", "message_id": "m", "agent_info": {"role": 3}}', "agent_info.role"),
        ('{"type": "x", "message_id": "m", "agent_info": "JUDGE"}', "agent_info"),
        ('{"type": "x", "message_id": "m", "timestamp": [1]}', "timestamp"),
        ('{"type": "x", "message_id": "m", "preview": {"a": 1}}', "preview"),
    ],
)
def test_a_wrong_nested_field_is_a_note_not_a_reason_to_drop_the_type(
    frame: str, note: str
) -> None:
    parsed = parse(frame)
    assert isinstance(parsed, Envelope), parsed
    assert (parsed.type, parsed.message_id) == ("x", "m")
    assert len(parsed.notes) == 1
    assert parsed.notes[0].startswith(note)


@pytest.mark.parametrize("depth", [300, 1000, 100_000])
def test_a_deeply_nested_envelope_keeps_its_type_and_id(depth: int) -> None:
    frame = (
        '{"type": "chat_message", "outputs": '
        + "[" * depth
        + "]" * depth
        + ', "message_id": "deep", "preview": "p"}'
    )
    parsed = parse(frame)
    assert isinstance(parsed, Envelope), parsed
    assert (parsed.type, parsed.message_id, parsed.preview) == ("chat_message", "deep", "p")
    assert parsed.outputs is None
    assert "outputs: nested deeper than" in parsed.notes[0]


def test_a_numeric_message_id_is_read_as_text() -> None:
    parsed = parse('{"type": "x", "message_id": 12}')
    assert isinstance(parsed, Envelope)
    assert parsed.message_id == "12"
    assert parsed.notes == ()


def test_research_result_text_includes_its_literature() -> None:
    sent = envelope(
        "research_result",
        ResearchResult(
            response="Answer.", literature=[{"summary": "About hate speech.", "source": "Policy"}]
        ),
    )
    assert text_of(parse(sent.to_json())) == "Answer.\nAbout hate speech."


def test_manager_response_nulls_are_false_and_confirm_defaults_false() -> None:
    reply = parse_client(
        {
            "type": "manager_response",
            "confirm": None,
            "halt": None,
            "interrupt": None,
            "human_in_loop": True,
            "content": None,
        }
    )
    assert isinstance(reply, ManagerResponse)
    assert (reply.confirm, reply.halt, reply.interrupt) == (False, False, False)
    yes = parse_client({"type": "manager_response", "content": "yes"})
    assert isinstance(yes, ManagerResponse)
    assert yes.confirm is False


def test_unknown_manager_field_is_named() -> None:
    with pytest.raises(ValueError, match="unknown field 'confrim'"):
        parse_client({"type": "manager_response", "confrim": True})


def test_run_flow_parameters_and_bare_form() -> None:
    run = parse_client({"type": "run_flow", "flow": "osb", "prompt": "q", "record_id": "r"})
    assert isinstance(run, RunFlow)
    assert run.parameters == {"prompt": "q", "record_id": "r"}
    assert isinstance(parse_client({"flow": "osb", "prompt": "q"}), RunFlow)
    with pytest.raises(ValueError, match="flow"):
        parse_client({"type": "run_flow", "prompt": "q"})
    with pytest.raises(ValueError, match="unknown message type 'pull_task'"):
        parse_client({"type": "pull_task"})


def test_task_update_payload() -> None:
    update = TaskUpdate(agent_id="r-1", role="researcher", status="started")
    assert update.model_dump(exclude_none=True)["is_error"] is False
