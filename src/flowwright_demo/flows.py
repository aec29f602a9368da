"""The flow logic, one coroutine per ``kind`` a flow's YAML may name.

``pipeline`` (the osb flow): the host asks once, then runs the agents in order and sums up.
``chat``: one agent answers turn after turn until the human says done. Both speak to the
human and run agents only through the :class:`~flowwright_demo.run.FlowRun` they are given.
A run started with no question (Buttermilk's UI sends none) asks for it first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flowwright.protocol import ManagerResponse, UIPrompt
from flowwright_demo.agents import Task
from flowwright_demo.llm import ChatTurn
from flowwright_demo.run import Flow, FlowRun

__all__ = ["CONFIRM_OPTIONS", "DONE_WORDS", "FLOWS", "Unclear", "chat", "decide", "pipeline"]

CONFIRM_OPTIONS = ("confirm", "reject")
"""What a yes/no prompt offers. It is sent as ``options: true``: Buttermilk's UI then shows
Confirm, Reject *and Halt* (for a list it draws one button per item, and no Halt)."""
DONE_WORDS = frozenset({"done", "bye", "exit"})
"""Replies that end a chat flow."""


@dataclass(frozen=True, slots=True)
class Unclear:
    """A reply at a confirm prompt that is neither an answer nor a question: a ``selection``
    that is not one of the options."""

    selection: str


def decide(reply: ManagerResponse) -> bool | str | Unclear:
    """A reply at a confirm prompt: True (go), False (stop), a new question (free text), or
    :class:`Unclear`.

    A ``selection`` decides, whatever ``confirm`` says (Buttermilk's UI sends
    ``confirm: true`` with every option button, "reject" included). Without one, ``confirm``
    defaults to false, so a reply is a rejection unless it confirms — except that other
    non-empty text is a correction or follow-up, which is taken as the new question.
    """
    if reply.selection:
        choice = reply.selection.strip().lower()
        if choice in CONFIRM_OPTIONS:
            return choice == "confirm"
        return Unclear(reply.selection)
    text = (reply.content or "").strip()
    if reply.confirm or text.lower() == "confirm":
        return True
    if not text or text.lower() == "reject":
        return False
    return text


async def _agree(run: FlowRun, question: str, render: Callable[[str], str]) -> str | None:
    """Ask until the human confirms (returns the question, perhaps corrected) or rejects."""
    while True:
        reply = await run.ask(UIPrompt(content=render(question), options=True))
        decision = decide(reply)
        if decision is True:
            return question
        if decision is False:
            return None
        if isinstance(decision, Unclear):
            await run.say(
                f"'{decision.selection}' is not one of the options here: confirm, reject, or "
                "type a new question."
            )
            continue
        question = decision
        await run.say(f"Understood: the question is now '{question}'.")


async def _ask_text(run: FlowRun, prompt: str, expected: str) -> str:
    """Ask a free-text question until the answer has text.

    A reply without text (Buttermilk's UI sends ``confirm: true, content: null`` from its
    Confirm button at any prompt) is not an answer: the host says what is expected, then
    asks again. Halt still ends the flow.
    """
    while True:
        reply = await run.ask(UIPrompt(content=prompt))
        text = (reply.content or "").strip()
        if text:
            return text
        await run.say(f"{expected} (Halt stops the flow.)")


async def _question(run: FlowRun, prompt: str) -> str:
    """The run's question: the one it was started with, else asked for at the first prompt."""
    if run.question is None:
        run.question = await _ask_text(
            run, prompt, "I need a question first: type it in the message box and send it."
        )
    return run.question


async def pipeline(run: FlowRun) -> None:
    """Confirm once (or before every step), run each agent in order, then summarise."""
    names = " and ".join(agent.role for agent in run.agents)
    asked = await _question(run, f"What should {names} research? Type your question.")
    agreed = await _agree(
        run,
        asked,
        lambda q: (
            f"I will research: '{q}' with {names}. Shall I proceed? "
            "Confirm to start, reject to stop."
        ),
    )
    if agreed is None:
        await run.say("Understood: stopping here, no agent was run.")
        return
    question = agreed
    findings: dict[str, str] = {}
    total = len(run.agents)
    for index, agent in enumerate(run.agents):
        await run.checkpoint()
        if run.options.confirm_each_step:
            step = f"Step {index + 1} of {total}: {agent.role} ({agent.info.description})"

            def render(q: str, step: str = step) -> str:
                return f"{step} on '{q}'. Shall I proceed? Confirm to run it, reject to skip it."

            step_question = await _agree(run, question, render)
            if step_question is None:
                await run.say(f"Skipping {agent.role}.")
                continue
            question = step_question
        output = await run.run_step(
            agent,
            Task(question, run.post, dict(findings)),
            index=index,
            more_tasks_remain=index < total - 1,
        )
        findings[agent.role] = output.text if output else f"{agent.role} failed; no result."
    await run.checkpoint()
    summary = await run.host.run(Task(question, run.post, findings))
    await run.send(summary.message)


async def chat(run: FlowRun) -> None:
    """Answer the prompt, then each free-text reply, until done/bye/exit or ``max_turns``."""
    (agent,) = run.agents
    max_turns = run.options.max_turns
    history: list[ChatTurn] = []
    text = await _question(run, "What would you like to ask? Type your question.")
    turn = 0
    while True:
        await run.checkpoint()
        history.append({"role": "user", "content": text})
        output = await run.run_step(
            agent,
            Task(text, run.post, history=tuple(history)),
            index=turn,
            more_tasks_remain=max_turns is None or turn + 1 < max_turns,
        )
        if output is not None:
            history.append({"role": "assistant", "content": output.text})
        turn += 1
        if max_turns is not None and turn >= max_turns:
            await run.say(f"That was the last turn (max_turns: {max_turns}). Goodbye.")
            return
        text = await _ask_text(
            run,
            "Anything else? Reply 'done' to finish.",
            "Type your next question and send it, or reply 'done' to finish.",
        )
        if text.lower() in DONE_WORDS:
            await run.say("Goodbye.")
            return


FLOWS: Mapping[str, Flow] = MappingProxyType({"pipeline": pipeline, "chat": chat})
"""The logic behind each ``kind`` in ``conf/flows/*.yaml`` (read-only: a server process serves
many sessions, and none may change what another runs)."""
