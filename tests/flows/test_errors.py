"""Error handling and recovery against the reference server's real fault injection."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from flowwright import (
    Category,
    FlowErrorEvent,
    FlowTestClient,
    FlowTimeoutError,
    Message,
    ProtocolError,
    ResponseSimulator,
    ServerExitedError,
)
from flowwright.protocol import TaskUpdate
from tests.timing import scaled

QUESTION = "What is the hate speech policy?"


async def test_an_agent_error_fails_the_wait_fast_naming_the_agent(
    flow_client: FlowTestClient,
) -> None:
    await flow_client.start_flow("osb", QUESTION, fault={"agent_error": "researcher"})
    await flow_client.wait_for_ui_message()
    await flow_client.send_manager_response("yes")
    started = time.monotonic()
    with pytest.raises(FlowErrorEvent) as caught:
        await flow_client.wait_for_agent_results(["researcher", "policy_analyst"], timeout=30)
    assert time.monotonic() - started < scaled(1)
    assert caught.value.source == "researcher"
    assert "injected agent_error" in caught.value.content


@pytest.mark.flow(fail_on_error=False)
async def test_a_flow_that_tolerates_an_agent_error_completes(
    flow_client: FlowTestClient,
) -> None:
    talk = await flow_client.converse(
        ResponseSimulator(), flow="osb", prompt=QUESTION, fault={"agent_error": "researcher"}
    )
    assert talk.completed
    updates = [
        m.payload(TaskUpdate)
        for m in flow_client.collector.filter(category="progress")
        if isinstance(m.outputs, dict) and m.outputs.get("status") == "complete"
    ]
    assert [(u.role, u.is_error) for u in updates] == [
        ("researcher", True),
        ("policy_analyst", False),
    ]
    assert talk.ran_after("policy_analyst", 0)


@pytest.mark.flow(fresh_server=True)
async def test_the_server_dying_mid_flow_fails_the_wait_with_exit_code_and_log() -> None:
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", QUESTION, fault={"exit_after": 6, "exit_code": 70})
        await client.wait_for_ui_message()
        started = time.monotonic()
        with pytest.raises(ServerExitedError) as caught:
            async with client.expect(category="result", timeout=60):
                await client.send_manager_response("yes")
        assert time.monotonic() - started < scaled(1)
    assert caught.value.returncode == 70
    assert any("injected exit_after" in line for line in caught.value.log_tail)
    assert "server log of session" in str(caught.value)  # its own lines first


@pytest.mark.flow(allow_malformed=True)  # malformed frames are the point
async def test_a_malformed_frame_is_recorded_and_the_flow_goes_on(
    flow_client: FlowTestClient,
) -> None:
    await flow_client.converse(
        ResponseSimulator(), flow="osb", prompt=QUESTION, fault={"malformed_frame": True}
    )
    malformed = flow_client.collector.by_category(Category.MALFORMED)
    assert len(malformed) == 1
    assert "not JSON" in (malformed[0].error or "")
    assert flow_client.collector.filter(category="result", agent="researcher")


async def test_an_unknown_flow_fails_at_once_listing_the_flows(flow_client: FlowTestClient) -> None:
    with pytest.raises(ProtocolError, match="no flow 'osb-typo'") as caught:
        await flow_client.start_flow("osb-typo", QUESTION)
    assert "['chat', 'osb']" in str(caught.value)
    assert flow_client.collector.last_sent_seq == 0  # nothing was sent


async def test_an_unknown_flow_sent_anyway_is_answered_with_an_error(
    flow_client: FlowTestClient,
) -> None:
    await flow_client.send({"type": "run_flow", "flow": "osb-typo", "prompt": QUESTION})
    with pytest.raises(FlowErrorEvent, match="osb-typo") as caught:
        await flow_client.wait_for_ui_message(timeout=30)
    assert "osb" in caught.value.content
    assert "chat" in caught.value.content


async def test_interrupt_pauses_and_the_next_message_resumes(flow_client: FlowTestClient) -> None:
    await flow_client.start_flow("osb", QUESTION, fault={"slow_agent": "researcher", "seconds": 1})
    await flow_client.wait_for_ui_message()
    async with flow_client.expect(category="progress", where=is_task("researcher", "started")):
        await flow_client.send_manager_response("yes")
    async with flow_client.expect(category="progress", pattern="paused"):
        await flow_client.send_manager_response("interrupt")
    assert not flow_client.collector.filter(agent="policy_analyst", category="chat")
    async with flow_client.expect(category="progress", pattern="resumed"):
        await flow_client.send_manager_response("carry on")
    results = await flow_client.wait_for_agent_results(["policy_analyst"])
    assert results[0].role == "policy_analyst"
    await flow_client.wait_for_completion()


async def test_halt_ends_the_flow_cleanly_mid_step(flow_client: FlowTestClient) -> None:
    await flow_client.start_flow("osb", QUESTION, fault={"slow_agent": "researcher", "seconds": 30})
    await flow_client.wait_for_ui_message()
    async with flow_client.expect(category="progress", where=is_task("researcher", "started")):
        await flow_client.send_manager_response("yes")
    started = time.monotonic()
    async with flow_client.expect(where=lambda m: m.is_flow_completed, timeout=5):
        await flow_client.send_manager_response("halt")
    assert time.monotonic() - started < scaled(2)
    assert not flow_client.collector.filter(category="result")


async def test_a_slow_agent_times_out_with_the_step_in_the_story(
    flow_client: FlowTestClient,
) -> None:
    await flow_client.start_flow("osb", QUESTION, fault={"slow_agent": "researcher", "seconds": 30})
    await flow_client.wait_for_ui_message()
    await flow_client.send_manager_response("yes")
    with pytest.raises(FlowTimeoutError) as caught:
        await flow_client.wait_for_agent_results(["researcher"], timeout=0.5)
    assert "researcher started" in str(caught.value)
    await flow_client.send_manager_response("halt")  # don't leave the slow step running


def is_task(role: str, status: str) -> Callable[[Message], bool]:
    """Matches the task update of ``role`` with ``status`` ("started" or "complete")."""

    def matches(message: Message) -> bool:
        outputs = message.outputs if isinstance(message.outputs, dict) else {}
        return outputs.get("role") == role and outputs.get("status") == status

    matches.__name__ = f"{role} {status}"
    return matches
