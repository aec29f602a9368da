"""Match: one predicate language for waits and queries, describing itself and its near misses."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flowwright import Category, Match, MessageCollector


def collected(*frames: Mapping[str, object]) -> MessageCollector:
    collector = MessageCollector()
    for frame in frames:
        collector.append(json.dumps(frame))
    return collector


PROMPT = {"type": "ui_message", "outputs": {"content": "Shall I proceed?"}}
RESULT = {
    "type": "research_result",
    "outputs": {"response": "found it", "literature": []},
    "agent_info": {"agent_id": "researcher-1", "role": "researcher"},
}


def test_every_criterion_given_must_hold() -> None:
    collector = collected(PROMPT, RESULT)
    prompt, result = collector[1], collector[2]
    assert Match(category="prompt", pattern="PROCEED")(prompt)  # patterns ignore case
    assert not Match(category="prompt", pattern="stop")(prompt)
    assert Match(type="research_result", agent="Researcher")(result)
    assert not Match(category="result", agent="policy_analyst")(result)
    assert Match(where=lambda m: m.seq == 2)(result)


def test_sent_frames_match_only_when_asked_for() -> None:
    collector = collected(PROMPT)
    sent = collector.append(
        json.dumps({"type": "manager_response", "confirm": True}), direction="sent"
    )
    assert not Match(type="manager_response")(sent)  # waits look at what the server sent
    assert Match(category="sent")(sent)
    assert Match(type="manager_response", direction="sent")(sent)
    assert Match(type="manager_response", direction="any")(sent)


def test_a_match_names_its_categories_and_its_near_misses() -> None:
    collector = collected(PROMPT, RESULT)
    match = Match(category=Category.PROMPT, pattern="are you sure")
    assert match.categories == frozenset({Category.PROMPT})
    assert Match(pattern="x").categories is None  # any category: a wait looks at everything
    assert match.near(collector[1])  # a prompt, but not the awaited text
    assert not match.near(collector[2])  # not even a prompt
    assert str(match) == "prompt matching /are you sure/"
