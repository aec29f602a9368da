"""The flow engine: reads what clients send, starts and steers one flow run per session.

A run belongs to its session, not to a socket: a client that reconnects (``resume_after``)
joins the same run, and a run is cancelled only when its session expires (no socket came back
within the grace period, see ``sessions.py``).

Input is data: each frame is size-checked, JSON-decoded and validated with
``flowwright.protocol.parse_client`` before anything acts on it. Whatever cannot be used is
answered with a ``system_error`` that names the problem, on that session only; the
connection stays open (Buttermilk drops such input silently, which leaves a test hanging).
The bookkeeping frames of Buttermilk's own UI (:data:`IGNORED_TYPES`) are not errors: they
are logged, and answered at most with an informational ``system_message``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocket

from flowwright.protocol import (
    ErrorPayload,
    FlowEvent,
    ManagerResponse,
    MessageType,
    RunFlow,
    describe_validation_error,
    envelope,
    parse_client,
)
from flowwright_demo.access import shown
from flowwright_demo.agents import Host, create_agent
from flowwright_demo.corpus import Corpus, Document
from flowwright_demo.flows import FLOWS
from flowwright_demo.llm import LLM
from flowwright_demo.run import FlowParams, FlowRun, with_preview
from flowwright_demo.sessions import ResumeError, Session
from flowwright_demo.settings import AgentSpec, FlowDefinition, Settings

__all__ = ["FAULTS_OFF", "IGNORED_TYPES", "MAX_DEPTH", "FlowEngine", "Refused", "UIBookkeeping"]

logger = logging.getLogger(__name__)

IGNORED_TYPES = frozenset(
    {"pull_task", "pull_tox", "TaskProcessingStarted", "TaskProcessingComplete"}
)
"""Messages Buttermilk's UI sends that this server does not act on: accepted and logged, never
refused. ``TaskProcessingStarted``/``Complete`` come with its Interrupt/Resume button, right
after the ``manager_response`` that does the work; ``pull_task``/``pull_tox`` ask its server
to fetch a record and run a flow on it, which this server cannot (it says so)."""

_PULL_TYPES = frozenset({"pull_task", "pull_tox"})


@dataclass(frozen=True, slots=True)
class UIBookkeeping:
    """A frame of :data:`IGNORED_TYPES`: read, logged, not acted on."""

    type: str


MAX_DEPTH = 32
"""How deeply a client frame's JSON may nest (a real message needs 4 levels at most)."""

