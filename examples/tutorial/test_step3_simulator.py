"""Step 3: let a simulated human answer the prompts — by rules, or by a script."""

from flowwright import FlowTestClient, ResponseSimulator


async def test_rules_answer_matching_prompts(flow_client: FlowTestClient):
    simulator = ResponseSimulator(default=None).on("proceed", "Yes, please proceed")
    async with simulator.attached(flow_client):
        await flow_client.start_flow("osb", "Is satire hate speech?")
        await flow_client.wait_for_completion()
    (exchange,) = simulator.history
    assert exchange.reply.confirm
    assert exchange.rule == "rule /proceed/"


async def test_a_script_answers_successive_prompts(flow_client: FlowTestClient):
    simulator = ResponseSimulator().script("What about harassment?", "done")
    async with simulator.attached(flow_client):
        await flow_client.start_flow("chat", "What does the hate speech policy cover?")
        await flow_client.wait_for_completion()
    assert [exchange.reply.content for exchange in simulator.history] == [
        "What about harassment?",
        "done",
    ]
