"""Sessions: isolated from each other, with unique message ids, and reconnectable."""

from __future__ import annotations

import contextlib
from collections import Counter

import pytest

from flowwright.conformance.checker import Checker
from flowwright.errors import FlowTimeoutError, WaitAbortedError
from flowwright.proxy import FlowProxy, cut

__all__: list[str] = []  # checks: pytest collects them, nobody imports them

pytestmark = pytest.mark.asyncio  # whatever asyncio_mode the running suite has


@pytest.mark.conformance("sessions-isolated")
async def test_a_sessions_messages_reach_only_its_sockets(conformance: Checker) -> None:
    async with conformance.client() as bystander, conformance.client() as runner:
        _, cut_short = await conformance.run_traffic(runner)
        await conformance.settle(runner)
        mark = bystander.collector.last_seq
        await conformance.settle(bystander)
        theirs = {m.envelope.message_id for m in Checker.received(runner) if m.envelope}
        leaked = [
            m
            for m in Checker.received(bystander, 0)
            if m.seq <= mark or (m.envelope and m.envelope.message_id in theirs - {None})
        ]
        if leaked:
            conformance.violated(
                f"session {bystander.session_id} received {len(leaked)} message(s) of "
                f"session {runner.session_id}'s run: "
                + "; ".join(f"#{m.seq} {m.type}" for m in leaked[:4])
            )
        conformance.evidence = (
            f"a run of {len(theirs)} messages{cut_short}; the other session got none"
        )


@pytest.mark.conformance("unique-ids")
async def test_no_two_messages_share_an_id(conformance: Checker) -> None:
    async with conformance.client() as client:
        _, cut_short = await conformance.run_traffic(client)
        await conformance.settle(client)
        ids = Counter(
            m.envelope.message_id
            for m in Checker.received(client)
            if m.envelope and m.envelope.message_id
        )
        repeated = {message_id: n for message_id, n in ids.items() if n > 1}
        if repeated:
            conformance.violated(
                f"{len(repeated)} message id(s) used more than once: "
                + ", ".join(f"{key} ({n} times)" for key, n in list(repeated.items())[:4])
            )
        conformance.evidence = f"{len(ids)} message ids, all distinct{cut_short}"


@pytest.mark.conformance("reconnect")
async def test_a_reconnect_behaves_as_the_dialect_declares(conformance: Checker) -> None:
    if conformance.dialect.resumable:
        await _resume(conformance)
    else:
        await _plain_reconnect(conformance)


async def _resume(conformance: Checker) -> None:
    """Cut (through a proxy) instead of delivering the first frame after a confirm: after a
    reconnect that resumes, that frame arrives once, and the run goes on to its end."""
    async with (
        FlowProxy(conformance.server, dialect=conformance.dialect) as proxy,
        conformance.client(server=proxy.endpoint) as client,
    ):
        prompt = await conformance.first_prompt(client, await conformance.start(client))

        def after_the_reply(message: object) -> bool:
            return bool(proxy.collector.filter(type="manager_response", direction="sent"))

        fault = cut(where=after_the_reply)
        proxy.add(fault)
        await client.send(conformance.reply(confirm=True, selection="confirm"))
        with contextlib.suppress(WaitAbortedError):  # the cut
            await client.wait_for_completion()
        if not fault.hits:
            conformance.violated(f"nothing followed the confirm of prompt #{prompt.seq}")
        lost = fault.hits[0]
        mark = client.collector.last_seq
        try:
            await client.reconnect()
            await client.wait_for_completion(since=0)
        except (FlowTimeoutError, WaitAbortedError) as exc:
            conformance.violated(f"after a reconnect with resume: {exc.message}")
        lost_id = lost.envelope.message_id if lost.envelope else None
        again = [
            m
            for m in Checker.received(client, mark)
            if lost_id and m.envelope and m.envelope.message_id == lost_id
        ]
        if lost_id and len(again) != 1:
            conformance.violated(
                f"the frame lost in the cut ({lost.type}, message_id {lost_id}) arrived "
                f"{len(again)} times after the reconnect, not once"
            )
        ids = Counter(
            m.envelope.message_id
            for m in Checker.received(client)
            if m.envelope and m.envelope.message_id
        )
        twice = [message_id for message_id, n in ids.items() if n > 1]
        if twice:
            conformance.violated(f"the resume repeated message(s) {', '.join(twice[:4])}")
        conformance.evidence = (
            f"cut instead of proxy#{lost.seq} {lost.type}; replayed once after the reconnect"
        )


async def _plain_reconnect(conformance: Checker) -> None:
    async with conformance.client() as client:
        await conformance.first_prompt(client, await conformance.start(client))
        client.cut_connection()
        with contextlib.suppress(WaitAbortedError):  # the cut
            await client.wait_for_completion()
        try:
            await client.reconnect(resume=False)
        except Exception as exc:  # a ConnectError, said as it is
            conformance.violated(f"a reconnect to session {client.session_id} failed: {exc}")
        await conformance.expect_open(client, "after the reconnect")
        conformance.evidence = "a plain reconnect to the same session was accepted"
