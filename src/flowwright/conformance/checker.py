"""What every check needs: clients on the server under test, and the few moves they share.

A check opens :class:`ProbeClient` s (flowwright clients that treat an error message as an
answer, not a failure), sends what the rule is about, and says plainly when the server broke
the rule: :meth:`Checker.violated` fails the check with the rule's id on the first line. The
frames exchanged are the clients' transcripts, which the report keeps as the evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest
from websockets.exceptions import ConnectionClosed

from flowwright.client import FlowTestClient
from flowwright.context import current
from flowwright.dialect import Dialect
from flowwright.errors import FlowTimeoutError, WaitAbortedError
from flowwright.message import Message
from flowwright.protocol import Category
from flowwright.server import FlowServer
from flowwright.simulator import ResponseSimulator

__all__ = ["PROBE_TYPE", "Checker", "ProbeClient"]

PROBE_TYPE = "flowwright_conformance_probe"
"""The message type no server knows, sent to see that a socket is still answered."""

SAMPLE = 20
"""How many messages of a run the checks of its traffic (isolation, unique ids) look at when
the flow has not ended by then: enough to see a leak or a repeat, and a flow that never ends
(Buttermilk's ``mock``) is checked on what it sent instead of timing out."""


class ProbeClient(FlowTestClient):
    """A flowwright client for checks: error messages are answers, and a socket can be pinged."""

    async def ping(self, timeout: float) -> bool:
        """Whether the socket answers a WebSocket ping within ``timeout`` seconds (it is open)."""
        if self._ws is None or self.waiter.closed is not None:
            return False
        try:
            pong = await self._ws.ping()
            await asyncio.wait_for(pong, timeout)
        except (ConnectionClosed, TimeoutError, OSError):
            return False
        return True


@dataclass
class Checker:
    """The run's settings and the moves checks share; one per check (the ``conformance``
    fixture)."""

    rule_id: str
    server: FlowServer
    dialect: Dialect
    flow: str
    prompt: str
    answer_time: float
    """Seconds an answer may take, as stated (waits scale it by the timeout factor)."""
    oversize_bytes: int
    evidence: str = ""
    """What the check saw when the rule held, in one line, for the summary table."""

    @property
    def answer_limit(self) -> float:
        """The answer time scaled by the timeout factor: what a wait really allows."""
        return current().settings.scale(self.answer_time)

    # ------------------------------------------------------------------ clients

    @contextlib.asynccontextmanager
    async def client(self, **options: Any) -> AsyncIterator[ProbeClient]:
        """A connected client on a fresh session; errors do not fail its waits."""
        options.setdefault("server", self.server)
        async with ProbeClient.create(fail_on_error=False, **options) as client:
            yield client

    # ------------------------------------------------------------------ verdicts

    def violated(self, what: str) -> NoReturn:
        """Fail the check: ``<rule id>: <what the server did>``."""
        __tracebackhide__ = True
        pytest.fail(f"{self.rule_id}: {what}", pytrace=False)

    # ------------------------------------------------------------------ moves

    async def expect_error(self, client: ProbeClient, frame: str, what: str) -> Message:
        """Send ``frame`` (raw text): it must be answered with an error message, and the socket
        must still answer afterwards. ``what`` names the frame for the verdict."""
        __tracebackhide__ = True
        sent = await client.send(frame)
        answer = await self.next_answer(client, sent, what)
        if answer.category is not Category.ERROR:
            self.violated(
                f"{what} was answered with #{answer.seq} {answer.type} {answer.content[:80]!r}, "
                "not with an error"
            )
        await self.expect_open(client, f"after answering {what}")
        self.evidence = f"answered: #{answer.seq} {answer.type} {answer.content[:60]!r}"
        return answer

    async def next_answer(self, client: ProbeClient, sent: Message, what: str) -> Message:
        """The first message after ``sent``, within the answer time; silence or a dropped
        socket is a violation."""
        __tracebackhide__ = True
        try:
            return await client.wait_for(
                lambda m: m.direction == "received",
                since=sent,
                timeout=self.answer_time,
                description=f"an answer to {what}",
            )
        except FlowTimeoutError:
            self.violated(f"{what} got no answer within {self.answer_limit:g} s: silence")
        except WaitAbortedError as exc:
            self.violated(f"{what} got no answer: {exc.message}")

    async def expect_open(self, client: ProbeClient, when: str) -> None:
        """The socket must still be open (it answers a ping)."""
        __tracebackhide__ = True
        if not await client.ping(self.answer_limit):
            closed = client.waiter.closed
            why = closed.message if closed is not None else "no pong"
            self.violated(f"the socket did not stay open {when}: {why}")

    async def start(self, client: ProbeClient) -> Message:
        """Start the run's flow; returns the ``run_flow`` frame sent."""
        return await client.send({"type": "run_flow", "flow": self.flow, "prompt": self.prompt})

    async def first_prompt(self, client: ProbeClient, sent: Message) -> Message:
        """The flow's first prompt after ``sent``; its absence is a violation."""
        __tracebackhide__ = True
        try:
            return await client.wait_for_ui_message(since=sent)
        except (FlowTimeoutError, WaitAbortedError) as exc:
            self.violated(f"the flow {self.flow!r} never asked its first prompt: {exc.message}")

    async def run_to_end(self, client: ProbeClient) -> int:
        """Run the flow to its end, confirming every prompt; returns the seq it started after."""
        __tracebackhide__ = True
        start = (await self.start(client)).seq - 1
        try:
            async with ResponseSimulator().attached(client):
                await client.wait_for_completion(since=start)
        except (FlowTimeoutError, WaitAbortedError) as exc:
            self.violated(f"the flow {self.flow!r} did not run to its end: {exc.message}")
        return start

    async def run_traffic(self, client: ProbeClient) -> tuple[int, str]:
        """Run the flow, confirming every prompt, until it ends or has sent :data:`SAMPLE`
        messages; returns the seq it started after and how the run was cut short, if it was.
        A run that sends nothing at all is a violation."""
        __tracebackhide__ = True
        start = (await self.start(client)).seq - 1

        def enough(message: Message) -> bool:
            if message.direction != "received":
                return False
            so_far = [m for m in self.received(client, start) if m.seq <= message.seq]
            return message.is_flow_completed or len(so_far) >= SAMPLE

        try:
            async with ResponseSimulator().attached(client):
                end = await client.wait_for(
                    enough, since=start, description=f"the end of the flow or {SAMPLE} messages"
                )
        except (FlowTimeoutError, WaitAbortedError) as exc:
            if not self.received(client, start):
                self.violated(f"the flow {self.flow!r} sent nothing: {exc.message}")
            return start, f" (the flow neither ended nor sent {SAMPLE} messages: {exc.message})"
        return start, "" if end.is_flow_completed else f" (the first {SAMPLE}; it had not ended)"

    async def settle(self, client: ProbeClient) -> None:
        """Let the server finish what it is sending: a probe after it is answered (or the
        answer time passes, for a server that answers no probe)."""
        sent = await client.send({"type": PROBE_TYPE})
        with contextlib.suppress(FlowTimeoutError, WaitAbortedError):
            await client.wait_for(
                lambda m: m.direction == "received" and m.category is Category.ERROR,
                since=sent,
                timeout=self.answer_time,
                description="the answer to a probe",
            )

    def reply(self, **fields: Any) -> dict[str, Any]:
        """A ``manager_response`` frame with ``fields`` (and a message id where the dialect
        has them)."""
        message: dict[str, Any] = {"type": "manager_response", **fields}
        if self.dialect.reply_ids:
            message["message_id"] = uuid.uuid4().hex
        return message

    @staticmethod
    def received(client: FlowTestClient, since: int = 0) -> list[Message]:
        """What ``client`` received after ``since``."""
        return [m for m in client.collector.since(since) if m.direction == "received"]

    @staticmethod
    def frame(data: Any) -> str:
        """``data`` as the JSON text it is sent as."""
        return json.dumps(data)
