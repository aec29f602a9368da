"""The server under a hostile client: thousands of seeded random frames, each answered (a
``system_error``, or the flow it happened to start) or met with a documented close code,
while a normal flow on another socket runs undisturbed and the server stays up."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from flowwright.protocol import Envelope, parse
from flowwright.runner import TestFlowRunner
from tests.demo._client import TIMEOUT, of_type, run_beside, session_url, timeline
from tests.demo._hostile import CLASSES, Frame, hostile_frames

SEED = 20261125
FRAMES = 3000
"""Sent one at a time, each awaited; then the refused ones again, all at once."""

finished = of_type("system_update", status="finished")

PROBE = "[]"
"""A frame whose answer is known: ``expected a JSON object, got list``."""
SILENT = frozenset({"TaskProcessingStarted", "TaskProcessingComplete"})
PULLS = frozenset({"pull_task", "pull_tox"})


def is_probe_answer(message: Envelope) -> bool:
    outputs = message.outputs if isinstance(message.outputs, dict) else {}
    return message.type == "system_error" and outputs.get("content") == (
        "expected a JSON object, got list"
    )


def is_bookkeeping(frame: Frame, types: frozenset[str]) -> bool:
    """Whether ``frame`` is a JSON object of one of Buttermilk's UI bookkeeping ``types``."""
    try:
        data = json.loads(frame.data)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and isinstance(data.get("type"), str) and data["type"] in types


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    """A server with the package's base configuration (faults off, INFO log): a hostile
    client's fault must not be able to stop it."""
    tmp = tmp_path_factory.mktemp("fuzz")
    runner = TestFlowRunner(
        [sys.executable, "-m", "flowwright_demo", "--port", "0"],
        env={"FLOWWRIGHT_STORAGE": str(tmp / "storage")},
        log_path=tmp / "output.log",
    ).start()
    yield runner
    assert runner.stop() == 0, runner.describe(30)


class Hostile:
    """A raw socket that sends one frame and reads what that frame caused."""

    def __init__(self, server: TestFlowRunner) -> None:
        self.server = server
        self.socket: ClientConnection | None = None
        self.answers: list[str] = []
        """The ``system_error`` content each refused frame got, in order."""
        self.refused: list[Frame] = []
        self.flows_started = 0
        self.closes: dict[int, int] = {}
        self.bookkeeping = 0
        """Buttermilk UI bookkeeping frames: logged, answered with at most a notice."""

    async def open(self) -> ClientConnection:
        if self.socket is None:
            url = session_url(self.server, str(uuid.uuid4()))
            self.socket = await connect(url, max_size=None, open_timeout=TIMEOUT)
        return self.socket

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None

    async def send(self, frame: Frame) -> None:
        socket = await self.open()
        await socket.send(frame.data, text=frame.text)
        if frame.close is not None:
            await self._expect_close(socket, frame)
            return
        if is_bookkeeping(frame, SILENT | PULLS):
            # A probe after it: its answer (a system_error) marks where the frame's own
            # answers end, so a frame the protocol lets go unanswered is seen to be so.
            await socket.send(PROBE)
            answers: list[Envelope] = []
            while not is_probe_answer(message := await self._next(socket, frame)):
                answers.append(message)
            if not answers and is_bookkeeping(frame, SILENT):
                self.bookkeeping += 1
                return
            if len(answers) == 1 and answers[0].type == "system_message":
                self.bookkeeping += 1  # "pull_task is not supported by this server: ..."
                return
            answer = answers[0]  # refused (too deep, a bad character): a system_error
        else:
            answer = await self._next(socket, frame)
        if answer.type == "system_error":
            assert isinstance(answer.outputs, dict)
            content = str(answer.outputs.get("content"))
            assert not content.startswith("internal error"), (frame, content)
            self.answers.append(content)
            self.refused.append(frame)
            return
        # The frame was a valid run_flow: stop the flow it started before the next frame.
        self.flows_started += 1
        await socket.send(json.dumps({"type": "manager_response", "halt": True}))
        while not finished(answer):
            answer = await self._next(socket, frame)

    async def _next(self, socket: ClientConnection, frame: Frame) -> Envelope:
        try:
            async with asyncio.timeout(TIMEOUT):
                message = parse(await socket.recv())
        except TimeoutError:
            pytest.fail(f"no answer within {TIMEOUT}s to a {frame.kind} frame: {frame.data!r:.300}")
        except ConnectionClosed as closed:
            pytest.fail(f"the socket closed ({closed}) on a {frame.kind} frame {frame.data!r:.300}")
        assert isinstance(message, Envelope), message
        return message

    async def _expect_close(self, socket: ClientConnection, frame: Frame) -> None:
        with pytest.raises(ConnectionClosed) as caught:
            async with asyncio.timeout(TIMEOUT):
                await socket.recv()
        assert caught.value.rcvd is not None
        assert caught.value.rcvd.code == frame.close, (frame.kind, caught.value)
        self.closes[frame.close] = self.closes.get(frame.close, 0) + 1
        self.socket = None  # the next frame goes on a new socket


