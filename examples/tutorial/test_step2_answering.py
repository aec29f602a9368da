"""Step 2: answer as a person would; flowwright maps the words onto the protocol."""

from flowwright import Category, FlowTestClient


async def test_no_rejects_and_no_agent_runs(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "Is this post harassment?")
    await flow_client.wait_for_ui_message(pattern="proceed")
    sent = await flow_client.send_manager_response("No, stop here")
    assert '"selection":"reject"' in sent.raw  # the frame as it went on the wire
    await flow_client.wait_for_completion()
    assert flow_client.collector.filter(category=Category.RESULT) == []


async def test_other_words_change_the_question(flow_client: FlowTestClient):
    await flow_client.start_flow("osb", "What is the spam policy?")
    await flow_client.wait_for_ui_message(pattern="proceed")
    await flow_client.send_manager_response("What about harassment instead?")
    again = await flow_client.wait_for_ui_message(pattern="proceed")  # asked again
    assert "harassment" in again.content

    await flow_client.send_manager_response("Yes, please proceed")
    results = await flow_client.wait_for_agent_results(["researcher"])
    assert "harass" in results[0].content.lower()
