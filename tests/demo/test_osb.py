"""The osb flow end to end, and every way the human can steer it."""

from __future__ import annotations

from typing import Any

import pytest

from flowwright.protocol import Envelope, ResearchResult, TaskUpdate, text_of
from tests.demo._client import DemoClient, of_type, timeline

QUESTION = "Is hate speech against migrants allowed?"

HAPPY_PATH = [
    "flow_started",
    "joined:researcher",
    "joined:policy_analyst",
    "prompt",
    "progress:waiting",
    "started:researcher",
    "research_result",
    "complete:researcher",
    "started:policy_analyst",
    "chat:policy_analyst",
    "complete:policy_analyst",
    "chat:host",
    "flow_completed",
    "progress:finished",
]


def find(client: DemoClient, name: str) -> Envelope:
    """The first message labelled ``name`` (see ``timeline``)."""
    for message, label in zip(client.messages, timeline(client.messages), strict=True):
        if label == name:
            assert isinstance(message, Envelope)
            return message
    raise AssertionError(f"no {name!r} in {timeline(client.messages)}")


def outputs(message: Envelope) -> dict[str, Any]:
    assert isinstance(message.outputs, dict)
    return message.outputs


async def finish(client: DemoClient) -> None:
    """Wait for the run's last message (the final progress update)."""
    await client.until(of_type("system_update", status="finished"))


