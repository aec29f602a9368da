"""Recordings: a real session as JSONL lines, read back as the segments a replay serves;
a line that does not fit says where and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowwright import FlowTestClient, ProtocolError
from flowwright.recording import Recording, RecordingLine, load_recording
from tests.framework.scripted import ScriptedServer, completed, prompt, result


async def recorded_session(scripted: ScriptedServer) -> FlowTestClient:
    """A session of two exchanges, and a note of the test's own (left out of recordings)."""
    scripted.greeting = lambda path: [result("host", "welcome")]
    scripted.handler = lambda m: (
        [prompt("Shall I proceed?")]
        if m["type"] == "run_flow"
        else [result("researcher", "found it"), completed()]
    )
    async with FlowTestClient.create(scripted.url) as client:
        await client.wait_for(category="chat", since=0)
        await client.start_flow("osb", "What is the spam policy?")
        await client.wait_for_ui_message()
        client.collector.note("cut", "a note of the test's own")
        await client.send_manager_response("yes")
        await client.wait_for_completion()
    return client


async def test_a_session_is_recorded_frame_for_frame(scripted: ScriptedServer) -> None:
    client = await recorded_session(scripted)
    lines = client.recording()
    frames = [m for m in client.messages if m.direction != "note"]
    assert [line.frame for line in lines] == [m.raw for m in frames]  # text as on the wire
    assert [line.direction for line in lines] == [m.direction for m in frames]
    assert all("a note of the test's own" not in line.frame for line in lines)
    sent_first = next(line for line in lines if line.direction == "sent")
    assert sent_first.at == 0.0  # times count from the first frame the test sent
    assert lines[0].at == 0.0  # the greeting came before it: never a negative time
    times = [line.at for line in lines if line.at is not None]
    assert times == sorted(times)


async def test_a_written_recording_reads_back_as_segments(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    client = await recorded_session(scripted)
    path = tmp_path / "session.jsonl"
    http = RecordingLine("http", path="/api/flows", body={"flow_choices": ["osb", "chat"]})
    lines = [http, *client.recording()]
    path.write_text("\n".join(line.to_json() for line in lines) + "\n\n", encoding="utf-8")

    recording = load_recording(path)
    assert [line.frame for line in recording.lines] == [line.frame for line in lines]
    assert recording.http == {"/api/flows": {"flow_choices": ["osb", "chat"]}}
    assert recording.flows == ["osb", "chat"]
    segments = recording.segments
    assert [segment.trigger is None for segment in segments] == [True, False, False]
    assert [json.loads(s.trigger.frame)["type"] for s in segments if s.trigger] == [
        "run_flow",
        "manager_response",
    ]
    assert [[json.loads(r.frame)["type"] for r in s.received] for s in segments] == [
        ["chat_message"],
        ["ui_message"],
        ["chat_message", "system_message"],
    ]


def test_without_a_flows_answer_the_flow_is_the_one_the_run_asked_for() -> None:
    run = json.dumps({"type": "run_flow", "flow": "chat", "prompt": "hi"})
    recording = Recording((RecordingLine("sent", frame="not json"), RecordingLine("sent", run)))
    assert recording.flows == ["chat"]
    assert Recording(()).flows == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"direction": "later", "frame": "x"}', "direction must be 'http', 'sent' or"),
        ('{"direction": "sent", "frame": {"type": "x"}}', "'frame' must be the frame's text"),
        ('{"direction": "received", "frame": "x", "at": "soon"}', "'at' must be a number"),
        ('{"direction": "sent"}', "'frame'"),
        ("{not json", "Expecting property name"),
    ],
)
def test_a_bad_line_names_the_file_the_line_and_the_problem(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    good = RecordingLine("sent", frame='{"type": "run_flow"}', at=0.0).to_json()
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_recording(path)
    assert str(caught.value).startswith(f"{path}:2: not a recording line: ")
    assert problem in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"cannot read recording .*nowhere\.jsonl"):
        load_recording(tmp_path / "nowhere.jsonl")
