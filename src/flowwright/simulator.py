"""ResponseSimulator: plays the human ("the manager") who answers the flow's prompts.

Replies can be written as a person would ("Yes, please proceed", "no", "What about satire?");
:func:`interpret_reply` turns them into the protocol's ``confirm`` / ``selection`` / ``content``
in one place, for the simulator and for :meth:`FlowTestClient.send_manager_response` alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

from flowwright.errors import NoReplyError, WaitAbortedError
from flowwright.match import Match, as_regex
from flowwright.message import Message
from flowwright.protocol import Category, ManagerResponse

if TYPE_CHECKING:
    from flowwright.waiter import FlowEventWaiter

__all__ = [
    "Answerable",
    "Exchange",
    "Reply",
    "Responder",
    "ResponseSimulator",
    "interpret_reply",
]

_AFFIRMATIVE = re.compile(
    r"^(yes|y|yeah|yep|sure|ok|okay|confirm(ed)?|proceed|go ahead|approved?|accept|continue"
    r"|do it|sounds good|please proceed|please continue)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"^(no|n|nope|reject(ed)?|decline|cancel|don'?t|do not|deny|skip)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Reply:
    """What the manager means, before it becomes a ``manager_response`` frame."""

    content: str | None = None
    confirm: bool = False
    selection: str | None = None
    halt: bool = False
    interrupt: bool = False
    params: dict[str, Any] | None = None

    def to_message(self) -> ManagerResponse:
        """The ``manager_response`` frame this reply is sent as."""
        return ManagerResponse(
            confirm=self.confirm,
            halt=self.halt,
            interrupt=self.interrupt,
            content=self.content,
            selection=self.selection,
            params=self.params,
        )

    def __str__(self) -> str:
        flags = [name for name in ("confirm", "halt", "interrupt") if getattr(self, name)]
        if self.selection:
            flags.append(f"selection={self.selection!r}")
        text = f" {self.content!r}" if self.content else ""
        return (" ".join(flags) or "no-confirm") + text


def interpret_reply(text: str, prompt: Message | None = None) -> Reply:
    """Map a human reply onto the protocol, in the context of the prompt it answers.

    An option of the prompt (``"confirm"``, ``"reject"``, or any listed one) is a selection;
    ``"halt"`` / ``"interrupt"`` are those controls; an affirmative sentence confirms; a
    negative one rejects (``selection="reject"`` where the prompt offers it); anything else is
    free text, which a confirm prompt takes as a correction or follow-up.
    """
    stripped = text.strip()
    word = stripped.lower()
    options = prompt.options if prompt is not None else None
    offers_reject = prompt is None or (options is not None and "reject" in options)
    for option in options or ():
        if word == option.lower():
            return Reply(content=stripped, confirm=word == "confirm", selection=option)
    if word in ("halt", "stop the flow"):
        return Reply(content=stripped, halt=True)
    if word in ("interrupt", "pause"):
        return Reply(content=stripped, interrupt=True)
    if _AFFIRMATIVE.match(word):
        return Reply(content=stripped, confirm=True)
    if _NEGATIVE.match(word):
        return Reply(content=stripped, selection="reject" if offers_reject else None)
    return Reply(content=stripped)


class Answerable(Protocol):
    """What the simulator needs of a client: its prompts and a way to reply
    (:class:`~flowwright.client.FlowTestClient` is one)."""

    @property
    def last_action_seq(self) -> int: ...

    @property
    def waiter(self) -> FlowEventWaiter: ...

    async def wait_for(
        self,
        matcher: Callable[[Message], bool],
        *,
        since: int,
        timeout: float | None,
        description: str,
        fail_on_error: bool,
    ) -> Message: ...

    async def send_manager_response(self, reply: Reply) -> Message: ...


Responder = str | Reply | Callable[[Message], "str | Reply"]
"""A reply as text, as a :class:`Reply`, or computed from the prompt."""


@dataclass
class _Rule:
    pattern: re.Pattern[str] | None  # None: matches every prompt
    responder: Responder
    times: int | None = None  # None: unlimited
    used: int = 0

    def accepts(self, prompt: Message) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        return self.pattern is None or bool(self.pattern.search(prompt.content))


@dataclass(frozen=True)
class Exchange:
    """One prompt and the reply the simulator gave to it."""

    prompt: Message
    reply: Reply
    rule: str  # which rule answered: "script[0]", "rule /proceed/", "default"


@dataclass
class ResponseSimulator:
    """Answers prompts: a scripted sequence first, then ordered rules, then the default.

    A script step with a pattern that does not match the prompt does not advance: the prompt
    falls through to the rules and the default, and the step waits for its prompt.
    """

    default: Responder | None = "confirm"
    history: list[Exchange] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _script: list[_Rule] = field(default_factory=list)

    def on(
        self, pattern: str | re.Pattern[str], reply: Responder, *, times: int | None = None
    ) -> Self:
        """Answer prompts whose text matches ``pattern`` (case-insensitive) with ``reply``."""
        self._rules.append(_Rule(as_regex(pattern), reply, times))
        return self

    def script(self, *steps: Responder | tuple[str | re.Pattern[str], Responder]) -> Self:
        """Answer successive prompts in order; a ``(pattern, reply)`` step waits for its prompt."""
        for step in steps:
            if isinstance(step, tuple):
                pattern, reply = step
                self._script.append(_Rule(as_regex(pattern), reply, times=1))
            else:
                self._script.append(_Rule(None, step, times=1))
        return self

    @property
    def remaining_script(self) -> int:
        """How many script steps have not been used yet."""
        return sum(1 for rule in self._script if rule.used == 0)

    def respond(self, prompt: Message) -> Reply:
        """Choose, record and return the reply to ``prompt``."""
        rule, name = self._choose(prompt)
        rule.used += 1
        responder = rule.responder
        answer = responder(prompt) if callable(responder) else responder
        reply = answer if isinstance(answer, Reply) else interpret_reply(answer, prompt)
        self.history.append(Exchange(prompt, reply, name))
        return reply

    @contextlib.asynccontextmanager
    async def attached(self, client: Answerable) -> AsyncIterator[Self]:
        """Answer every prompt ``client`` receives, in the background, while the block runs."""
        task = asyncio.create_task(self._answer(client), name="flowwright-simulator")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _answer(self, client: Answerable) -> None:
        since = client.last_action_seq
        while True:
            try:
                prompt = await client.wait_for(
                    Match(category=Category.PROMPT),
                    since=since,
                    timeout=None,
                    description="a prompt to answer",
                    fail_on_error=False,
                )
            except WaitAbortedError:
                return  # the connection ended; nothing left to answer
            since = prompt.seq
            try:
                reply = self.respond(prompt)
            except NoReplyError as error:  # decided now: fail the test's waits at this prompt
                client.waiter.abort_pending(error)
                return
            await client.send_manager_response(reply)

    def _choose(self, prompt: Message) -> tuple[_Rule, str]:
        step = next((rule for rule in self._script if rule.used == 0), None)
        if step is not None and step.accepts(prompt):
            return step, f"script[{self._script.index(step)}]"
        for rule in self._rules:
            if rule.accepts(prompt):
                assert rule.pattern is not None
                return rule, f"rule /{rule.pattern.pattern}/"
        if self.default is None:
            raise NoReplyError(
                f"the simulator has no reply for prompt #{prompt.seq} {prompt.content!r}: "
                f"no script step or rule matches and there is no default"
            )
        return _Rule(None, self.default), "default"
