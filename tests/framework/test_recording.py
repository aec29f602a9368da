"""Recordings: a real session as JSONL lines, read back as the segments a replay serves;
a line that does not fit says where and why."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
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


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff\xfe{}", "'utf-8' codec can't decode byte 0xff"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deep to read"),
        (b'{"direction": "http", "path": "/x", "body": ' + b"[" * 50_000 + b"}", "too deep"),
        (b'{"direction": "received", "at": Infinity, "frame": "x"}', "and finite"),
        (b'{"direction": "received", "at": NaN, "frame": "x"}', "and finite"),
        (b'{"direction": "received", "at": true, "frame": "x"}', "and finite"),
        (b'{"direction": "sent", "frame": "\\ud800"}', "surrogates not allowed"),
        (b'{"direction": "http"}', "no 'path' field"),
    ],
)
def test_a_hostile_line_is_a_clear_error_not_a_traceback_or_a_hang(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    """Not UTF-8, too deep for json, a time that never comes, text no socket can carry."""
    path = tmp_path / "hostile.jsonl"
    good = RecordingLine("sent", frame='{"type": "run_flow"}', at=0.0).to_json()
    path.write_bytes(good.encode() + b"\n" + data + b"\n")
    with pytest.raises(ProtocolError) as caught:
        load_recording(path)
    assert str(caught.value).startswith(f"{path}:2: not a recording line: ")
    assert problem in str(caught.value)


def test_a_frame_holding_line_separators_reads_back_as_written(tmp_path: Path) -> None:
    """U+2028, U+0085, U+001C are text, kept as they are by ``ensure_ascii=False``; only
    ``\\n`` ends a line."""
    outputs = "a\u2028b\x85c\x1cd\u2029e\r"
    text = json.dumps({"type": "chat_message", "outputs": outputs}, ensure_ascii=False)
    lines = [RecordingLine("sent", frame=text, at=0.0), RecordingLine("received", frame=text)]
    path = tmp_path / "separators.jsonl"
    path.write_text("".join(line.to_json() + "\n" for line in lines), encoding="utf-8")
    assert load_recording(path).lines == tuple(lines)


def test_hostile_recordings_load_or_fail_naming_file_and_line(tmp_path: Path) -> None:
    """Seeded corruptions of a real recording: each loads, or raises a ProtocolError that
    names the file and the line; nothing else escapes."""
    rng = random.Random(20261201)
    source = Path(__file__).parents[1] / "data" / "buttermilk" / "mock-session.jsonl"
    whole = source.read_bytes().split(b"\n")
    spoilers: list[Callable[[bytes], bytes]] = [
        lambda b: b[: rng.randrange(len(b) + 1)],  # truncated
        lambda b: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) + b,
        lambda b: b.replace(b'"at": ', b'"at": ' + rng.choice([b"1e999", b"-1e999", b"NaN"])),
        lambda b: b.replace(b'"frame"', rng.choice([b'"frame": 5, "x"', b'"nope"', b'"at"'])),
        lambda b: b.replace(b'"direction": "', rng.choice([b'"direction": "x', b'"d": "'])),
        lambda b: b"[" * rng.choice([10, 5_000, 200_000]) + b,
        lambda b: b.replace(b'"frame": "', b'"frame": "\\udc80'),
        lambda b: rng.choice([b"null", b"[]", b'"text"', b"0", b"{}", b"\x00"]),
    ]
    outcomes = {"loaded": 0, "refused": 0}
    for attempt in range(300):
        lines = list(whole)
        spoiled = rng.randrange(len(lines))
        lines[spoiled] = rng.choice(spoilers)(lines[spoiled])
        path = tmp_path / f"hostile-{attempt}.jsonl"
        path.write_bytes(b"\n".join(lines))
        problem = ""
        try:
            load_recording(path)
        except ProtocolError as exc:
            problem = str(exc)
        outcomes["refused" if problem else "loaded"] += 1
        assert not problem or problem.startswith(f"{path}:{spoiled + 1}: not a recording line: ")
    print(f"\n300 hostile recordings: {outcomes}")
    assert outcomes["refused"] > 150
