"""ResponseSimulator: reading replies as a person means them, rules, scripts, auto-answering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowwright import FlowTestClient, FlowwrightError, MessageCollector, Reply, ResponseSimulator
from flowwright.message import Message
from flowwright.simulator import interpret_reply
from tests.framework.scripted import ScriptedServer, completed, prompt


def a_prompt(text: str = "Shall I proceed?", options: list[str] | None = None) -> Message:
    return MessageCollector().append(prompt(text, options))


def free_text_prompt(text: str = "Anything else?") -> Message:
    return MessageCollector().append(
        json.dumps({"type": "ui_message", "outputs": {"content": text}})
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Yes, please proceed", Reply(content="Yes, please proceed", confirm=True)),
        ("ok", Reply(content="ok", confirm=True)),
        ("confirm", Reply(content="confirm", confirm=True, selection="confirm")),
        ("Reject", Reply(content="Reject", selection="reject")),
        ("No, stop here", Reply(content="No, stop here", selection="reject")),
        ("halt", Reply(content="halt", halt=True)),
        ("interrupt", Reply(content="interrupt", interrupt=True)),
        ("What about satire?", Reply(content="What about satire?")),
        ("Nothing about 'yes' at the start", Reply(content="Nothing about 'yes' at the start")),
    ],
)
def test_interpret_reply_at_a_confirm_prompt(reply: str, expected: Reply) -> None:
    assert interpret_reply(reply, a_prompt()) == expected


def test_options_of_the_prompt_are_selections_and_free_text_prompts_never_reject() -> None:
    choose = a_prompt("Which agent?", ["researcher", "policy_analyst"])
    assert interpret_reply("Policy_Analyst", choose) == Reply(
        content="Policy_Analyst", selection="policy_analyst"
    )
    assert interpret_reply("no", free_text_prompt()) == Reply(content="no")


def test_script_then_rules_then_default() -> None:
    simulator = (
        ResponseSimulator(default="reject")
        .on("proceed", "yes", times=1)
        .on("summar", lambda p: Reply(content=f"seen #{p.seq}", confirm=True))
        .script(("anything else", "What about satire?"), "done")
    )
    answers = [
        simulator.respond(a_prompt("Shall I proceed?")),  # script step 0 waits for its prompt
        simulator.respond(a_prompt("Shall I proceed?")),  # rule used up -> default
        simulator.respond(a_prompt("Anything else?")),  # script step 0
        simulator.respond(a_prompt("Summarise?")),  # script step 1: no pattern, any prompt
        simulator.respond(a_prompt("Summarise?")),  # callable rule
    ]
    assert [a.confirm for a in answers] == [True, False, False, False, True]
    assert answers[1].selection == "reject"
    assert answers[2].content == "What about satire?"
    assert answers[3].content == "done"
    assert answers[4].content == "seen #1"
    assert [e.rule for e in simulator.history] == [
        "rule /proceed/",
        "default",
        "script[0]",
        "script[1]",
        "rule /summar/",
    ]
    assert simulator.remaining_script == 0


def test_no_rule_and_no_default_is_an_error_naming_the_prompt() -> None:
    with pytest.raises(FlowwrightError, match="no reply for prompt #1 'Shall I proceed"):
        ResponseSimulator(default=None).respond(a_prompt())


async def test_attached_simulator_answers_every_prompt(scripted: ScriptedServer) -> None:
    turns = iter(["Anything else?", "Anything more?"])

    def handler(message: dict[str, Any]) -> list[str]:
        if message["type"] == "run_flow":
            return [prompt("Shall I proceed?")]
        nxt = next(turns, None)
        return [prompt(nxt, ["confirm", "reject"])] if nxt else [completed()]

    scripted.handler = handler
    simulator = ResponseSimulator().script("Yes, please proceed", "What about satire?", "no")
    async with FlowTestClient.create(scripted.url) as client, simulator.attached(client):
        await client.start_flow("osb", "q")
        await client.wait_for_completion(since=0, timeout=5)
    replies = [m for m in scripted.received if m["type"] == "manager_response"]
    assert [(r["confirm"], r["content"], r.get("selection")) for r in replies] == [
        (True, "Yes, please proceed", None),
        (False, "What about satire?", None),
        (False, "no", "reject"),
    ]
    assert [e.prompt.content for e in simulator.history] == [
        "Shall I proceed?",
        "Anything else?",
        "Anything more?",
    ]
