"""The recovery tests, through the proxy: the reference server's own ``fault=`` unused.

What tests/flows/test_recovery.py does with the server's help (a slow agent, a wait on the
server's log), the proxy does from outside, as it would to any server: it cuts the socket at
the frame the test names, drops a result, repeats a frame.
"""

from __future__ import annotations

import asyncio

import pytest

from flowwright import (
    ConnectionLostError,
    FlowEndedError,
    FlowTestClient,
    ResponseSimulator,
    TestFlowRunner,
)
from flowwright.proxy import FlowProxy, cut, drop, duplicate
from tests.stories import story

QUESTION = "What is the hate speech policy?"


def notes(client: FlowTestClient) -> list[str]:
    return [m.content for m in client.collector.filter(category="note", direction="note")]


async def test_a_cut_mid_step_resumes_with_the_same_transcript(
    flow_proxy: FlowProxy, flow_client: FlowTestClient
) -> None:
    async with FlowTestClient.create() as reference:  # through the proxy too, untouched
        await reference.converse(ResponseSimulator(), flow="osb", prompt=QUESTION)

    async with flow_proxy.fault(cut(type="research_result")) as fault:
        await flow_client.start_flow("osb", QUESTION)
        await flow_client.wait_for_ui_message()
        await flow_client.send_manager_response("yes")
        with pytest.raises(ConnectionLostError):
            await flow_client.wait_for_completion()
    [lost] = fault.hits  # the server sent it; the cut took it: only a replay can bring it
    assert lost.envelope is not None
    resumed_at = flow_client.collector.last_seq
    await flow_client.reconnect()
    await flow_client.wait_for_completion(since=0)

    replayed = flow_client.collector.since(resumed_at)
    assert [
        m.seq for m in replayed if m.envelope and m.envelope.message_id == lost.envelope.message_id
    ]
    ids = [
        m.envelope.message_id
        for m in flow_client.messages
        if m.direction == "received" and m.envelope and m.envelope.message_id
    ]
    assert len(ids) == len(set(ids))  # nothing twice
    assert story(flow_client.messages) == story(reference.messages)  # nothing lost
    assert any(
        text.startswith("cut the connection instead of delivering") for text in notes(flow_client)
    )
    assert "resume_after=" in flow_proxy.connections[-1].path  # the query went through


async def test_a_dropped_result_fails_the_wait_at_the_flows_end_naming_the_drop(
    flow_proxy: FlowProxy, flow_client: FlowTestClient
) -> None:
    async with flow_proxy.fault(drop(category="result", agent="researcher", count=1)) as fault:
        await flow_client.start_flow("osb", QUESTION)
        await flow_client.wait_for_ui_message()
        await flow_client.send_manager_response("yes")
        with pytest.raises(FlowEndedError) as failure:
            await flow_client.wait_for_agent_results(["researcher", "policy_analyst"])
    [dropped] = fault.hits
    assert dropped.type == "research_result"
    assert "missing: ['researcher']" in str(failure.value)
    # the failure's transcript says why: the proxy's note, where the result should have been
    note = f"dropped proxy#{dropped.seq} result research_result from researcher"
    assert note in str(failure.value)
    assert not flow_client.collector.filter(type="research_result")


async def test_a_duplicated_result_arrives_twice_and_the_waits_still_hold(
    flow_proxy: FlowProxy, flow_client: FlowTestClient
) -> None:
    async with flow_proxy.fault(duplicate(category="result")):
        await flow_client.converse(ResponseSimulator(), flow="osb", prompt=QUESTION)
    results = flow_client.collector.filter(type="research_result")
    assert len(results) == 2
    assert results[0].raw == results[1].raw  # the same frame, message_id and all
    assert results[1].seq == results[0].seq + 1


async def test_a_duplicated_reply_is_applied_once_by_the_server(
    flow_proxy: FlowProxy, flow_client: FlowTestClient, flow_server: TestFlowRunner
) -> None:
    async with flow_proxy.fault(duplicate(side="client", type="manager_response")) as fault:
        await flow_client.converse(ResponseSimulator(), flow="osb", prompt=QUESTION)
    [reply] = fault.hits
    assert reply.type == "manager_response"
    started = flow_client.collector.filter(category="progress", pattern="researcher started")
    assert len(started) == 1
    assert not flow_client.collector.filter(category="error")
    await asyncio.to_thread(
        flow_server.wait_for_log, rf"{flow_client.session_id} reply \w+ received again", 10
    )
