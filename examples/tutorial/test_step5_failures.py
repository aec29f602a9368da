"""Step 5: what a failing wait tells you (here made to fail on purpose)."""

import pytest

from flowwright import FlowErrorEvent, FlowTestClient, FlowTimeoutError


async def test_a_timeout_says_what_was_awaited_and_what_came(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "What is the hate speech policy?")
    with pytest.raises(FlowTimeoutError) as failure:  # nobody confirms, so no agent runs
        await flow_client.wait_for_agent_results(["researcher"], timeout=0.5)
    message = str(failure.value)
    assert "waiting for results from ['researcher']" in message
    assert "missing: ['researcher']" in message
    assert "prompt ui_message [host]" in message  # the prompt nobody answered
    assert "server: pid" in message  # the server's state and log tail


async def test_an_agent_error_fails_the_wait_at_once(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "Is satire allowed?", fault={"agent_error": "researcher"})
    await flow_client.wait_for_ui_message(pattern="proceed")
    await flow_client.send_manager_response("confirm")
    with pytest.raises(FlowErrorEvent, match="researcher failed"):
        await flow_client.wait_for_completion()