FAULTS_OFF = (
    "fault injection is off on this server: start it with --allow-faults, or set "
    "server.allow_faults: true (the test configuration, --config test, does)"
)
"""The answer to a ``run_flow`` with a ``fault`` on a server that does not allow faults."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = object()
"""Stands for a frame ``json.loads`` gave up on (``RecursionError``)."""


class Refused(Exception):
    """Input that cannot be used; the message says why (a ``system_error`` on the WebSocket,
    an error result over MCP)."""


class FlowEngine:
    """Dispatches client frames and owns the runs, at most one per session."""

    def __init__(self, settings: Settings, corpus: Corpus, llm: LLM) -> None:
        self.settings = settings
        self.corpus = corpus
        self.llm = llm
        self._runs: dict[str, FlowRun] = {}

    async def join(self, session: Session, socket: WebSocket, resume_after: str | None) -> None:
        """Attach a new socket to its session, replaying what it missed if it resumes; an
        id the session no longer holds is answered with a ``system_error`` (it stays live)."""
        try:
            await session.join(socket, resume_after)
        except ResumeError as refusal:
            await self._refuse(session, str(refusal))

    async def receive(self, session: Session, message: Mapping[str, Any]) -> None:
        """Handle one ASGI ``websocket.receive`` message from a session's socket."""
        try:
            request = self._decode(session, message)
            if isinstance(request, RunFlow):
                await self.start(session, request)
            elif isinstance(request, UIBookkeeping):
                await self._bookkeeping(session, request)
            else:
                self._manager_response(session, request)
        except Refused as refusal:
            await self._refuse(session, str(refusal))

    def abandon(self, session: Session, why: str) -> None:
        """The session ended (``why``: no socket came back within the grace period, or its
        client closed it): cancel its run (no closing messages: nobody is listening) and
        close the session once the run is over."""
        run = self._runs.pop(session.id, None)
        if run is None or run.task is None or run.task.done():
            session.close()
            return
        logger.info("= %s %s: run of %s cancelled", session.id, why, run.flow_name)
        run.cancel()
        run.task.add_done_callback(lambda _: session.close())

    async def shutdown(self) -> None:
        """Cancel every run (server shutdown)."""
        await _cancel(list(self._runs.values()))

    async def _refuse(self, session: Session, reason: str) -> None:
        logger.info("! %s refused: %s", session.id, reason)
        error = ErrorPayload(source="server", content=reason)
        await session.send(with_preview(envelope(MessageType.SYSTEM_ERROR, error)))

    async def _bookkeeping(self, session: Session, frame: UIBookkeeping) -> None:
        logger.info("= %s %s from Buttermilk's UI: nothing to do", session.id, frame.type)
        if frame.type in _PULL_TYPES:
            note = FlowEvent(
                source="server",
                content=f"{frame.type} is not supported by this server: pick a flow (and a "
                "record) and run it",
            )
            await session.send(with_preview(envelope(MessageType.SYSTEM_MESSAGE, note)))

    # ------------------------------------------------------------------ decoding

    def _decode(
        self, session: Session, message: Mapping[str, Any]
    ) -> RunFlow | ManagerResponse | UIBookkeeping:
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            session.record("<", f"<binary frame of {len(data)} bytes>")
            raise Refused("binary frames are not accepted: send JSON as a text frame")
        size, limit = len(text.encode()), self.settings.server.max_frame_bytes
        if size > limit:
            session.record("<", f"<text frame of {size} bytes, over the limit>")
            raise Refused(f"frame too large: {size} bytes, the limit is {limit} bytes")
        session.record("<", text)
        try:
            data = json.loads(text)
        except RecursionError:
            data = _TOO_DEEP  # past Python's own limit: refused below, like any too deep
        except ValueError as exc:
            raise Refused(f"invalid JSON: {exc}") from None
        if (problem := _unusable(data)) is not None:
            raise Refused(problem)
        if not isinstance(data, dict):
            raise Refused(f"expected a JSON object, got {type(data).__name__}")
        kind = data.get("type")
        if kind is not None and not isinstance(kind, str):
            raise Refused(f"'type' must be a string, got {_json_type(kind)}")
        if data.get("type") in IGNORED_TYPES:
            return UIBookkeeping(data["type"])
        try:
            request = parse_client(data)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        if (
            isinstance(request, RunFlow)
            and request.parameters.get("fault") is not None
            and not self.settings.server.allow_faults
        ):
            raise Refused(FAULTS_OFF)
        return request

    # ------------------------------------------------------------------ run_flow

    async def start(self, session: Session, request: RunFlow) -> FlowRun:
        """Start a run of ``request.flow`` in ``session`` (raises :class:`Refused`).

        Public because the WebSocket is not the only way in: the MCP tools run flows in
        sessions of their own through here, with the same validation and the same runs.
        """
        current = self._runs.get(session.id)
        if current is not None and current.task is not None:
            if not current.finishing:
                raise Refused(
                    f"a flow ({current.flow_name!r}) is already running in this session; "
                    "send a manager_response with halt: true to stop it first"
                )
            await asyncio.wait({current.task})  # only its closing messages remain
        definition = self.settings.flows.get(request.flow)
        if definition is None:
            raise Refused(
                f"unknown flow {shown(request.flow)} (available: {', '.join(self.settings.flows)})"
            )
        run = self._plan(session, request.flow, definition, request.parameters)
        self._runs[session.id] = run
        task = run.start(FLOWS[definition.kind])
        task.add_done_callback(lambda _: self._forget(session.id, run))
        return run

    def _plan(
        self, session: Session, name: str, definition: FlowDefinition, parameters: dict[str, Any]
    ) -> FlowRun:
        """Validate a run's parameters and build the run (nothing is sent yet)."""
        try:
            params = FlowParams.model_validate(parameters)
            faults = definition.faults.merged(params.fault)
        except ValidationError as exc:
            raise Refused(
                f"invalid run_flow parameters for {name!r}: {describe_validation_error(exc)}"
            ) from None
        record = self._record(params.record_id) if params.record_id is not None else None
        # No question (Buttermilk's UI sends none): the flow asks for it at its first prompt.
        question = params.prompt or params.query or (record and _question_about(record, params))
        specs: dict[str, AgentSpec] = {spec.role: spec for spec in definition.agents}
        model = self.settings.server.llm
        return FlowRun(
            flow_name=name,
            session=session,
            question=question or None,
            record=record,
            agents=[
                create_agent(specs[role], self.corpus, self.llm, model)
                for role in definition.step_roles
            ],
            host=Host(self.corpus, self.llm, model),
            options=params.options(definition.options),
            faults=faults,
        )

    def _record(self, record_id: str) -> Document:
        try:
            document = self.corpus.get(record_id)
        except KeyError:
            document = None
        if document is None or document.kind != "record":
            known = ", ".join(doc.doc_id for doc in self.corpus.records())
            raise Refused(f"unknown record_id {record_id!r} (records: {known})")
        return document

    def _forget(self, session_id: str, run: FlowRun) -> None:
        if self._runs.get(session_id) is run:
            del self._runs[session_id]

    # ------------------------------------------------------------------ manager_response

    def _manager_response(self, session: Session, reply: ManagerResponse) -> None:
        if reply.message_id is not None and session.seen_reply(reply.message_id):
            logger.info("= %s reply %s received again: applied once", session.id, reply.message_id)
            return
        run = self._runs.get(session.id)
        if run is None or run.finishing:
            raise Refused("no flow is running in this session: start one with run_flow")
        if reply.halt:
            logger.debug("= %s halt", session.id)
            run.halt()
        elif not run.deliver(reply):
            raise Refused(
                "nothing is awaiting an answer right now (an agent is at work): send "
                "interrupt: true to pause the flow or halt: true to stop it"
            )


def _unusable(data: Any) -> str | None:
    """Why decoded JSON cannot be used as is: nested deeper than :data:`MAX_DEPTH`, or with
    a lone surrogate (``"\\ud800"``), which is not text: it could be neither sent back nor
    written down. Iterative, so that no depth can make it fail."""
    too_deep = f"JSON nested too deeply: the limit is {MAX_DEPTH} levels"
    if data is _TOO_DEEP:
        return too_deep
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return f"invalid text: a lone surrogate in {value[:40]!r}"
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return too_deep
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    pending.append((key, depth))
                pending.append((item, depth + 1))
    return None


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


async def _cancel(runs: list[FlowRun]) -> None:
    """Cancel runs and wait until they are over (their tasks may not have started yet)."""
    for run in runs:
        run.cancel()
    tasks = [run.task for run in runs if run.task is not None]
    if tasks:
        await asyncio.wait(tasks)


def _question_about(record: Document, params: FlowParams) -> str:
    criteria = params.criteria
    if isinstance(criteria, list):
        criteria = ", ".join(criteria)
    return f"Does this post violate {criteria or 'the community standards'}? Post: {record.text}"
