"""Multi-turn conversations with the reference server, driven by the ResponseSimulator."""

from __future__ import annotations

import pytest

from flowwright import Category, FlowTestClient, ResponseSimulator, Turn
from flowwright.protocol import ResearchResult


async def test_follow_up_questions_in_osb(flow_client: FlowTestClient) -> None:
    simulator = ResponseSimulator().script(
        "What about harassment instead?",  # a correction: the host asks again
        "And what about self-harm content?",  # a second follow-up
        "Yes, please proceed",
    )
    talk = await flow_client.converse(simulator, flow="osb", prompt="What is the spam policy?")
    assert talk.completed
    assert talk.asked == 3
    assert "harassment" in talk.prompts[1].content.lower()
    assert "self-harm" in talk.prompts[2].content.lower()
    assert talk.agents_after(0) == ["host", "researcher", "policy_analyst"]
    assert [m.role for m in talk.turn(0).outputs] == ["host"]  # only the acknowledgement
    assert [m.role for m in talk.turn(1).outputs] == ["host"]
    research = talk.turn(2).outputs[0]
    assert research.role == "researcher"
    assert "self-harm" in research.payload(ResearchResult).response.lower()


async def test_no_agent_runs_after_a_reject(flow_client: FlowTestClient) -> None:
    talk = await flow_client.converse(
        ResponseSimulator(default="reject"), flow="osb", prompt="Is this post harassment?"
    )
    assert talk.completed
    assert talk.asked == 1
    assert "researcher" not in talk.agents_after(0)
    assert "policy_analyst" not in talk.agents_after(0)
    assert not flow_client.collector.filter(category=Category.RESULT)


async def test_rejecting_one_step_skips_only_that_step(flow_client: FlowTestClient) -> None:
    simulator = (
        ResponseSimulator(default="confirm").on(
            r"step \d+ of \d+: researcher", "reject"
        )  # the host names the step it asks about
    )
    talk = await flow_client.converse(
        simulator, flow="osb", prompt="What is the hate speech policy?", confirm_each_step=True
    )
    assert talk.completed
    assert talk.asked == 3  # proceed?, then one question per step
    assert "researcher" not in talk.agents_after(0)
    assert talk.ran_after("policy_analyst", 2)
    assert [e.rule for e in simulator.history] == [
        "default",
        r"rule /step \d+ of \d+: researcher/",
        "default",
    ]


async def test_a_free_text_correction_changes_the_question(flow_client: FlowTestClient) -> None:
    simulator = ResponseSimulator().script("Sorry, I meant misinformation.", "confirm")
    talk = await flow_client.converse(simulator, flow="osb", prompt="What is the nudity policy?")
    assert talk.mentions("misinformation") == [0, 1]  # the host's acknowledgement, then the work
    assert [m.role for m in talk.turn(0).outputs] == ["host"]
    assert talk.metrics.prompts == 2


async def test_the_chat_flow_over_ten_turns(flow_client: FlowTestClient) -> None:
    questions = [
        "What about harassment?",
        "And bullying of private individuals?",
        "What does the violent content policy say?",
        "How are dangerous organisations handled?",
        "What counts as health misinformation?",
        "Is adult nudity ever allowed?",
        "What is inauthentic behaviour?",
        "How is self-harm content treated?",
        "What did the board decide about satire?",
    ]
    simulator = ResponseSimulator(default=None).script(*questions, "done")
    talk = await flow_client.converse(
        simulator, flow="chat", prompt="What does the hate speech policy cover?"
    )
    assert talk.completed
    assert talk.asked == 10
    answers = [turn.answer for turn in talk.turns[:-1]]
    assert len(set(answers)) == len(answers)  # every question got its own answer
    assert "harass" in talk.answer(0).lower()
    assert "self-harm" in talk.answer(7).lower() or "suicide" in talk.answer(7).lower()
    assert all(isinstance(turn, Turn) for turn in talk.turns)
    assert simulator.remaining_script == 0


async def test_flow_metrics_are_collected(flow_client: FlowTestClient) -> None:
    await flow_client.converse(ResponseSimulator(), flow="osb", prompt="What is the spam policy?")
    metrics = flow_client.metrics
    assert metrics.prompts == 1
    assert set(metrics.steps) == {"researcher-1", "policy_analyst-1"}
    assert metrics.time_to_first_prompt is not None
    assert metrics.total is not None
    assert 0 < metrics.time_to_first_prompt < metrics.total
    assert all(0 <= duration < metrics.total for duration in metrics.steps.values())


async def test_conversation_index_errors_name_the_count(flow_client: FlowTestClient) -> None:
    talk = await flow_client.converse(ResponseSimulator(), flow="osb", prompt="Spam?")
    with pytest.raises(IndexError, match="no turn 5: the flow asked 1 time"):
        talk.turn(5)
