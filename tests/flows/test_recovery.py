"""Disconnect and resume with FlowTestClient: nothing lost, nothing duplicated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flowwright import (
    ConnectionLostError,
    FlowTestClient,
    ResponseSimulator,
    TestFlowRunner,
)
from flowwright.proxy import FlowProxy, drop
from tests.stories import story

QUESTION = "What is the hate speech policy?"
SLOW = {"slow_agent": "researcher", "seconds": 0.5}


async def test_a_cut_mid_flow_resumes_with_the_same_transcript(flow_server: TestFlowRunner) -> None:
    async with FlowTestClient.create() as reference:
        await reference.converse(ResponseSimulator(), flow="osb", prompt=QUESTION, fault=SLOW)

    async with FlowTestClient.create() as client:
        await client.start_flow("osb", QUESTION, fault=SLOW)
        await client.wait_for_ui_message()
        async with client.expect(category="progress", pattern="researcher started"):
            await client.send_manager_response("yes")
        client.cut_connection()  # while the researcher works
        try:
            await client.wait_for_completion()
        except ConnectionLostError:
            pass  # noticed at once; now resume
        else:
            raise AssertionError("the cut went unnoticed")
        # Stay away until the server has sent the research result into the void.
        await asyncio.to_thread(
            flow_server.wait_for_log, rf"> {client.session_id} .*research_result", 10
        )
        resumed_at = client.collector.last_seq
        await client.reconnect()
        await client.wait_for_completion(since=0)

    replayed = [m.type for m in client.collector.since(resumed_at)]
    assert "research_result" in replayed  # it came back through the replay

    ids = [
        m.envelope.message_id
        for m in client.messages
        if m.direction == "received" and m.envelope and m.envelope.message_id
    ]
    assert len(ids) == len(set(ids))  # nothing replayed twice
    assert story(client.messages) == story(reference.messages)  # nothing lost


STEPWISE: dict[str, Any] = {"confirm_each_step": True}
"""Three prompts (the plan, then each step): three replies a cut can catch in flight."""


@pytest.mark.parametrize("at_prompt", [0, 1, 2])
@pytest.mark.parametrize("when", ["right after sending", "after the next message"])
async def test_a_reply_cut_in_flight_is_neither_lost_nor_applied_twice(
    flow_server: TestFlowRunner, at_prompt: int, when: str
) -> None:
    async with FlowTestClient.create() as reference:
        await reference.converse(ResponseSimulator(), flow="osb", prompt=QUESTION, **STEPWISE)

    async with FlowTestClient.create() as client:
        await client.start_flow("osb", QUESTION, **STEPWISE)
        for index in range(3):
            await client.wait_for_ui_message()
            if index != at_prompt:
                await client.send_manager_response("yes")
                continue
            if when == "right after sending":
                await client.send_manager_response("yes")
            else:
                async with client.expect(lambda m: m.direction == "received"):
                    await client.send_manager_response("yes")
            client.cut_connection()
            await client.reconnect()
        await client.wait_for_completion()

    assert story(client.messages) == story(reference.messages)  # nothing lost, nothing twice
    assert client.conversation().asked == 3
    assert client.collector.counts()["error"] == 0


async def test_a_reply_sent_twice_with_one_id_is_applied_once(flow_client: FlowTestClient) -> None:
    await flow_client.start_flow("osb", QUESTION, **STEPWISE)
    await flow_client.wait_for_ui_message(pattern="I will research")
    reply = {"type": "manager_response", "confirm": True, "message_id": "reply-1"}
    async with flow_client.expect(category="prompt", pattern="Step 1 of 2"):
        await flow_client.send(reply)
    await flow_client.send(reply)  # as a client would after a cut: the server saw it already
    await flow_client.send_manager_response("yes")  # the answer to "Step 1 of 2"
    await flow_client.wait_for_ui_message(pattern="Step 2 of 2")
    assert flow_client.collector.counts()["error"] == 0  # not "nothing is awaiting an answer"
    assert flow_client.conversation().asked == 3  # the plan, step 1, step 2: none skipped


async def test_a_reply_lost_in_the_cut_is_sent_again_and_applied_once(
    flow_proxy: FlowProxy, flow_client: FlowTestClient
) -> None:
    """The proxy loses the reply on its way, as a cut in flight would: after the reconnect the
    server says it never got it, the client sends it again, and the flow goes on once."""
    await flow_client.start_flow("osb", QUESTION, **STEPWISE)
    await flow_client.wait_for_ui_message(pattern="I will research")
    async with flow_proxy.fault(drop(type="manager_response", side="client", count=1)) as lost:
        await flow_client.send_manager_response("yes")
        await flow_proxy.wait_for(category="note", pattern="dropped", since=0)
    assert len(lost.hits) == 1
    flow_client.cut_connection()
    await flow_client.reconnect()
    await flow_client.wait_for_ui_message(pattern="Step 1 of 2", since=0)
    notes = [m.type for m in flow_client.collector.filter(category="note", direction="note")]
    assert "resend" in notes  # the lost reply, sent again
    for _ in range(2):
        await flow_client.send_manager_response("yes")
        await flow_client.wait_for(category="progress", pattern="complete")
    await flow_client.wait_for_completion(since=0)
    assert flow_client.conversation().asked == 3
    assert flow_client.collector.counts()["error"] == 0
