"""Message: built on demand from the collector's record, parsed only when read, named by the
dialect, equal across reads."""

from __future__ import annotations

import json

from flowwright import MessageCollector
from flowwright.dialect import BUTTERMILK
from flowwright.message import PENDING


def test_a_message_is_parsed_only_when_more_than_its_type_is_read() -> None:
    collector = MessageCollector()
    frame = json.dumps({"type": "chat_message", "outputs": {"content": "hello"}})
    message = collector.append(frame)
    assert message.type == "chat_message"
    assert message._parsed is PENDING  # not parsed yet
    assert message.content == "hello"
    assert message.envelope is not None
    assert message.envelope.type == "chat_message"


def test_two_reads_of_one_message_are_equal() -> None:
    collector = MessageCollector()
    collector.append(json.dumps({"type": "chat_message", "outputs": "hi"}))
    assert collector[1] == collector[1]
    assert collector[1] == collector.since(0)[0]


def test_notes_say_what_tolerant_parsing_left_out() -> None:
    collector = MessageCollector()
    message = collector.append(json.dumps({"type": "x", "agent_info": "JUDGE"}))
    assert message.notes[0].startswith("agent_info")
    assert message.to_dict()["notes"] == list(message.notes)


def test_the_sender_is_read_through_the_dialect_case_insensitively() -> None:
    collector = MessageCollector(dialect=BUTTERMILK)
    message = collector.append(
        json.dumps(
            {
                "type": "judge_reasons",
                "outputs": {"conclusion": "ok"},
                "agent_info": {"agent_id": "FMHfNC", "description": "JUDGE agent for tasks"},
            }
        )
    )
    assert message.role == "JUDGE"
    assert message.from_agent("judge")
    assert message.agent == "FMHfNC"
    assert not message.from_agent("critic")


def test_a_malformed_frame_keeps_its_text_and_its_reason() -> None:
    message = MessageCollector().append("<<not json>>")
    assert (message.category, message.type, message.envelope) == ("malformed", "", None)
    assert message.content == "<<not json>>"
    assert message.error is not None
    assert "not JSON" in message.error
