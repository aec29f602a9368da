"""The agents: researcher, policy analyst, assistant, and the host who speaks for the flow.

Each agent turns a :class:`Task` into one result envelope. Agents only compute; framing
their work (task started/complete, errors, faults) is the run's job (``run.py``), so every
agent is framed the same way.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from flowwright.protocol import (
    AgentInfo,
    ChatPayload,
    Envelope,
    Literature,
    MessageType,
    ResearchResult,
    envelope,
)
from flowwright_demo.corpus import Corpus
from flowwright_demo.llm import LLM, ChatTurn, summarise
from flowwright_demo.settings import AgentSpec, Role

__all__ = [
    "AGENT_TYPES",
    "Agent",
    "AgentOutput",
    "Assistant",
    "Host",
    "PolicyAnalyst",
    "Researcher",
    "Task",
    "create_agent",
]

RESEARCH_DOCUMENTS = 3
"""How many policy/case documents the researcher reads."""


@dataclass(frozen=True, slots=True)
class Task:
    """What an agent is asked to do: the question, the post under review, earlier results."""

    question: str
    post: str = ""
    findings: dict[str, str] = field(default_factory=dict)
    """Text of earlier steps' results, by role."""
    history: tuple[ChatTurn, ...] = ()
    """The conversation so far (chat flows), oldest first, without a system turn."""


@dataclass(frozen=True, slots=True)
class AgentOutput:
    """An agent's result: the envelope to send and the plain text later steps build on."""

    message: Envelope
    text: str


class Agent(ABC):
    """An agent with its identity (``agent_info`` on every message it sends)."""

    def __init__(self, info: AgentInfo, corpus: Corpus, llm: LLM) -> None:
        if info.role is None:
            raise ValueError(f"an agent needs a role: {info!r}")
        self.info = info
        self.role: str = info.role
        self._corpus = corpus
        self._llm = llm

    @abstractmethod
    async def run(self, task: Task) -> AgentOutput:
        """Do the task; raising is allowed (the run reports it as this agent's error)."""

    async def _complete(self, system: str, turns: list[ChatTurn]) -> str:
        # In a thread: a real (slow, blocking) LLM must not stall every other session.
        messages: list[ChatTurn] = [{"role": "system", "content": system}, *turns]
        return await asyncio.to_thread(self._llm.complete, messages)

    def _chat(self, text: str) -> AgentOutput:
        return AgentOutput(
            envelope(MessageType.CHAT_MESSAGE, ChatPayload(content=text), agent=self.info), text
        )


class Researcher(Agent):
    """Retrieves the most relevant policy and case documents and summarises them."""

    async def run(self, task: Task) -> AgentOutput:
        query = f"{task.question}\n{task.post}".strip()
        documents = [hit.document for hit in self._corpus.search(query, k=RESEARCH_DOCUMENTS)]
        listing = "\n\n".join(f"[{doc.source}] {doc.text}" for doc in documents)
        response = await self._complete(
            "You are a researcher. Summarise what the documents say about the question.",
            [{"role": "user", "content": f"Question: {task.question}\n\nDocuments:\n{listing}"}],
        )
        result = ResearchResult(
            literature=[
                # citation: what Buttermilk's UI shows for each item; source: what ours shows
                Literature(
                    summary=summarise(doc.text, task.question),
                    source=doc.source,
                    citation=doc.source,
                )
                for doc in documents
            ],
            response=response,
            summary=response,  # the main text of a research_result in Buttermilk's UI
        )
        return AgentOutput(envelope(MessageType.RESEARCH_RESULT, result, agent=self.info), response)


class PolicyAnalyst(Agent):
    """Applies the most relevant policy to the question (and post), using the research."""

    async def run(self, task: Task) -> AgentOutput:
        query = f"{task.question}\n{task.post}".strip()
        hits = self._corpus.search(query, k=1, kinds=("policy",))
        policy = f"[{hits[0].document.source}] {hits[0].document.text}" if hits else "(none found)"
        analysis = await self._complete(
            "You are a policy analyst. Apply the policy to the question or post and give a "
            "conclusion.",
            [
                {
                    "role": "user",
                    "content": f"Question: {task.question}\n\nPost: {task.post}\n\n"
                    f"Policy:\n{policy}\n\nResearch:\n{task.findings.get('researcher', '')}",
                }
            ],
        )
        return self._chat(analysis)


class Assistant(Agent):
    """Answers the latest turn of a conversation."""

    async def run(self, task: Task) -> AgentOutput:
        answer = await self._complete(
            "You are a helpful assistant for content-moderation research.", list(task.history)
        )
        return self._chat(answer)


class Host(Agent):
    """The flow's voice toward the human: prompts, acknowledgements and the final summary."""

    def __init__(self, corpus: Corpus, llm: LLM, model: str | None = None) -> None:
        info = AgentInfo(
            agent_id="host",
            role="host",
            agent_name="Host",
            description="runs the flow and talks to the human",
            parameters=_parameters("host", model),
        )
        super().__init__(info, corpus, llm)

    async def run(self, task: Task) -> AgentOutput:
        """Summarise the findings of a pipeline run for the human."""
        findings = "\n\n".join(task.findings.values())
        summary = await self._complete(
            "You are the host. Summarise the findings for the human in two sentences.",
            [{"role": "user", "content": f"Question: {task.question}\n\nFindings:\n{findings}"}],
        )
        return self._chat(summary)

    def say(self, text: str) -> Envelope:
        """A chat message from the host."""
        return self._chat(text).message


AGENT_TYPES: Mapping[Role, type[Agent]] = MappingProxyType(
    {
        "researcher": Researcher,
        "policy_analyst": PolicyAnalyst,
        "assistant": Assistant,
    }
)
"""The class behind each role a flow's YAML may name."""


def create_agent(spec: AgentSpec, corpus: Corpus, llm: LLM, model: str | None = None) -> Agent:
    """The agent for one entry of a flow's ``agents:`` list (ids are ``<role>-1``); ``model``
    names its LLM in ``agent_info.parameters``."""
    info = AgentInfo(
        agent_id=f"{spec.role}-1",
        role=spec.role,
        agent_name=spec.name,
        description=spec.description,
        parameters=_parameters(spec.role, model),
    )
    return AGENT_TYPES[spec.role](info, corpus, llm)


def _parameters(role: str, model: str | None) -> dict[str, str] | None:
    """``agent_info.parameters`` as Buttermilk's UI reads them for an agent's tags: ``model``
    (shown beside the sender), ``role`` (its four-letter tag)."""
    return {"model": model, "role": role} if model is not None else None
