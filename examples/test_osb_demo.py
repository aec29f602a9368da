"""A tour of flowwright against the embedded reference server: one behaviour per test."""

import httpx
import pytest

from flowwright import Category, FlowServer, FlowTestClient, ProtocolError, ResponseSimulator


async def test_reject_ends_the_flow_without_running_agents(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "Is this post harassment?")
    await flow_client.wait_for_ui_message(pattern="proceed")
    await flow_client.send_manager_response("No, stop here")
    await flow_client.wait_for_completion()
    assert not flow_client.collector.filter(category=Category.RESULT)


async def test_a_free_text_reply_becomes_the_new_question(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "What is the hate speech policy?")
    await flow_client.wait_for_ui_message(pattern="proceed")
    await flow_client.send_manager_response("Actually, what about harassment?")
    second = await flow_client.wait_for_ui_message(pattern="proceed")
    assert "harassment" in second.content


async def test_assess_a_record_with_a_simulated_manager(
    flow_server: FlowServer, flow_client: FlowTestClient, response_simulator: ResponseSimulator
):
    async with httpx.AsyncClient(base_url=flow_server.base_url) as http:
        records = await http.get("/api/flows/osb/datasets/osb-sample/records")
    record_id = records.json()[0]["record_id"]
    async with response_simulator.attached(flow_client):
        await flow_client.start_flow("osb", record_id=record_id, criteria="hate speech")
        results = await flow_client.wait_for_agent_results(["researcher", "policy_analyst"])
        await flow_client.wait_for_completion()
    assert "Conclusion:" in results[-1].content
    assert response_simulator.history[0].reply.confirm


async def test_a_chat_over_several_turns(flow_client: FlowTestClient):
    simulator = ResponseSimulator().script("What about harassment?", "And self-harm?", "done")
    async with simulator.attached(flow_client):
        await flow_client.start_flow("chat", "What does the hate speech policy cover?")
        await flow_client.wait_for_completion()
    answers = flow_client.collector.filter(agent="assistant", category=Category.CHAT)
    assert len(answers) == 3
    assert "harassment" in answers[1].content.lower()


async def test_an_unknown_flow_fails_at_once_naming_the_flows(flow_client: FlowTestClient):
    with pytest.raises(ProtocolError, match=r"no flow 'no-such-flow': .* lists \['chat', 'osb'\]"):
        await flow_client.start_flow("no-such-flow", "hello")
