"""MessageCollector: numbering, categories, queries, export; it never loses a frame."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
from pathlib import Path

import pytest

from flowwright import Category, Dialect, FlowEventWaiter, Match, MessageCollector
from flowwright.dialect import FLOWWRIGHT
from flowwright.protocol import Envelope
from tests.framework.scripted import completed, error, prompt, result


def test_every_frame_is_numbered_timed_and_categorised() -> None:
    ticks = iter([100.0, 100.5, 101.0, 101.25, 102.0])
    collector = MessageCollector(clock=lambda: next(ticks))
    frames = [prompt(), "garbage", result("researcher", "found"), completed()]
    messages = [collector.append(frame) for frame in frames]
    assert [m.seq for m in messages] == [1, 2, 3, 4]
    assert [m.time for m in messages] == [0.5, 1.0, 1.25, 2.0]
    assert [m.category for m in messages] == [
        Category.PROMPT,
        Category.MALFORMED,
        Category.CHAT,
        Category.LIFECYCLE,
    ]
    assert messages[3].is_flow_completed
    assert len(collector) == 4
    assert collector[3].agent == "researcher-1"
    assert collector[3].role == "researcher"


def test_queries() -> None:
    collector = MessageCollector()
    for frame in [
        prompt("Proceed?"),
        result("researcher", "hate speech found"),
        result("policy_analyst", "violates"),
        error("boom"),
    ]:
        collector.append(frame)
    collector.append('{"type":"run_flow","flow":"osb"}', direction="sent")
    assert [m.seq for m in collector.by_category(Category.CHAT)] == [2, 3]
    assert [m.seq for m in collector.by_agent("policy_analyst")] == [3]
    assert [m.seq for m in collector.matching("HATE speech")] == [2]
    assert [m.seq for m in collector.filter(since=2)] == [3, 4]
    assert [m.seq for m in collector.filter(category=Category.SENT, direction="sent")] == [5]
    assert collector.counts() == {"prompt": 1, "chat": 2, "error": 1, "sent": 1}
    with pytest.raises(IndexError, match=r"no message #9; the collector holds #1..#5"):
        collector[9]


def test_a_query_by_agent_reads_each_frame_once_ever() -> None:
    """The agent index is built by the first query and extended by later ones: a query costs
    what it finds plus what arrived since, not what the log holds."""
    named: list[int] = []

    class Counting(Dialect):
        def sender(self, envelope: Envelope) -> tuple[str | None, frozenset[str]]:
            named.append(1)
            return super().sender(envelope)

    same = {f.name: getattr(FLOWWRIGHT, f.name) for f in dataclasses.fields(FLOWWRIGHT) if f.init}
    collector = MessageCollector(dialect=Counting(**same))
    for n in range(200):
        collector.append(result("researcher" if n % 2 else "policy_analyst", f"finding {n}"))
    collector.append('{"type":"run_flow","flow":"osb"}', direction="sent")
    assert len(collector.by_agent("researcher")) == 100
    # Every received frame named once for the index (the sent one has no sender), then each
    # one found once more by the query's matcher.
    assert len(named) == 200 + 100
    collector.append(result("researcher", "one more"))
    found = collector.filter(agent="RESEARCHER", since=150, category=Category.CHAT)
    assert [m.seq for m in found] == [*range(152, 201, 2), 202]
    assert len(named) == 300 + 1 + 26  # the new frame, then only what the query found
    assert collector.by_agent("fact_checker") == []


def test_a_failing_listener_loses_nothing() -> None:
    collector = MessageCollector()
    seen: list[int] = []

    def broken(message: object) -> None:
        raise RuntimeError("listener bug")

    collector.subscribe(broken)
    collector.subscribe(lambda m: seen.append(m.seq))
    collector.append(prompt())
    collector.append(prompt())
    assert seen == [1, 2]
    assert len(collector) == 2


def test_jsonl_export(tmp_path: Path) -> None:
    collector = MessageCollector()
    collector.append(result("researcher", "found"))
    collector.append("not json")
    path = tmp_path / "t.jsonl"
    text = collector.to_jsonl(path)
    assert path.read_text() == text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["role"] == "researcher"
    assert lines[0]["content"] == "found"
    assert lines[1]["category"] == "malformed"
    assert lines[1]["raw"] == "not json"
    assert "not JSON" in lines[1]["error"]


def test_format_tail_truncates_and_counts() -> None:
    collector = MessageCollector()
    for i in range(30):
        collector.append(result("researcher", f"item {i} " + "x" * 300))
    tail = collector.format_tail(5)
    assert tail.startswith("  … 25 earlier messages not shown")
    assert "#30" in tail
    assert "#25" not in tail
    assert all(len(line) <= 125 for line in tail.splitlines())


def test_a_bounded_collector_spills_old_messages_and_still_reads_them(tmp_path: Path) -> None:
    spill = tmp_path / "transcript.jsonl"
    collector = MessageCollector(keep=10, spill=spill)
    frames = [
        json.dumps({"type": "chat_message" if n % 100 else "ui_message", "outputs": f"m{n}"})
        for n in range(1, 1001)
    ]
    for frame in frames:
        collector.append(frame)
    assert len(collector) == 1000
    assert sum(raw is not None for raw in collector._raw) == 10  # held: the last ten
    assert collector.spill_path == spill
    assert len(spill.read_text().splitlines()) == 990  # the rest, as transcript lines
    assert collector[1].raw == frames[0]  # read back from the file
    assert collector[1].content == "m1"
    prompts = collector.filter(category="prompt")  # the index finds spilled ones too
    assert [m.content for m in prompts] == [f"m{n}" for n in range(100, 1001, 100)]
    assert collector.to_jsonl().count("\n") == 1000  # the whole transcript
    for n in range(1001, 1101):  # spilled again while the file is open for reading back
        collector.append(json.dumps({"type": "chat_message", "outputs": f"m{n}"}))
    assert [collector[seq].content for seq in (1075, 999, 2)] == ["m1075", "m999", "m2"]
    assert [m.content for m in collector.since(1088)] == [f"m{n}" for n in range(1089, 1101)]


def test_a_temporary_spill_file_is_deleted_on_close_and_with_the_collector(tmp_path: Path) -> None:
    frames = [json.dumps({"type": "chat_message", "outputs": f"m{n}"}) for n in range(30)]
    collector = MessageCollector(keep=5)
    for frame in frames:
        collector.append(frame)
    spill = collector.spill_path
    assert spill is not None
    assert spill.exists()
    collector.close()
    assert not spill.exists()
    with pytest.raises(ValueError, match="#1 was spilled to a temporary file, deleted"):
        collector[1].content  # noqa: B018
    assert collector[30].content == "m29"  # what is held still reads
    for frame in frames:  # a client left open past its test goes on receiving
        collector.append(frame)
    assert not spill.exists()  # not made again, for nobody to delete
    with pytest.raises(ValueError, match="#31 was spilled to a temporary file, deleted"):
        collector[31].content  # noqa: B018
    assert collector[60].content == "m29"

    dropped = MessageCollector(keep=5)
    for frame in frames:
        dropped.append(frame)
    spill = dropped.spill_path
    assert spill is not None
    assert spill.exists()
    del dropped
    gc.collect()
    assert not spill.exists()

    given = MessageCollector(keep=5, spill=tmp_path / "mine.jsonl")
    for frame in frames:
        given.append(frame)
    given.close()
    assert (tmp_path / "mine.jsonl").exists()  # the caller's file is the caller's


def test_a_wait_finds_a_spilled_message(tmp_path: Path) -> None:
    async def scenario() -> None:
        collector = MessageCollector(keep=5, spill=tmp_path / "t.jsonl")
        waiter = FlowEventWaiter(collector)
        collector.append(json.dumps({"type": "ui_message", "outputs": {"content": "Go?"}}))
        for n in range(50):
            collector.append(json.dumps({"type": "chat_message", "outputs": f"c{n}"}))
        found = await waiter.wait_for(Match(category="prompt"), timeout=1, since=0)
        assert (found.seq, found.content) == (1, "Go?")

    asyncio.run(scenario())
