"""Step 1: start a flow, answer its prompt, wait for the agents, check what they said."""

from flowwright import FlowTestClient


async def test_first_flow(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "What is the hate speech policy?")
    prompt = await flow_client.wait_for_ui_message(pattern="proceed")
    assert prompt.options == ["confirm", "reject"]

    await flow_client.send_manager_response("confirm")
    results = await flow_client.wait_for_agent_results(["researcher", "policy_analyst"])
    await flow_client.wait_for_completion()

    assert "hate speech" in results[0].content.lower()
    assert "Conclusion:" in results[-1].content
