"""One flow run in one session: what a flow's logic may do, and how a run begins and ends.

A flow (``flows.py``) is a coroutine over a :class:`FlowRun`; it talks to the human only
through :meth:`FlowRun.ask`, runs agents only through :meth:`FlowRun.run_step`, and yields
to interrupts at :meth:`FlowRun.checkpoint`. The run supplies the common frame: the start
events, ``flow_completed`` at the end however the flow ends (done, halted, failed), and every
message through :meth:`FlowRun.send`, where the ``exit_after`` fault counts and each message
gets the ``preview`` Buttermilk's UI displays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowwright.protocol import (
    FLOW_COMPLETED,
    Envelope,
    ErrorPayload,
    FlowEvent,
    ManagerResponse,
    MessageType,
    ProgressUpdate,
    TaskUpdate,
    UIPrompt,
    envelope,
    text_of,
)
from flowwright_demo.agents import Agent, AgentOutput, Host, Task
from flowwright_demo.corpus import Document
from flowwright_demo.faults import MALFORMED_FRAME, Faults
from flowwright_demo.sessions import Session
from flowwright_demo.settings import FlowOptions

__all__ = ["END_STEP", "Flow", "FlowParams", "FlowRun", "with_preview"]

logger = logging.getLogger(__name__)

ORCHESTRATOR = "orchestrator"
"""``source`` of flow-level events and progress updates."""

END_STEP = "END"
"""``step_name`` of a run's last progress update: Buttermilk's UI shows it in its status
header, the only place that UI shows that a flow is over."""

MANAGER_STEP = "manager"
"""``step_name`` of a progress update while the flow waits for the human."""

Flow = Callable[["FlowRun"], Awaitable[None]]
"""A flow's logic: a coroutine function over the run."""


