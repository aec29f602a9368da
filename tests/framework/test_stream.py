"""FlowStream: the waits and queries every source offers, through a FlowTestClient on the
scripted server (waits count from the last action, fail when the flow ends, are scaled)."""

from __future__ import annotations

import json

import pytest

from flowwright import (
    Category,
    FlowEndedError,
    FlowTestClient,
    FlowTimeoutError,
    Match,
    settings,
)
from tests.framework.scripted import ScriptedServer, completed, prompt, result


async def test_a_wait_counts_from_the_last_action_unless_told_otherwise(
    scripted: ScriptedServer,
) -> None:
    scripted.greeting = lambda path: [result("researcher", "found before anything was asked")]
    scripted.handler = lambda m: [prompt("Shall I proceed?")]
    async with FlowTestClient.create(scripted.url) as client:
        early = await client.wait_for(category="chat", since=0)  # the backlog counts
        await client.start_flow("osb", "q")
        asked = await client.wait_for_ui_message()
        with pytest.raises(FlowTimeoutError):  # after the last action: the chat is older
            await client.wait_for(category="chat", timeout=0.1)
        assert await client.wait_for(category="chat", since=0) == early
        assert await client.wait_for(category="prompt", since=early) == asked
        with pytest.raises(FlowTimeoutError):
            await client.wait_for(category="prompt", since=asked, timeout=0.1)


async def test_a_matcher_and_criteria_are_one_or_the_other(scripted: ScriptedServer) -> None:
    async with FlowTestClient.create(scripted.url) as client:
        with pytest.raises(TypeError, match="either a matcher or Match criteria"):
            await client.wait_for(Match(category="prompt"), category="prompt")
        with pytest.raises(TypeError, match="needs a matcher or criteria"):
            await client.wait_for()


async def test_agent_results_are_named_case_insensitively_and_returned_in_order(
    scripted: ScriptedServer,
) -> None:
    scripted.handler = lambda m: [
        result("researcher", "first"),
        result("critic", "not asked for"),
        result("RESEARCHER", "second"),
        result("Policy_Analyst", "third"),
    ]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        results = await client.wait_for_agent_results(["researcher", "policy_analyst"])
    assert [m.content for m in results] == ["first", "second", "third"]
    with pytest.raises(ValueError, match="expected_agents is empty"):
        await client.wait_for_agent_results([])


async def test_waits_for_results_and_prompts_fail_as_soon_as_the_flow_ends(
    scripted: ScriptedServer,
) -> None:
    scripted.handler = lambda m: [result("researcher", "done"), completed()]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        with pytest.raises(FlowEndedError) as caught:
            await client.wait_for_agent_results(["researcher", "judge"], timeout=30)
        assert "missing: ['judge']" in str(caught.value)
        with pytest.raises(FlowEndedError, match="the flow ended"):
            await client.wait_for_ui_message(timeout=30)
        end = await client.wait_for_completion()
    assert end.is_flow_completed
    assert end.content == "flow_completed"


async def test_every_timeout_is_scaled_by_the_factor(scripted: ScriptedServer) -> None:
    async with FlowTestClient.create(scripted.url, timeout=0.2) as client:
        with pytest.raises(FlowTimeoutError) as per_call:
            await client.wait_for(category="prompt", timeout=0.1)
        with pytest.raises(FlowTimeoutError) as per_client:
            await client.wait_for(category="prompt")
    assert per_call.value.timeout == pytest.approx(0.1 * settings.timeout_factor)
    assert per_client.value.timeout == pytest.approx(0.2 * settings.timeout_factor)


async def test_the_queries_see_what_was_sent_and_received(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: (
        [prompt("Shall I proceed?")] if m["type"] == "run_flow" else [completed()]
    )
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        await client.wait_for_ui_message()
        await client.send_manager_response("yes")
        await client.wait_for_completion()
    sent = [m.type for m in client.messages if m.direction == "sent"]
    assert sent == ["run_flow", "manager_response"]
    assert [m.category for m in client.messages if m.direction == "received"] == [
        Category.PROMPT,
        Category.LIFECYCLE,
    ]
    lines = [json.loads(line) for line in client.transcript().splitlines()]
    assert len(lines) == len(client.messages) == 4
    talk = client.conversation()
    assert talk.asked == 1
    assert [line.direction for line in client.recording()] == [
        "sent",
        "received",
        "sent",
        "received",
    ]
