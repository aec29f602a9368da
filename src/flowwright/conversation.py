"""Conversation: a flow's exchange with the human, as turns, with the questions tests ask of it.

Built from the collector's messages alone (prompts received, replies sent, agent work in
between), so it describes any run — driven by a simulator, by hand, or by a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from flowwright.match import as_regex
from flowwright.message import Message
from flowwright.protocol import Category

__all__ = ["Conversation", "FlowMetrics", "Turn"]

_WORK = (Category.RESULT, Category.CHAT)


@dataclass(frozen=True)
class Turn:
    """One prompt, the human's reply to it, and what the flow did before it asked again."""

    index: int
    prompt: Message
    reply: Message | None  # None: the flow ended (or the run stopped) before a reply
    after: tuple[Message, ...]  # everything after the reply, up to the next prompt

    @property
    def outputs(self) -> list[Message]:
        """The agents' results and chat messages in this turn."""
        return [m for m in self.after if m.category in _WORK and m.role is not None]

    @property
    def answer(self) -> str:
        """The text of this turn's outputs, joined."""
        return "\n".join(m.content for m in self.outputs)

    @property
    def agents(self) -> list[str]:
        """Roles that produced output or started a task in this turn, in order, once each."""
        roles: list[str] = []
        for message in self.after:
            if (
                message.role
                and message.role not in roles
                and (message.category in _WORK or _is_task_start(message))
            ):
                roles.append(message.role)
        return roles


@dataclass(frozen=True)
class FlowMetrics:
    """Timings of one flow run, in seconds (``None`` where the run did not get that far)."""

    time_to_first_prompt: float | None
    total: float | None
    steps: dict[str, float]  # agent id -> duration from its task start to its task complete
    prompts: int

    @classmethod
    def from_messages(cls, messages: Sequence[Message]) -> FlowMetrics:
        """The timings of the first run among ``messages``."""
        start = next((m.time for m in messages if _is_run(m)), None)
        first_prompt = next((m.time for m in messages if m.category == Category.PROMPT), None)
        end = next((m.time for m in messages if m.is_flow_completed), None)
        started: dict[str, float] = {}
        steps: dict[str, float] = {}
        for message in messages:
            task = message.task
            if task is None:
                continue
            if task.status == "started":
                started[task.agent] = message.time
            elif task.agent in started:
                steps[task.agent] = message.time - started.pop(task.agent)
        return cls(
            time_to_first_prompt=_between(start, first_prompt),
            total=_between(start, end),
            steps=steps,
            prompts=sum(1 for m in messages if m.category == Category.PROMPT),
        )


class Conversation:
    """The turns of a run; answers "what was the k-th answer", "did Y run after reply 2"."""

    def __init__(self, messages: Sequence[Message]) -> None:
        self.messages = list(messages)

    @cached_property
    def turns(self) -> list[Turn]:
        """Each prompt with its reply and what followed, in order."""
        turns: list[Turn] = []
        prompt: Message | None = None
        reply: Message | None = None
        after: list[Message] = []
        for message in self.messages:
            if message.category == Category.PROMPT:
                if prompt is not None:
                    turns.append(Turn(len(turns), prompt, reply, tuple(after)))
                prompt, reply, after = message, None, []
            elif prompt is not None and reply is None and _is_reply(message):
                reply = message
            elif prompt is not None and reply is not None:
                after.append(message)
        if prompt is not None:
            turns.append(Turn(len(turns), prompt, reply, tuple(after)))
        return turns

    @property
    def prompts(self) -> list[Message]:
        """The flow's prompts to the human, in order."""
        return [turn.prompt for turn in self.turns]

    @property
    def replies(self) -> list[Message]:
        """The human's replies (``manager_response`` frames sent), in order."""
        return [turn.reply for turn in self.turns if turn.reply is not None]

    @property
    def asked(self) -> int:
        """How many times the flow asked the human."""
        return len(self.turns)

    @property
    def completed(self) -> bool:
        """Whether the flow sent ``flow_completed``."""
        return any(m.is_flow_completed for m in self.messages)

    @property
    def metrics(self) -> FlowMetrics:
        """The run's timings (see :class:`FlowMetrics`)."""
        return FlowMetrics.from_messages(self.messages)

    def answer(self, k: int) -> str:
        """The agents' output in turn ``k`` (0-based: after the ``k``-th reply)."""
        return self.turn(k).answer

    def turn(self, k: int) -> Turn:
        """Turn ``k`` (0-based; negative counts from the end); ``IndexError`` names the count."""
        if not -len(self.turns) <= k < len(self.turns):
            raise IndexError(f"no turn {k}: the flow asked {self.asked} time(s)")
        return self.turns[k]

    def agents_after(self, k: int) -> list[str]:
        """Roles that worked after the ``k``-th reply (0-based), up to the flow's end."""
        return list(dict.fromkeys(role for turn in self.turns[k:] for role in turn.agents))

    def ran_after(self, agent: str, k: int) -> bool:
        """Whether ``agent`` (a role) worked after the ``k``-th reply."""
        return agent in self.agents_after(k)

    def mentions(self, pattern: str) -> list[int]:
        """The turns whose answer matches ``pattern`` (a case-insensitive regex)."""
        regex = as_regex(pattern)
        return [turn.index for turn in self.turns if regex.search(turn.answer)]

    def __str__(self) -> str:
        lines = []
        for turn in self.turns:
            lines.append(f"[{turn.index}] flow: {turn.prompt.content}")
            if turn.reply is not None:
                lines.append(f"    human: {turn.reply.raw}")
            lines += [f"    {m.role}: {m.content[:200]}" for m in turn.outputs]
        return "\n".join(lines)


def _is_run(message: Message) -> bool:
    return message.direction == "sent" and message.type == "run_flow"


def _is_reply(message: Message) -> bool:
    return message.direction == "sent" and message.type == "manager_response"


def _is_task_start(message: Message) -> bool:
    task = message.task
    return task is not None and task.status == "started"


def _between(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else end - start