async def test_osb_runs_each_agent_in_order_to_flow_completed(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    prompt = await client.prompt()
    assert outputs(prompt)["options"] is True, "a yes/no question: confirm or reject (or halt)"
    assert f"'{QUESTION}'" in outputs(prompt)["content"]
    assert "Shall I proceed?" in outputs(prompt)["content"]
    await client.answer(confirm=True)
    await finish(client)

    assert timeline(client.messages) == HAPPY_PATH
    research = ResearchResult.model_validate(find(client, "research_result").outputs)
    assert research.literature, "the researcher cites documents"
    assert "hate speech" in text_of(find(client, "research_result")).lower()
    assert "hate speech" in text_of(find(client, "chat:policy_analyst")).lower()
    started = TaskUpdate.model_validate(find(client, "started:researcher").outputs)
    assert (started.task_index, started.more_tasks_remain, started.is_error) == (0, True, False)
    last = TaskUpdate.model_validate(find(client, "complete:policy_analyst").outputs)
    assert (last.task_index, last.more_tasks_remain, last.is_error) == (1, False, False)


async def test_every_message_is_a_full_envelope_with_its_sender(client: DemoClient) -> None:
    await client.run_flow("osb", query=QUESTION)  # `query` works like `prompt`
    await client.prompt()
    await client.answer(selection="confirm")
    await finish(client)

    envelopes = [m for m in client.messages if isinstance(m, Envelope)]
    assert len(envelopes) == len(client.messages)
    assert len({m.message_id for m in envelopes}) == len(envelopes)
    assert all(m.timestamp for m in envelopes)
    senders = {(m.agent_info.agent_id, m.agent_info.role) for m in envelopes if m.agent_info}
    assert senders == {
        ("host", "host"),
        ("researcher-1", "researcher"),
        ("policy_analyst-1", "policy_analyst"),
    }
    assert find(client, "prompt").agent_info is not None


@pytest.mark.parametrize(
    "reply",
    [
        {"selection": "reject"},
        {"content": "reject"},
        {},  # confirm defaults to false
        {  # what Buttermilk's UI sends, nulls included
            "confirm": None,
            "halt": None,
            "interrupt": False,
            "content": None,
            "selection": None,
            "human_in_loop": True,
            "params": None,
        },
    ],
)
async def test_reject_ends_the_flow_without_running_agents(
    client: DemoClient, reply: dict[str, Any]
) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    await client.answer(**reply)
    await finish(client)

    events = timeline(client.messages)
    assert events[events.index("progress:waiting") + 1 :] == [
        "chat:host",
        "flow_completed",
        "progress:finished",
    ]
    assert "stopping" in text_of(find(client, "chat:host"))


async def test_free_text_reply_becomes_the_new_question(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    follow_up = "What about harassment of a classmate?"
    await client.answer(content=follow_up)
    prompt = await client.prompt()
    assert f"'{follow_up}'" in outputs(prompt)["content"]
    assert follow_up in text_of(find(client, "chat:host")), "the host acknowledges it"
    await client.answer(confirm=True)
    await finish(client)
    assert "harassment" in text_of(find(client, "research_result")).lower()
    assert timeline(client.messages).count("prompt") == 2


async def test_confirm_each_step_asks_before_every_step_and_reject_skips(
    client: DemoClient,
) -> None:
    await client.run_flow("osb", prompt=QUESTION, confirm_each_step=True)
    await client.prompt()
    await client.answer(confirm=True)
    step = await client.prompt()
    assert "researcher" in outputs(step)["content"]
    assert outputs(step)["options"] is True
    await client.answer(confirm=True)
    step = await client.prompt()
    assert "policy_analyst" in outputs(step)["content"]
    await client.answer(selection="reject")
    await finish(client)

    events = timeline(client.messages)
    assert "complete:researcher" in events
    assert "started:policy_analyst" not in events
    assert any("Skipping policy_analyst" in text_of(m) for m in client.messages)


async def test_interrupt_while_an_agent_works_pauses_at_the_next_step(client: DemoClient) -> None:
    await client.run_flow(
        "osb", prompt=QUESTION, fault={"slow_agent": "researcher", "seconds": 0.5}
    )
    await client.prompt()
    await client.answer(confirm=True)
    await client.until(of_type("system_update", status="started", role="researcher"))
    await client.answer(interrupt=True)
    await client.until(of_type("system_update", status="paused"))
    await client.answer(content="carry on")
    await finish(client)

    events = timeline(client.messages)
    assert events.index("complete:researcher") < events.index("progress:paused")
    assert events.index("progress:paused") < events.index("progress:resumed")
    assert events.index("progress:resumed") < events.index("started:policy_analyst")
    assert events[-2:] == ["flow_completed", "progress:finished"]


async def test_interrupt_at_a_prompt_pauses_then_asks_again(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    await client.answer(interrupt=True)
    await client.until(of_type("system_update", status="paused"))
    await client.answer()  # any manager message resumes; it is not taken as the answer
    prompt = await client.prompt()
    assert f"'{QUESTION}'" in outputs(prompt)["content"]
    await client.answer(confirm=True)
    await finish(client)
    assert "progress:resumed" in timeline(client.messages)
    assert "complete:policy_analyst" in timeline(client.messages)


async def test_halt_at_the_prompt_ends_the_flow(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    await client.answer(halt=True)
    await finish(client)
    events = timeline(client.messages)
    assert events[-3:] == ["flow_halted", "flow_completed", "progress:finished"]
    assert not any(event.startswith("started:") for event in events)


async def test_halt_mid_step_ends_promptly_and_the_session_runs_again(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION, fault={"slow_agent": "researcher", "seconds": 60})
    await client.prompt()
    await client.answer(confirm=True)
    await client.until(of_type("system_update", status="started", role="researcher"))
    await client.answer(halt=True)
    await client.until(of_type("system_update", status="finished"), timeout=3)
    assert "complete:researcher" not in timeline(client.messages)

    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    await client.answer(confirm=True)
    await finish(client)


async def test_record_and_criteria_become_the_question(client: DemoClient) -> None:
    await client.run_flow("osb", record_id="rec-osb-001", criteria="hate speech")
    record = (await client.until(of_type("record")))[-1]
    assert isinstance(record, Envelope)
    assert outputs(record)["record_id"] == "rec-osb-001"
    assert outputs(record)["name"] == outputs(record)["metadata"]["title"] == "Veldorian neighbours"
    assert "vermin" in outputs(record)["text"]
    assert outputs(record)["content"] == outputs(record)["text"]
    prompt = await client.prompt()
    assert "Does this post violate hate speech? Post: Veldorians are vermin" in text_of(prompt)
    await client.answer(confirm=True)
    await finish(client)
    analysis = text_of(find(client, "chat:policy_analyst"))
    assert "Conclusion: violates Hate Speech" in analysis


async def test_a_benign_record_is_judged_not_violating(client: DemoClient) -> None:
    await client.run_flow("osb", record_id="rec-osb-002")
    prompt = await client.prompt()
    assert "Does this post violate the community standards?" in text_of(prompt)
    await client.answer(confirm=True)
    await finish(client)
    assert "Conclusion: does not violate" in text_of(find(client, "chat:policy_analyst"))


async def test_halt_right_after_run_flow_is_not_lost(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.answer(halt=True)
    await finish(client)  # without the halt, the flow would wait at its prompt
    events = timeline(client.messages)
    assert events[0] == "flow_started"
    assert events[-3:] == ["flow_halted", "flow_completed", "progress:finished"]
