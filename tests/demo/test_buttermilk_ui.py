"""Buttermilk's own web UI can drive every flow: the frames it sends, and what it reads.

Every frame sent here is built exactly as Buttermilk's SvelteKit chat UI builds it (public
source, ``qut-dmrc/buttermilk``, folder ``buttermilk/frontend/chat/src``; read at the file
versions named below, which agree on all of this):

- ``lib/utils/messageUtils.ts`` (17fd6e1c), ``createManagerResponse(confirm, selection,
  prompt, halt, interrupt, human_in_loop)``: every reply it sends, nulls included;
- ``lib/ChatTerminal.svelte`` (00288b43, deeeeb0c): ``sendRunFlowRequest`` (run_flow),
  ``handleSelection`` (a button per option), ``handleConfirm`` (Confirm/Reject),
  ``handleHalt``, ``sendMessage`` (the text box), ``toggleInterrupt`` (Interrupt/Resume),
  ``sendPullTaskRequest``/``sendPullToxRequest``. It draws one button per option for a list
  of ``options`` and Confirm/Reject/Halt otherwise; it puts every ``system_update`` in its
  status header (``step_name``, the keys of ``waiting_on``), never in the message list.

What it reads, checked below: ``components/messages/RecordMessage.svelte`` (340b3601:
``outputs.content``, ``outputs.metadata.title``), ``ResearcherMessage.svelte`` (340b3601:
``outputs.summary``, ``literature[].citation``), ``BasicMessage.svelte`` (30caa68b:
``preview``, else ``JSON.stringify(outputs.content)``; ``agent_info.parameters.model``),
``messageUtils.ts`` (``agent_info.parameters.model`` and ``.role`` for its tags).

The numbers in the test names are the cases of issue 11.
"""

from __future__ import annotations

from typing import Any

import pytest

from flowwright.protocol import Envelope, text_of
from tests.demo._client import DemoClient, Message, of_type, timeline

QUESTION = "Is hate speech against migrants allowed?"
AGENT_EVENTS = ("started:", "complete:", "research_result", "chat:researcher", "chat:policy_")


# ---------------------------------------------------------------------- the UI's frames


def manager_response(
    confirm: bool | None,
    selection: str | None = None,
    prompt: str | None = None,
    halt: bool | None = False,
    interrupt: bool | None = False,
    human_in_loop: bool | None = True,
) -> dict[str, Any]:
    """``createManagerResponse`` (messageUtils.ts), argument for argument."""
    return {
        "type": "manager_response",
        "confirm": confirm,
        "halt": halt,
        "interrupt": interrupt,
        "content": prompt or None,
        "selection": selection or None,
        "human_in_loop": human_in_loop,
    }


def run_flow(flow: str, record: str, criteria: str) -> dict[str, Any]:
    """``sendRunFlowRequest(flow, record, criteria)``: "" when nothing is picked."""
    return {"type": "run_flow", "flow": flow, "record_id": record, "criteria": criteria or ""}


def select(option: str) -> dict[str, Any]:
    """``handleSelection(option)``: a button of a prompt whose ``options`` is a list."""
    return manager_response(True, option, None, None, False)


CONFIRM = manager_response(True, None, None, None, False)  # handleConfirm(true)
REJECT = manager_response(False, None, None, None, False)  # handleConfirm(false)
HALT = manager_response(False, None, None, True, None)  # handleHalt()


def submit(text: str) -> dict[str, Any]:
    """``sendMessage()``: the text box and its Submit button."""
    return manager_response(False, None, text, False, False)


# toggleInterrupt(): the reply first, then the bookkeeping frame
INTERRUPT = [
    manager_response(False, None, None, None, True),
    {"type": "TaskProcessingStarted", "role": "MANAGER", "agent_id": "web socket"},
]
RESUME = [
    manager_response(False, None, None, None, False),
    {"type": "TaskProcessingComplete", "role": "MANAGER", "agent_id": "web socket"},
]
PULL_TASK = {"type": "pull_task"}  # sendPullTaskRequest()
PULL_TOX = {"type": "pull_tox"}  # sendPullToxRequest()


