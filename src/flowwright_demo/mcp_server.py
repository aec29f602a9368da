"""The reference server's flows and agents as MCP tools (the official SDK's ``MCPServer``).

Tools: ``list_flows``, ``run_flow`` (a whole flow, non-interactively), ``search_documents``
and ``ask_agent``. They reuse the server's own :class:`FlowEngine` — the same flow logic,
agents, corpus and validation as the WebSocket side — so an MCP test exercises the code a
flow test does. Served over Streamable HTTP at ``/mcp`` of the app (``app.py``) and over
stdio (``python -m flowwright_demo --mcp-stdio``).

A ``run_flow`` call runs in a session of its own with no socket: :class:`_AutoSession`
keeps every message the run sends, answers each prompt the way a consenting human would
(confirm; "done" to a free-text question), and reports one MCP progress notification per
finished step.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from flowwright.protocol import (
    FLOW_COMPLETED,
    RESULT_TYPES,
    Envelope,
    ManagerResponse,
    MessageType,
    RunFlow,
    text_of,
)
from flowwright_demo.agents import Task, create_agent
from flowwright_demo.engine import FlowEngine, Refused
from flowwright_demo.sessions import Session, storage_name
from flowwright_demo.settings import AgentSpec

__all__ = [
    "AgentResult",
    "DocumentHit",
    "FlowInfo",
    "FlowTranscript",
    "create_mcp_server",
    "serve_stdio",
]

SERVER_NAME = "flowwright-demo"
AUTO_REPLY_DONE = "done"
"""The answer to a free-text prompt (a chat flow's "anything else?"): it ends the flow."""


class FlowInfo(BaseModel):
    """One flow the server can run."""

    name: str
    description: str
    agents: list[str] = Field(description="the roles of the flow's agents, in step order")


class AgentResult(BaseModel):
    """What one agent produced during a run."""

    role: str
    agent: str
    type: str = Field(description="the message type: research_result, chat_message, ...")
    text: str


class FlowTranscript(BaseModel):
    """The summary of a finished run: ``run_flow``'s structured content."""

    flow: str
    question: str
    results: list[AgentResult]
    conclusion: str = Field(description="the host's summary (pipeline) or the last answer (chat)")
    errors: list[str] = Field(description="what the flow reported as errors (system_error)")
    completed: bool = Field(description="whether the flow sent flow_completed")
    messages: int = Field(description="how many messages the run sent")


class DocumentHit(BaseModel):
    """One corpus document found by ``search_documents``, best first."""

    doc_id: str
    kind: str
    title: str
    source: str
    score: float
    text: str


class _AutoSession(Session):
    """A session with no socket: keeps the run's messages and answers its prompts itself."""

    def __init__(
        self, storage: Path, buffer_size: int, on_message: Callable[[Envelope], Awaitable[None]]
    ) -> None:
        session_id = f"mcp-{uuid.uuid4().hex}"
        path = storage / f"session-{storage_name(session_id)}.jsonl"
        super().__init__(session_id, path, buffer_size)
        self.messages: list[Envelope] = []
        self.run_answering: Callable[[ManagerResponse], bool] | None = None
        self._on_message = on_message

    async def send(self, message: Envelope | str) -> None:
        await super().send(message)
        if isinstance(message, str):  # only the malformed-frame fault sends raw text
            return
        self.messages.append(message)
        if message.type == MessageType.UI_MESSAGE and self.run_answering is not None:
            # The run arms its reply future before sending the prompt, so it can take it now.
            self.run_answering(_auto_reply(message))
        await self._on_message(message)


def _auto_reply(prompt: Envelope) -> ManagerResponse:
    """Confirm a prompt that offers options; say "done" to a free-text one (ends a chat)."""
    outputs = prompt.outputs if isinstance(prompt.outputs, dict) else {}
    if outputs.get("options"):
        return ManagerResponse(confirm=True)
    return ManagerResponse(content=AUTO_REPLY_DONE)


def _transcript(name: str, kind: str, question: str, messages: list[Envelope]) -> FlowTranscript:
    results, host_said, errors = [], [], []
    for message in messages:
        info = message.agent_info
        if message.type == MessageType.SYSTEM_ERROR:
            errors.append(text_of(message))
        elif info is not None and info.role == "host":
            if message.type == MessageType.CHAT_MESSAGE:
                host_said.append(text_of(message))
        elif info is not None and (
            message.type in RESULT_TYPES or message.type == MessageType.CHAT_MESSAGE
        ):
            results.append(
                AgentResult(
                    role=info.role,
                    agent=info.agent_name or info.agent_id,
                    type=message.type,
                    text=text_of(message),
                )
            )
    if kind == "pipeline" and host_said:
        conclusion = host_said[-1]
    else:
        conclusion = results[-1].text if results else ""
    return FlowTranscript(
        flow=name,
        question=question,
        results=results,
        conclusion=conclusion,
        errors=errors,
        completed=any(
            m.type == MessageType.SYSTEM_MESSAGE and text_of(m) == FLOW_COMPLETED for m in messages
        ),
        messages=len(messages),
    )


def _as_text(transcript: FlowTranscript) -> str:
    lines = [f"Flow {transcript.flow!r} on: {transcript.question}"]
    lines += [f"[{result.role}] {result.text}" for result in transcript.results]
    lines += [f"[error] {error}" for error in transcript.errors]
    lines.append(f"Conclusion: {transcript.conclusion}")
    return "\n\n".join(lines)


def create_mcp_server(engine: FlowEngine, storage: Path) -> MCPServer:
    """The MCP server over ``engine``; ``run_flow`` transcripts are written under ``storage``."""
    settings, corpus, llm = engine.settings, engine.corpus, engine.llm
    server = MCPServer(
        SERVER_NAME,
        instructions="Run flowwright's content-moderation research flows and ask its agents.",
    )
    specs: dict[str, AgentSpec] = {
        spec.role: spec for flow in settings.flows.values() for spec in flow.agents
    }

    @server.tool()
    def list_flows() -> list[FlowInfo]:
        """The flows this server runs, with their descriptions and agents."""
        return [
            FlowInfo(name=name, description=flow.description, agents=flow.step_roles)
            for name, flow in settings.flows.items()
        ]

    @server.tool()
    async def run_flow(
        flow: Annotated[str, Field(description="the flow's name, as list_flows gives it")],
        prompt: Annotated[str | None, Field(description="the question to research")] = None,
        record_id: Annotated[str | None, Field(description="a record to assess instead")] = None,
        criteria: Annotated[str | None, Field(description="the policy to assess it by")] = None,
        *,
        ctx: Context,
    ) -> Annotated[CallToolResult, FlowTranscript]:
        """Run a flow to completion, confirming every prompt, and return its transcript.

        Reports progress once per finished agent step.
        """
        if not (prompt or record_id):
            # Over the WebSocket the flow would ask for its question; here nobody could answer.
            raise ToolError(f"run_flow {flow!r} needs a 'prompt' or a 'record_id'")
        definition = settings.flows.get(flow)
        total = len(definition.step_roles) if definition and definition.kind == "pipeline" else None
        done = 0

        async def on_message(message: Envelope) -> None:
            nonlocal done
            outputs = message.outputs if isinstance(message.outputs, dict) else {}
            if message.type == MessageType.SYSTEM_UPDATE and outputs.get("status") == "complete":
                done += 1
                role = outputs.get("role", "agent")
                failed = " (failed)" if outputs.get("is_error") else ""
                await ctx.report_progress(done, total, f"{role} finished{failed}")

        session = _AutoSession(storage, settings.server.resume_buffer, on_message)
        given = {"prompt": prompt, "record_id": record_id, "criteria": criteria}
        parameters = {key: value for key, value in given.items() if value is not None}
        try:
            try:
                run = await engine.start(session, RunFlow(flow=flow, **parameters))
            except Refused as refusal:
                raise ToolError(str(refusal)) from None
            session.run_answering = run.deliver
            assert run.task is not None  # started above
            await asyncio.wait({run.task})
        finally:
            session.close()
        assert definition is not None  # engine.start refuses unknown flows
        transcript = _transcript(flow, definition.kind, run.question or "", session.messages)
        return CallToolResult(
            content=[TextContent(type="text", text=_as_text(transcript))],
            structured_content=transcript.model_dump(mode="json"),
        )

    @server.tool()
    def search_documents(
        query: Annotated[str, Field(min_length=1, description="what to look for")],
        k: Annotated[int, Field(ge=1, le=20, description="how many documents")] = 3,
    ) -> list[DocumentHit]:
        """The policy and case documents most relevant to ``query``, best first."""
        return [
            DocumentHit(
                doc_id=hit.document.doc_id,
                kind=hit.document.kind,
                title=hit.document.title,
                source=hit.document.source,
                score=hit.score,
                text=hit.document.text,
            )
            for hit in corpus.search(query, k=k)
        ]

    @server.tool()
    async def ask_agent(
        role: Annotated[str, Field(description="researcher, policy_analyst or assistant")],
        question: Annotated[str, Field(min_length=1)],
    ) -> str:
        """Ask one agent a question directly, outside any flow; returns its answer."""
        spec = specs.get(role)
        if spec is None:
            raise ToolError(f"unknown agent role {role!r} (roles: {', '.join(specs)})")
        output = await create_agent(spec, corpus, llm).run(Task(question))
        return output.text

    return server


async def serve_stdio(engine: FlowEngine, storage: Path) -> None:
    """Serve the tools over this process's stdin/stdout until stdin closes."""
    try:
        await create_mcp_server(engine, storage).run_stdio_async()
    finally:
        await engine.shutdown()
