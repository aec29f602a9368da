"""A flow's lifecycle: it ends once, halt ends it, a reject runs nothing, runs follow runs."""

from __future__ import annotations

import pytest

from flowwright.conformance.checker import Checker, ProbeClient
from flowwright.errors import FlowTimeoutError, WaitAbortedError
from flowwright.message import Message
from flowwright.protocol import Category

__all__: list[str] = []  # checks: pytest collects them, nobody imports them

pytestmark = pytest.mark.asyncio  # whatever asyncio_mode the running suite has


def _needs_an_end(conformance: Checker) -> None:
    if conformance.dialect.ends_flow is None:
        pytest.skip(f"the {conformance.dialect.name} dialect declares no end of flow")


@pytest.mark.conformance("ends-once")
async def test_a_flow_ends_exactly_once(conformance: Checker) -> None:
    _needs_an_end(conformance)
    async with conformance.client() as client:
        start = await conformance.run_to_end(client)
        await conformance.settle(client)
        ends = [m for m in client.collector.since(start) if m.is_flow_completed]
        if len(ends) != 1:
            shown = ", ".join(f"#{m.seq}" for m in ends)
            conformance.violated(f"the flow ended {len(ends)} times ({shown})")
        conformance.evidence = f"one end of flow: #{ends[0].seq} {ends[0].content[:40]!r}"


@pytest.mark.conformance("halt-ends")
async def test_halt_ends_a_running_flow(conformance: Checker) -> None:
    _needs_an_end(conformance)
    async with conformance.client() as client:
        await conformance.first_prompt(client, await conformance.start(client))
        halt = await client.send(conformance.reply(halt=True))
        try:
            end = await client.wait_for_completion(since=halt, timeout=conformance.answer_time)
        except FlowTimeoutError:
            conformance.violated(
                f"halt was sent (#{halt.seq}) and the flow had not ended "
                f"{conformance.answer_limit:g} s later"
            )
        except WaitAbortedError as exc:
            conformance.violated(f"after halt (#{halt.seq}): {exc.message}")
        took = end.time - halt.time
        conformance.evidence = f"halt #{halt.seq}, end of flow #{end.seq} {took:.3f} s later"


async def _reject(conformance: Checker, **fields: object) -> None:
    async with conformance.client() as client:
        prompt = await conformance.first_prompt(client, await conformance.start(client))
        if "reject" not in (prompt.options or []):
            pytest.skip(f"the flow's first prompt offers no reject (options: {prompt.options})")
        reply = await client.send(conformance.reply(**fields))
        try:  # the flow ends, or asks again; either way, no agent may have run before that
            after = await client.wait_for(
                lambda m: m.is_flow_completed or m.category is Category.PROMPT,
                since=reply,
                description="the end of the flow, or a new prompt, after the reject",
            )
        except (FlowTimeoutError, WaitAbortedError) as exc:
            conformance.violated(f"after the reject (#{reply.seq}): {exc.message}")
        ran = _agent_work(client, reply.seq)
        if ran:
            conformance.violated(
                f"the reject (#{reply.seq}) was followed by agent work: "
                + "; ".join(f"#{m.seq} {m.type} {m.content[:50]!r}" for m in ran[:4])
            )
        conformance.evidence = f"reject #{reply.seq}, then #{after.seq} {after.type}; no agent ran"


def _agent_work(client: ProbeClient, since: int) -> list[Message]:
    """Results, and tasks started, after ``since`` and before the flow ended or asked."""
    work = []
    for message in Checker.received(client, since):
        if message.is_flow_completed or message.category is Category.PROMPT:
            break
        task = client.dialect.task(message.envelope) if message.envelope is not None else None
        if message.category is Category.RESULT or (task is not None and task.status == "started"):
            work.append(message)
    return work


@pytest.mark.conformance("reject-runs-no-agent")
async def test_a_reject_runs_no_agent(conformance: Checker) -> None:
    await _reject(conformance, confirm=False, selection="reject")


@pytest.mark.conformance("reject-by-selection")
async def test_a_reject_selected_with_confirm_true_runs_no_agent(conformance: Checker) -> None:
    await _reject(conformance, confirm=True, selection="reject")


@pytest.mark.conformance("second-run")
async def test_a_second_run_on_a_socket_is_handled(conformance: Checker) -> None:
    async with conformance.client() as client:
        await conformance.run_to_end(client)
        await conformance.settle(client)
        second = await conformance.start(client)
        answer = await conformance.next_answer(client, second, "a second run_flow on the socket")
        await conformance.expect_open(client, f"after answering the second run (#{answer.seq})")
        conformance.evidence = f"answered: #{answer.seq} {answer.type} {answer.content[:50]!r}"
        if answer.category is not Category.ERROR:  # it runs: end it
            await client.send(conformance.reply(halt=True))


@pytest.mark.conformance("answer-time")
async def test_run_flow_and_replies_are_answered_in_time(conformance: Checker) -> None:
    async with conformance.client() as client:
        start = await conformance.run_to_end(client)
        late, slowest = [], 0.0
        for sent in client.collector.since(start):
            if sent.direction != "sent":
                continue
            answer = next(iter(Checker.received(client, sent.seq)), None)
            if answer is not None:
                slowest = max(slowest, answer.time - sent.time)
            if answer is None or answer.time - sent.time > conformance.answer_limit:
                waited = "no answer" if answer is None else f"{answer.time - sent.time:.3f} s"
                late.append(f"#{sent.seq} {sent.type}: {waited}")
        if late:
            conformance.violated(
                f"not answered within {conformance.answer_limit:g} s: " + "; ".join(late)
            )
        limit = conformance.answer_limit
        conformance.evidence = f"slowest answer {slowest:.3f} s (limit {limit:g} s)"