async def send_all(client: DemoClient, frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        await client.send(frame)


# ---------------------------------------------------------------------- reading the stream


def outputs(message: Message) -> dict[str, Any]:
    assert isinstance(message, Envelope)
    assert isinstance(message.outputs, dict)
    return message.outputs


def errors(client: DemoClient) -> list[str]:
    return [text_of(m) for m in client.messages if of_type("system_error")(m)]


def agents_ran(client: DemoClient) -> list[str]:
    return [e for e in timeline(client.messages) if e.startswith(AGENT_EVENTS)]


async def finish(client: DemoClient) -> list[Message]:
    """Everything up to the run's last message: the final progress update."""
    return await client.until(of_type("system_update", status="finished"))


def of(client: DemoClient, type_: str) -> list[Envelope]:
    return [m for m in client.messages if isinstance(m, Envelope) and m.type == type_]


# ---------------------------------------------------------------------- the cases


async def test_1_a_run_without_record_or_question_asks_for_the_question(
    client: DemoClient,
) -> None:
    await client.send(run_flow("osb", "", ""))  # no record picked, no criterion
    first = await client.prompt()
    assert "options" not in outputs(first), "a free-text prompt: the question is typed"
    assert "research" in outputs(first)["content"]
    await client.send(submit(QUESTION))
    confirm = await client.prompt()
    assert f"'{QUESTION}'" in outputs(confirm)["content"]
    await client.send(CONFIRM)
    await finish(client)

    assert errors(client) == []
    assert "complete:policy_analyst" in timeline(client.messages)
    assert "hate speech" in text_of(of(client, "research_result")[0]).lower()


@pytest.mark.parametrize(
    "reject",
    [select("reject"), REJECT],
    ids=["option button (confirm true, selection reject)", "Reject button (confirm false)"],
)
async def test_2_reject_stops_before_any_agent_runs(
    client: DemoClient, reject: dict[str, Any]
) -> None:
    await client.send(run_flow("osb", "rec-osb-001", "hate speech"))
    await client.prompt()
    await client.send(reject)
    await finish(client)

    assert agents_ran(client) == []
    assert "stopping" in text_of(of(client, "chat_message")[-1])
    assert errors(client) == []


async def test_2_an_option_button_is_that_choice(client: DemoClient) -> None:
    await client.send(run_flow("osb", "rec-osb-001", ""))
    await client.prompt()
    await client.send(select("confirm"))
    await finish(client)
    assert "complete:policy_analyst" in timeline(client.messages)
    assert errors(client) == []


async def test_2_an_option_the_prompt_did_not_offer_is_asked_again(client: DemoClient) -> None:
    await client.send(run_flow("osb", "rec-osb-001", ""))
    await client.prompt()
    await client.send(select("maybe"))
    again = await client.prompt()
    said = text_of(of(client, "chat_message")[-1])
    assert "'maybe' is not one of the options" in said
    assert outputs(again)["options"] is True
    await client.send(HALT)
    await finish(client)
    assert agents_ran(client) == []
    assert errors(client) == []


async def test_3_confirm_at_a_free_text_prompt_is_asked_again_saying_what_is_expected(
    client: DemoClient,
) -> None:
    await client.send(run_flow("osb", "", ""))
    first = await client.prompt()
    await client.send(CONFIRM)  # confirm: true, content: null
    again = await client.prompt()
    said = text_of(of(client, "chat_message")[-1])
    assert "type it in the message box" in said, "the host says what is expected"
    assert outputs(again)["content"] == outputs(first)["content"]
    await client.send(REJECT)  # Reject has no text either: the same answer, not a loop
    await client.prompt()
    await client.send(submit(QUESTION))
    await client.prompt()
    await client.send(CONFIRM)
    await finish(client)
    assert timeline(client.messages).count("prompt") == 4
    assert errors(client) == []


async def test_3_confirm_at_a_chat_prompt_is_asked_again_saying_what_is_expected(
    client: DemoClient,
) -> None:
    await client.send(run_flow("chat", "", ""))
    await client.prompt()
    await client.send(submit("What counts as hate speech?"))
    await client.prompt()  # "Anything else?"
    await client.send(CONFIRM)
    await client.prompt()
    assert "reply 'done' to finish" in text_of(of(client, "chat_message")[-1])
    await client.send(submit("done"))
    await finish(client)
    assert timeline(client.messages).count("started:assistant") == 1
    assert errors(client) == []


async def test_4_interrupt_at_a_prompt_pauses_and_resume_asks_again(client: DemoClient) -> None:
    await client.send(run_flow("osb", "rec-osb-001", "hate speech"))
    asked = await client.prompt()
    await send_all(client, INTERRUPT)
    paused = (await client.until(of_type("system_update", status="paused")))[-1]
    assert outputs(paused)["waiting_on"] == {"manager": "resume"}
    await send_all(client, RESUME)
    again = await client.prompt()
    assert outputs(again)["content"] == outputs(asked)["content"]
    await client.send(CONFIRM)
    await finish(client)

    events = timeline(client.messages)
    assert events.index("progress:paused") < events.index("progress:resumed")
    assert "complete:policy_analyst" in events
    assert errors(client) == [], "TaskProcessingStarted/Complete are not errors"


async def test_4_interrupt_while_an_agent_works_pauses_at_the_next_step(
    client: DemoClient,
) -> None:
    slow = {"slow_agent": "researcher", "seconds": 0.5}
    await client.send({**run_flow("osb", "rec-osb-001", ""), "fault": slow})
    await client.prompt()
    await client.send(CONFIRM)
    await client.until(of_type("system_update", status="started", role="researcher"))
    await send_all(client, INTERRUPT)
    await client.until(of_type("system_update", status="paused"))
    held = len(client.messages)
    await client.send(PULL_TASK)  # a round trip: what else came while paused?
    await client.until(of_type("system_message", source="server"))
    assert [e for e in timeline(client.messages[held:]) if e.startswith("started:")] == []
    await send_all(client, RESUME)
    await finish(client)

    events = timeline(client.messages)
    assert events.index("complete:researcher") < events.index("progress:paused")
    assert events.index("progress:resumed") < events.index("started:policy_analyst")
    assert errors(client) == []


async def test_4_resume_before_the_step_ends_withdraws_the_interrupt(client: DemoClient) -> None:
    slow = {"slow_agent": "researcher", "seconds": 2}
    await client.send({**run_flow("osb", "rec-osb-001", ""), "fault": slow})
    await client.prompt()
    await client.send(CONFIRM)
    await client.until(of_type("system_update", status="started", role="researcher"))
    await send_all(client, [*INTERRUPT, *RESUME])  # both within the 2 s step
    await finish(client)
    assert "progress:paused" not in timeline(client.messages)
    assert "complete:policy_analyst" in timeline(client.messages)
    assert errors(client) == []


async def test_4_ui_bookkeeping_frames_are_never_errors(client: DemoClient) -> None:
    for frame in [*INTERRUPT[1:], *RESUME[1:], PULL_TASK, PULL_TOX]:  # no flow is running
        await client.send(frame)
    notes = [(await client.until(of_type("system_message", source="server")))[-1] for _ in range(2)]
    assert [outputs(note)["content"].split()[0] for note in notes] == ["pull_task", "pull_tox"]
    assert all("not supported" in outputs(note)["content"] for note in notes)
    assert errors(client) == []
    await client.send(run_flow("osb", "rec-osb-002", ""))  # the session is fine
    await client.prompt()
    await client.send(CONFIRM)
    await finish(client)
    assert errors(client) == []


async def test_5_a_record_run_completes_with_the_record_title_and_content(
    client: DemoClient,
) -> None:
    await client.send(run_flow("osb", "rec-osb-001", "hate speech"))
    record = (await client.until(of_type("record")))[-1]
    assert outputs(record)["metadata"]["title"] == "Veldorian neighbours"
    assert outputs(record)["content"].startswith("Veldorians are vermin.")
    assert "Veldorians are vermin" in text_of(await client.prompt())
    await client.send(CONFIRM)
    await finish(client)
    assert "Conclusion: violates Hate Speech" in text_of(of(client, "chat_message")[-2])
    assert errors(client) == []


async def test_6_literature_items_have_a_citation(client: DemoClient) -> None:
    await client.send(run_flow("osb", "", ""))
    await client.prompt()
    await client.send(submit(QUESTION))
    await client.prompt()
    await client.send(CONFIRM)
    await finish(client)

    (research,) = of(client, "research_result")
    literature = outputs(research)["literature"]
    assert literature
    for item in literature:
        assert item["citation"] == item["source"]  # source kept for flowwright's own UI
        assert item["summary"]
    assert outputs(research)["summary"] == outputs(research)["response"]


async def test_7_every_message_the_ui_lists_has_its_display_text_as_preview(
    client: DemoClient,
) -> None:
    await client.send(run_flow("osb", "rec-osb-001", ""))
    await client.prompt()
    await client.send(select("nonsense"))  # a host chat_message too
    await client.prompt()
    await client.send(CONFIRM)
    await finish(client)
    await client.send(manager_response(True))  # a refusal: no flow is running
    await client.error()

    listed = [m for m in client.messages if isinstance(m, Envelope)]
    listed = [m for m in listed if m.type != "system_update"]
    assert {m.type for m in listed} >= {
        "system_message",
        "record",
        "ui_message",
        "chat_message",
        "research_result",
        "system_error",
    }
    for message in listed:
        assert message.preview, message
        assert message.preview == text_of(message)


async def test_8_the_flow_ends_with_the_progress_update_the_ui_shows(client: DemoClient) -> None:
    await client.send(run_flow("osb", "rec-osb-002", ""))
    await client.prompt()
    await client.send(CONFIRM)
    last = (await finish(client))[-1]

    assert client.messages[-1] is last
    assert outputs(last)["step_name"] == "END"
    assert outputs(last)["waiting_on"] == {}
    assert outputs(last)["status"] == "finished"
    assert timeline(client.messages)[-2:] == ["flow_completed", "progress:finished"]


async def test_9_status_updates_carry_step_name_and_agents_their_tags(
    client: DemoClient,
) -> None:
    await client.send(run_flow("osb", "rec-osb-001", ""))
    await client.prompt()
    await client.send(CONFIRM)
    await finish(client)

    updates = of(client, "system_update")
    assert all(outputs(u).get("step_name") for u in updates)
    tasks = {outputs(u)["step_name"] for u in updates if "agent_id" in outputs(u)}
    assert tasks == {"researcher", "policy_analyst"}
    waiting = [outputs(u) for u in updates if outputs(u)["status"] == "waiting"]
    assert waiting == [
        {"source": "orchestrator", "step_name": "manager", "status": "waiting",
         "waiting_on": {"manager": "answer"}}
    ]  # fmt: skip
    senders = [m.agent_info for m in client.messages if isinstance(m, Envelope) and m.agent_info]
    assert senders
    for info in senders:
        assert info.role
        assert info.parameters == {"model": "deterministic", "role": info.role}


async def test_10_halt_is_offered_and_ends_osb_cleanly(client: DemoClient) -> None:
    await client.send(run_flow("osb", "rec-osb-001", "hate speech"))
    prompt = await client.prompt()
    # options: true, not a list: the UI then shows Confirm, Reject and Halt
    assert outputs(prompt)["options"] is True
    await client.send(HALT)
    await finish(client)

    events = timeline(client.messages)
    assert events[-3:] == ["flow_halted", "flow_completed", "progress:finished"]
    assert agents_ran(client) == []
    assert errors(client) == []
    await client.send(run_flow("osb", "rec-osb-002", ""))  # the session runs again
    await client.prompt()
    await client.send(CONFIRM)
    await finish(client)
    assert errors(client) == []


async def test_10_halt_mid_step_ends_osb_cleanly(client: DemoClient) -> None:
    slow = {"slow_agent": "researcher", "seconds": 60}
    await client.send({**run_flow("osb", "rec-osb-001", ""), "fault": slow})
    await client.prompt()
    await client.send(CONFIRM)
    await client.until(of_type("system_update", status="started", role="researcher"))
    await client.send(HALT)
    await finish(client)
    events = timeline(client.messages)
    assert events[-3:] == ["flow_halted", "flow_completed", "progress:finished"]
    assert "complete:researcher" not in events
    assert errors(client) == []
