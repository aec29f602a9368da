"""Step 4: a whole conversation in one call, then questions about its turns."""

from flowwright import FlowTestClient, ResponseSimulator


async def test_a_correction_then_a_confirmation(flow_client: FlowTestClient):
    simulator = ResponseSimulator().script("What about harassment instead?", "Yes, please proceed")
    talk = await flow_client.converse(simulator, flow="osb", prompt="What is the spam policy?")

    assert talk.completed
    assert talk.asked == 2  # the correction, then the confirmation
    assert "harassment" in talk.prompts[1].content  # the correction became the question
    assert talk.turn(0).agents == ["host"]  # only the host spoke before asking again
    assert talk.ran_after("researcher", 1)  # the agents ran after the 2nd reply
    assert "Conclusion:" in talk.answer(1)


async def test_the_kth_answer_of_a_chat(flow_client: FlowTestClient):
    simulator = ResponseSimulator().script("What about harassment?", "And self-harm?", "done")
    talk = await flow_client.converse(simulator, flow="chat", prompt="What is hate speech?")

    assert talk.asked == 3  # "Anything else?" after each answer
    assert "harass" in talk.answer(0).lower()  # the answer after the 1st reply
    assert "self-harm" in talk.answer(1).lower()
    assert talk.mentions("harass")[0] == 0
