"""Dialects against recorded real frames: a Buttermilk session means what Buttermilk meant."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowwright import Category, Dialect, MessageCollector
from flowwright.dialect import BUTTERMILK, FLOWWRIGHT, TaskEvent, resolve_dialect
from flowwright.protocol import Envelope, parse

DATA = Path(__file__).parents[1] / "data" / "buttermilk"


def recorded_frames() -> dict[str, str]:
    lines = (DATA / "frames.jsonl").read_text().splitlines()
    return {entry["name"]: entry["frame"] for entry in map(json.loads, lines)}


def session_frames() -> list[str]:
    lines = map(json.loads, (DATA / "mock-session.jsonl").read_text().splitlines())
    return [line["frame"] for line in lines if line["direction"] == "received"]


def collect(frames: list[str], dialect: Dialect = BUTTERMILK) -> MessageCollector:
    collector = MessageCollector(dialect=dialect)
    for frame in frames:
        collector.append(frame)
    return collector


def test_the_recorded_session_passes_with_nothing_malformed_and_every_type_kept() -> None:
    frames = session_frames()
    collector = collect(frames)
    assert len(collector) == len(frames) == 60
    assert collector.counts()["malformed"] == 0
    assert [m.type for m in collector] == [json.loads(frame)["type"] for frame in frames]
    assert all(not m.notes for m in collector)  # every field fitted: nothing left out
    assert set(collector.counts()) == {
        "result",
        "chat",
        "prompt",
        "progress",
        "error",
        "lifecycle",
    }


def test_agents_are_named_by_role_word_case_insensitively() -> None:
    collector = collect(session_frames())
    judges = collector.filter(category="result", agent="judge")
    assert len(judges) == 5
    assert {m.role for m in judges} == {"JUDGE"}  # from "JUDGE agent for processing tasks"
    assert collector.filter(category="chat", agent="Assistant")
    assert collector.filter(category="error", agent="critic")  # the error's source


def test_a_real_agents_frame_has_no_agent_id_and_still_has_its_sender() -> None:
    message = collect([recorded_frames()["real_agent_trace"]])[1]
    assert (message.category, message.role, message.agent) == (Category.RESULT, "JUDGE", "JUDGE")
    assert message.from_agent("judge")


def test_options_true_offers_confirm_and_reject() -> None:
    prompt = collect([recorded_frames()["ui_confirm_true"]])[1]
    assert prompt.options == ["confirm", "reject"]


def test_task_updates_without_status_are_tasks() -> None:
    frames = recorded_frames()
    collector = collect([frames["task_started"], frames["task_complete"]])
    assert collector[1].task == TaskEvent("JUDGE-AycGab", "started")
    assert collector[2].task == TaskEvent("JUDGE-AycGab", "complete")


def test_an_agents_error_is_a_notice_for_buttermilk_and_fatal_for_the_reference_server() -> None:
    frame = recorded_frames()["error_event"]
    assert not collect([frame], BUTTERMILK)[1].is_fatal
    assert collect([frame], FLOWWRIGHT)[1].is_fatal


def test_flow_completed_ends_a_flow_in_both_dialects() -> None:
    frame = recorded_frames()["flow_completed"]
    assert collect([frame], BUTTERMILK)[1].is_flow_completed
    assert collect([frame], FLOWWRIGHT)[1].is_flow_completed
    never = FLOWWRIGHT.replace(name="endless", ends_flow=None)
    assert not collect([frame], never)[1].is_flow_completed


def test_a_dialect_of_your_own_renames_everything() -> None:
    mine = Dialect(
        name="mine",
        types={"ask": Category.PROMPT, "finding": Category.RESULT, "done": Category.LIFECYCLE},
        ends_flow=lambda envelope: envelope.type == "done",
    )
    collector = collect(
        [
            '{"type": "ask", "outputs": {"content": "Go?", "options": ["yes", "no"]}}',
            '{"type": "finding", "agent_info": {"agent_name": "scout"}, "outputs": "found"}',
            '{"type": "done"}',
            '{"type": "ui_message", "outputs": {"content": "not mine"}}',
        ],
        mine,
    )
    assert [m.category for m in collector] == [
        Category.PROMPT,
        Category.RESULT,
        Category.LIFECYCLE,
        Category.OTHER,
    ]
    assert collector[1].options == ["yes", "no"]
    assert collector[2].from_agent("SCOUT")
    assert collector[3].is_flow_completed


def test_dialects_resolve_by_name_import_path_or_object() -> None:
    assert resolve_dialect(None) is FLOWWRIGHT
    assert resolve_dialect("buttermilk") is BUTTERMILK
    assert resolve_dialect("flowwright.dialect:BUTTERMILK") is BUTTERMILK
    assert resolve_dialect(BUTTERMILK) is BUTTERMILK
    with pytest.raises(ValueError, match=r"unknown dialect 'buttermilc': use one of"):
        resolve_dialect("buttermilc")
    with pytest.raises(ValueError, match="is a mappingproxy, not a flowwright Dialect"):
        resolve_dialect("flowwright.dialect:DIALECTS")


def test_a_dialect_module_not_on_the_path_names_the_pytest_setting() -> None:
    # `pytest --flow-dialect mydialects:MINE` beside mydialects.py once said only
    # "No module named 'mydialects'": the `pytest` command does not put the project on sys.path
    expected = (
        "cannot load dialect 'flowwright_no_such_dialects.mine:MINE': No module named "
        "'flowwright_no_such_dialects' ('flowwright_no_such_dialects.mine' is not on sys.path: "
        "for a module of your project, add 'pythonpath = .' to pytest's configuration, or "
        "install it)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        resolve_dialect("flowwright_no_such_dialects.mine:MINE")


def test_the_sender_of_a_message_with_no_agent_info_is_its_payloads() -> None:
    update = parse('{"type": "system_update", "outputs": {"source": "CRITIC", "status": "error"}}')
    assert isinstance(update, Envelope)
    assert BUTTERMILK.sender(update) == ("CRITIC", frozenset({"critic"}))
    assert BUTTERMILK.task(update) == TaskEvent("CRITIC", "complete", is_error=True)