async def errors(socket: ClientConnection, count: int) -> list[str]:
    """The contents of the next ``count`` messages, each a ``system_error``; read while the
    frames are sent, or the server, unable to write, would stop reading too."""
    contents: list[str] = []
    async with asyncio.timeout(TIMEOUT * 3):
        while len(contents) < count:
            message = parse(await socket.recv())
            assert isinstance(message, Envelope)
            assert message.type == "system_error", message
            assert isinstance(message.outputs, dict)
            contents.append(str(message.outputs["content"]))
    return contents


async def test_every_hostile_frame_is_answered_and_nothing_else_is_disturbed(
    server: TestFlowRunner,
) -> None:
    frames = hostile_frames(SEED, FRAMES)
    assert {frame.kind for frame in frames} == set(CLASSES), "every class is exercised"
    hostile = Hostile(server)
    stop = asyncio.Event()
    others = asyncio.create_task(run_beside(server, stop))

    began = time.monotonic()
    for frame in frames:
        await hostile.send(frame)
    sequential = time.monotonic() - began

    # The refused frames again, all at once, on a new session (a session drops a reply id it
    # has seen, by design): the same answers, in the same order.
    await hostile.close()
    socket = await hostile.open()
    began = time.monotonic()
    reading = asyncio.create_task(errors(socket, len(hostile.refused)))
    for frame in hostile.refused:
        await socket.send(frame.data, text=frame.text)
    again = await reading
    burst = time.monotonic() - began
    await hostile.close()
    stop.set()
    runs = await others

    print(
        f"\n{FRAMES} frames one by one in {sequential:.2f}s ({FRAMES / sequential:.0f}/s): "
        f"{len(hostile.answers)} refused, {hostile.flows_started} started a flow, "
        f"{hostile.bookkeeping} UI bookkeeping accepted, closes "
        f"{hostile.closes}; {len(again)} refused again at once in {burst:.2f}s "
        f"({len(again) / burst:.0f}/s); {len(runs)} normal flows beside them"
    )
    assert again == hostile.answers
    handled = hostile.flows_started + hostile.bookkeeping + sum(hostile.closes.values())
    assert len(hostile.answers) + handled == FRAMES
    assert hostile.bookkeeping > 0  # Buttermilk's UI frames were in the mix, and accepted
    assert set(hostile.closes) == {1007, 1009}
    for run in runs:
        assert "error:server" not in timeline(run.messages)
        assert timeline(run.messages)[-2:] == ["flow_completed", "progress:finished"]
    assert server.is_running
    async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
        assert (await http.get("/health")).json()["status"] == "ok"
    log = await asyncio.to_thread(Path(str(server.log_path)).read_text, errors="replace")
    for sign in ["Traceback", "internal error", " ERROR "]:
        assert sign not in log, f"{sign!r} in the server log:\n{server.describe(30)}"
