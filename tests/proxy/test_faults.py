"""Faults as pure decisions: which frames they take, and what they do to them."""

from __future__ import annotations

import json
import random

import pytest

from flowwright import Message, MessageCollector
from flowwright.protocol import AgentInfo, envelope
from flowwright.proxy import (
    Outcome,
    corrupt,
    cut,
    delay,
    drop,
    duplicate,
    refuse,
    reorder,
    throttle,
)

RESEARCHER = AgentInfo(agent_id="researcher-1", role="researcher")


@pytest.fixture
def collector() -> MessageCollector:
    return MessageCollector()


def result(collector: MessageCollector, text: str = "found it") -> Message:
    frame = envelope("research_result", {"response": text}, agent=RESEARCHER).to_json()
    return collector.append(frame)


def progress(collector: MessageCollector) -> Message:
    return collector.append(
        envelope("system_update", {"role": "researcher", "status": "started"}).to_json()
    )


def reply(collector: MessageCollector) -> Message:
    return collector.append('{"type": "manager_response", "confirm": true}', direction="sent")


def test_a_fault_matches_on_meaning_and_side(collector: MessageCollector) -> None:
    fault = drop(category="result", agent="researcher", pattern="FOUND")
    assert fault.matches(result(collector))
    assert not fault.matches(progress(collector))
    assert not fault.matches(result(collector, "nothing"))
    assert not fault.matches(reply(collector))  # a client frame: the server's side only
    assert drop(side="client", type="manager_response").matches(reply(collector))
    assert drop(side="both").matches(reply(collector))
    assert drop(side="both").matches(result(collector))
    assert drop(where=lambda m: m.seq == 1).matches(collector[1])
    assert drop(path="/ws/abc").matches(collector[1], "/ws/abc?resume_after=x")
    assert not drop(path="/ws/abc").matches(collector[1], "/ws/other")


def test_skip_then_count_bound_what_a_fault_takes(collector: MessageCollector) -> None:
    fault = drop(category="result", skip=1, count=2)
    taken = [fault.take(result(collector)) for _ in range(5)]
    assert taken == [False, True, True, False, False]
    assert [m.seq for m in fault.hits] == [2, 3]
    assert fault.exhausted


def test_each_fault_changes_the_outcome_its_way(collector: MessageCollector) -> None:
    rng = random.Random(0)
    outcome = Outcome("x" * 1000)
    for fault in (delay(2, jitter=0.5), duplicate(times=2), reorder(after=3), throttle(500)):
        fault.apply(outcome, rng)
    assert 2 <= outcome.delay <= 2.5
    assert outcome.copies == 3
    assert outcome.hold == 3
    assert outcome.transfer == 2.0
    assert outcome.actions[1:] == [
        "duplicated (sent 3 times)",
        "held back until 3 later frames went ahead",
        "throttled (2.000 s on the link)",
    ]
    dropped = Outcome("x")
    drop().apply(dropped, rng)
    assert dropped.copies == 0
    assert dropped.actions == ["dropped"]
    paced = Outcome("x")
    throttle(frames_per_second=4).apply(paced, rng)
    assert paced.transfer == 0.25


def test_corrupt_spoils_a_frame_three_ways_or_yours(collector: MessageCollector) -> None:
    frame = result(collector).raw
    rng = random.Random(0)
    spoiled = {}
    for mode in ("not_json", "truncate", "wrong_type"):
        outcome = Outcome(frame)
        corrupt(mode).apply(outcome, rng)
        spoiled[mode] = outcome.data
    with pytest.raises(ValueError, match=r"Extra data|Expecting"):
        json.loads(spoiled["not_json"])
    assert spoiled["truncate"] == frame[: len(frame) // 2]
    wrong = json.loads(spoiled["wrong_type"])
    assert wrong["type"] == "research_result"
    assert isinstance(wrong["outputs"], list)
    assert isinstance(wrong["message_id"], int)
    assert collector.append(spoiled["not_json"]).category == "malformed"
    assert collector.append(spoiled["wrong_type"]).type == "research_result"  # tolerant parse
    mine = Outcome(frame)
    corrupt(using=str.upper).apply(mine, rng)
    assert mine.data == frame.upper()
    assert mine.actions == ["corrupted (upper)"]
    binary = Outcome(b"{}")
    corrupt("truncate").apply(binary, rng)
    assert binary.data == b"{"


def test_cut_before_a_match_or_after_n_frames(collector: MessageCollector) -> None:
    on_result = cut(category="result")
    assert str(on_result) == "cut(category='result')"
    assert not on_result.take(progress(collector))
    assert on_result.take(result(collector))
    assert on_result.exhausted
    after_three = cut(after=3)
    assert str(after_three) == "cut(after=3)"
    assert [after_three.take(progress(collector)) for _ in range(4)] == [False, False, True, False]
    outcome = Outcome("x")
    after_three.apply(outcome, random.Random(0))
    assert outcome.cut == "after"


def test_refuse_counts_attempts_or_a_time_window() -> None:
    twice = refuse(count=2)
    assert [twice.take("/ws/a", 0.0) for _ in range(3)] == [True, True, False]
    window = refuse(seconds=2)
    window.arm(10.0)
    assert window.take("/ws/a", 11.0)
    assert not window.take("/ws/a", 12.0)
    assert window.hits == ["/ws/a"]


def test_a_fault_describes_itself_as_written() -> None:
    assert str(drop(category="result", count=1)) == "drop(category='result', count=1)"
    assert str(delay(3, category="result")) == "delay(3, category='result')"
    assert str(refuse(count=2)) == "refuse(count=2)"
    assert str(corrupt("truncate", type="record")) == "corrupt('truncate', type='record')"
    assert str(drop(where=str.isdigit)) == "drop(where=isdigit)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: drop(side="up"), "side must be"),
        (lambda: drop(count=0), "count must be at least 1"),
        (lambda: drop(skip=-1), "skip must be 0 or more"),
        (lambda: drop(category="nonsense"), "nonsense"),
        (lambda: delay(-1), "0 or more"),
        (lambda: duplicate(times=0), "at least 1"),
        (lambda: reorder(after=0), "at least 1"),
        (lambda: corrupt("garble"), "not_json"),  # type: ignore[arg-type]
        (lambda: cut(after=0), "at least 1"),
        (lambda: throttle(), "one positive rate"),
        (lambda: throttle(10, frames_per_second=1), "one positive rate"),
        (lambda: refuse(status=200), "HTTP error"),
    ],
)
def test_a_bad_fault_is_refused_saying_why(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
