"""Disconnect and resume with FlowTestClient: nothing lost, nothing duplicated."""

from __future__ import annotations

import asyncio

from flowwright import (
    ConnectionLostError,
    FlowTestClient,
    Message,
    ResponseSimulator,
    TestFlowRunner,
)

QUESTION = "What is the hate speech policy?"
SLOW = {"slow_agent": "researcher", "seconds": 0.5}


def story(messages: list[Message]) -> list[tuple[str, str | None, str]]:
    """What happened, without ids and times: (type, role, text) of each received message
    (the server's notice that the session resumed left out)."""
    return [
        (m.type, m.role, m.content)
        for m in messages
        if m.direction == "received" and m.content != "session_resumed"
    ]


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