class FlowParams(BaseModel):
    """The ``run_flow`` parameters this server reads; others are accepted and kept, unused."""

    model_config = ConfigDict(extra="allow")

    prompt: str | None = None
    query: str | None = None
    record_id: str | None = None
    criteria: str | list[str] | None = None
    confirm_each_step: bool | None = None
    step_delay: float | None = Field(default=None, ge=0, le=60)
    max_turns: int | None = Field(default=None, gt=0)
    fault: dict[str, Any] | None = None

    @field_validator("prompt", "query", "record_id", "criteria", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        # Buttermilk's UI sends "record_id": "" when no record is picked, "criteria": "" too.
        return None if value in ("", []) else value

    def options(self, defaults: FlowOptions) -> FlowOptions:
        """The flow's YAML options with this run's overrides on top."""
        overrides = {
            key: value
            for key in FlowOptions.model_fields
            if (value := getattr(self, key)) is not None
        }
        return defaults.model_copy(update=overrides)


class FlowRun:
    """The state of one run: its agents, the human's pending answer, pause and halt."""

    def __init__(
        self,
        *,
        flow_name: str,
        session: Session,
        question: str | None,
        record: Document | None,
        agents: list[Agent],
        host: Host,
        options: FlowOptions,
        faults: Faults,
    ) -> None:
        self.flow_name = flow_name
        self.session = session
        self.question = question
        """The question to work on; ``None`` until the human gives one at the first prompt."""
        self.record = record
        self.agents = agents
        self.host = host
        self.options = options
        self.faults = faults
        self.finishing = False
        """True once the flow's logic is over and only the closing messages remain."""
        self._sent = 0
        self._waiting: asyncio.Future[ManagerResponse] | None = None
        self._pause_requested = False
        self._halted = False
        self._body: asyncio.Task[None] | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def post(self) -> str:
        """The text of the record under review, or ``""``."""
        return self.record.text if self.record else ""

    # ------------------------------------------------------------------ engine side

    def start(self, flow: Flow) -> asyncio.Task[None]:
        """Start the run; the returned task ends after the run's last message."""
        self.task = asyncio.create_task(self._supervise(flow), name=f"run-{self.session.id}")
        return self.task

    def cancel(self) -> None:
        """Stop the run without closing messages (its session is gone, or the server stops)."""
        if self.task is not None:
            self.task.cancel()

    def deliver(self, reply: ManagerResponse) -> bool:
        """Route a manager message (not halt) to the run; False if nothing can take it.

        While an interrupt waits for the next step boundary, any other manager message
        withdraws it (Buttermilk's UI sends ``interrupt: false`` when its Resume is clicked).
        """
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(reply)
            return True
        if reply.interrupt:
            self._pause_requested = True
            logger.debug("= %s interrupt: pausing at the next step boundary", self.session.id)
            return True
        if self._pause_requested:
            self._pause_requested = False
            logger.debug("= %s resumed before the pause took effect", self.session.id)
            return True
        return False

    def halt(self) -> None:
        """End the flow now: the flow's logic (and any agent at work) is cancelled."""
        self._halted = True  # also when the flow's logic has not started yet
        if self._body is not None:
            self._body.cancel()

    # ------------------------------------------------------------------ flow side

    async def send(self, message: Envelope | str) -> None:
        """Every message of the run goes out here (so ``exit_after`` counts them all)."""
        if isinstance(message, Envelope):
            with_preview(message)
        await self.session.send(message)
        self._sent += 1
        self.faults.exit_if_due(self._sent)

    async def ask(self, prompt: UIPrompt) -> ManagerResponse:
        """Ask the human and return the answer. An interrupt pauses, then the prompt is asked
        again."""
        while True:
            reply = await self._wait_for_reply(
                envelope(MessageType.UI_MESSAGE, prompt, agent=self.host.info),
                waiting_on="answer",
            )
            if not reply.interrupt:
                return reply
            await self._pause()

    async def checkpoint(self) -> None:
        """A step boundary: pause here if the human interrupted."""
        if self._pause_requested:
            await self._pause()

    async def run_step(
        self, agent: Agent, task: Task, *, index: int, more_tasks_remain: bool
    ) -> AgentOutput | None:
        """Run one agent framed by task started/complete; None if it failed (already reported)."""

        def update(status: str, *, is_error: bool = False) -> Envelope:
            payload = TaskUpdate(
                agent_id=agent.info.agent_id,
                role=agent.role,
                status=status,
                task_index=index,
                more_tasks_remain=more_tasks_remain,
                is_error=is_error,
                step_name=agent.role,  # Buttermilk's UI shows it in its status header
            )
            return envelope(MessageType.SYSTEM_UPDATE, payload, agent=agent.info)

        if self.options.step_delay:
            await asyncio.sleep(self.options.step_delay)  # optional realism, off by default
        await self.send(update("started"))
        try:
            await self.faults.before_agent(agent.role)
            output = await agent.run(task)
        except Exception as exc:  # an agent's failure is reported, never fatal to the server
            logger.warning("! %s %s failed: %r", self.session.id, agent.role, exc)
            error = ErrorPayload(source=agent.role, content=f"{agent.role} failed: {exc}")
            await self.send(envelope(MessageType.SYSTEM_ERROR, error, agent=agent.info))
            await self.send(update("complete", is_error=True))
            return None
        await self.send(output.message)
        await self.send(update("complete"))
        return output

    async def say(self, text: str) -> None:
        """The host tells the human something."""
        await self.send(self.host.say(text))

    # ------------------------------------------------------------------ internals

    async def _wait_for_reply(self, message: Envelope, *, waiting_on: str) -> ManagerResponse:
        # Armed before sending: a fast client may answer before send() returns.
        future: asyncio.Future[ManagerResponse] = asyncio.get_running_loop().create_future()
        self._waiting = future
        try:
            await self.send(message)
            await self.send(
                _progress("waiting", step_name=MANAGER_STEP, waiting_on={"manager": waiting_on})
            )
            return await future
        finally:
            self._waiting = None

    async def _pause(self) -> None:
        self._pause_requested = False
        paused = _progress(
            "paused",
            step_name="paused",
            message="paused by the manager; any manager_response resumes",
            waiting_on={"manager": "resume"},
        )
        await self._wait_for_reply(paused, waiting_on="resume")
        await self.send(_progress("resumed", step_name="resumed"))

    async def _supervise(self, flow: Flow) -> None:
        logger.debug("= %s run of %s started", self.session.id, self.flow_name)
        await self.send(_event(f"flow_started: {self.flow_name}"))
        body = self._body = asyncio.create_task(self._main(flow), name=f"flow-{self.session.id}")
        if self._halted:
            body.cancel()
        try:
            await asyncio.wait({body})
        finally:
            body.cancel()  # a no-op when done; otherwise the run itself is being cancelled
        self.finishing = True
        if body.cancelled():
            await self.send(_event("flow_halted"))
        elif (exc := body.exception()) is not None:
            logger.error("! %s flow %s failed", self.session.id, self.flow_name, exc_info=exc)
            error = ErrorPayload(
                source=ORCHESTRATOR, content=f"flow {self.flow_name} failed: {exc!r}"
            )
            await self.send(envelope(MessageType.SYSTEM_ERROR, error))
        await self.send(_event(FLOW_COMPLETED))
        # Buttermilk's host ends a run with this update: its UI shows END in the status header.
        finished = f"flow {self.flow_name} finished"
        await self.send(_progress("finished", step_name=END_STEP, waiting_on={}, message=finished))
        logger.debug("= %s run of %s finished", self.session.id, self.flow_name)

    async def _main(self, flow: Flow) -> None:
        """What every flow does first (the record, the agents' announcements), then the flow's
        own logic."""
        if self.faults.malformed_frame:
            await self.send(MALFORMED_FRAME)
        if self.record is not None:
            await self.send(
                envelope(MessageType.RECORD, _record(self.record), agent=self.host.info)
            )
        for agent in self.agents:
            joined = FlowEvent(
                content=f"{agent.role} joined: {agent.info.description}",
                source=agent.info.agent_id,
            )
            await self.send(envelope(MessageType.SYSTEM_MESSAGE, joined, agent=agent.info))
        await flow(self)


def with_preview(message: Envelope) -> Envelope:
    """Give ``message`` the display text Buttermilk's UI shows (it shows an object's
    ``content`` as quoted JSON otherwise); progress updates only feed its status header."""
    if message.preview is None and message.type != MessageType.SYSTEM_UPDATE:
        message.preview = text_of(message)
    return message


def _record(record: Document) -> dict[str, Any]:
    """A ``record`` payload: Buttermilk's shape (``content``, ``metadata.title``), which its UI
    reads, and the first shape of this server (``name``, ``text``), which clients may."""
    return {
        "record_id": record.doc_id,
        "name": record.title,
        "text": record.text,
        "content": record.text,
        "metadata": {"title": record.title, "dataset": record.dataset, "source": record.source},
    }


def _event(content: str) -> Envelope:
    return envelope(MessageType.SYSTEM_MESSAGE, FlowEvent(content=content, source=ORCHESTRATOR))


def _progress(status: str, **fields: Any) -> Envelope:
    payload = ProgressUpdate(source=ORCHESTRATOR, status=status, **fields)
    return envelope(MessageType.SYSTEM_UPDATE, payload)
