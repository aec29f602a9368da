"""Whole flows against the reference server: concurrent runs, and the quick start.

The server is the one flow tests get: ``TestFlowRunner()``'s default command, i.e.
``python -m flowwright_demo --port 0 --config test``. That configuration logs every frame at
DEBUG level (to stderr, which the runner copies to its log file); the figures include that
cost on purpose, and :class:`ServerLog` says how much was written.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import connect

from bench.timing import timed
from flowwright import (
    FlowTestClient,
    FlowwrightError,
    Message,
    ResponseSimulator,
    TestFlowRunner,
)
from flowwright.context import Settings, TestScope, entered

__all__ = [
    "Concurrency",
    "FlowRun",
    "QuickStart",
    "ServerLog",
    "concurrency",
    "describe_error",
    "quick_start",
    "reference_server",
]

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What is the hate speech policy?"
_FLOW_TIMEOUT = 120.0


def reference_server(workdir: Path, name: str) -> TestFlowRunner:
    """A runner for the reference server as tests get it, its storage and log in ``workdir``."""
    storage = workdir / name / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    return TestFlowRunner(
        env={"FLOWWRIGHT_STORAGE": str(storage)}, log_path=workdir / name / "server.log"
    )


def describe_error(exc: BaseException) -> str:
    """The first line of an error: flowwright's diagnostics are too long for a report."""
    text = str(exc).splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


# --------------------------------------------------------------------- concurrent flows


def _finished(message: Message) -> bool:
    """The very last message of a run (``progress:finished``, after ``flow_completed``)."""
    outputs = message.outputs
    return (
        message.type == "system_update"
        and isinstance(outputs, dict)
        and (outputs.get("status") == "finished")
    )


def _step(message: Message) -> str:
    """What a message is in the flow's sequence, independent of ids, times and text."""
    outputs = message.outputs if isinstance(message.outputs, dict) else {}
    status = outputs.get("status", "")
    return f"{message.direction} {message.type} {message.role or '-'} {status}".rstrip()


def _by_direction(steps: list[str]) -> tuple[list[str], list[str]]:
    """Received and sent steps apart: a reply may cross a frame already in flight (the
    ``progress:waiting`` right after a prompt), so only each direction's order is fixed."""
    return (
        [step for step in steps if step.startswith("received")],
        [step for step in steps if step.startswith("sent")],
    )


@dataclass
class FlowRun:
    """One osb run, confirmed by a simulator, as its client recorded it."""

    session_id: str
    seconds: float
    steps: list[str]
    message_ids: list[str]
    error: str | None = None


async def _run_osb(client: FlowTestClient) -> FlowRun:
    """Run osb to its last message on a connected client (the simulator confirms)."""
    error = None
    with timed() as span:
        try:
            await client.converse(ResponseSimulator(), flow="osb", prompt=QUESTION, until=_finished)
        except FlowwrightError as exc:
            error = describe_error(exc)
    received = [m for m in client.collector if m.direction == "received"]
    return FlowRun(
        session_id=client.session_id,
        seconds=span.seconds,
        steps=[_step(m) for m in client.collector],
        message_ids=[m.envelope.message_id or "" for m in received if m.envelope],
        error=error,
    )


async def _run_flows(url: str, count: int) -> tuple[float, list[FlowRun]]:
    """``count`` clients connect, then all run at once; the wall time of the runs alone."""
    clients = [FlowTestClient(url, timeout=_FLOW_TIMEOUT) for _ in range(count)]
    try:
        await asyncio.gather(*(client.connect() for client in clients))
        with timed() as wall:
            runs = await asyncio.gather(*(_run_osb(client) for client in clients))
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return wall.seconds, runs


def _sent_by_server(storage: Path, session_id: str) -> list[str] | None:
    """The message ids the server's transcript says it sent to a session (None: no file)."""
    path = storage / f"session-{session_id}.jsonl"
    if not path.exists():
        return None
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("dir") == ">":
            frame = json.loads(entry["frame"])
            ids.append(frame.get("message_id", ""))
    return ids


@dataclass
class ServerLog:
    """What the server's debug log cost in volume during a measure."""

    lines: int
    bytes: int


@dataclass
class Concurrency:
    """``count`` concurrent osb runs compared with lone runs on the same warm server."""

    count: int
    lone_seconds: list[float]
    wall_seconds: float
    per_flow_seconds: list[float]
    expected_steps: list[str]
    completed: int
    lost: int
    duplicates: int
    checked_against_server: int
    errors: list[str] = field(default_factory=list)
    server_log: ServerLog | None = None


def _log_volume(path: Path | None) -> tuple[int, int]:
    if path is None or not path.exists():
        return 0, 0
    data = path.read_bytes()
    return data.count(b"\n"), len(data)


async def concurrency(server: TestFlowRunner, count: int, lone_runs: int) -> Concurrency:
    """Lone runs first (after a warm-up run), then ``count`` at once; every run is checked.

    A run is complete when it ended without error, its steps equal the lone run's, it got
    every message id once, and — where the server's transcript is there to compare — exactly
    the ids the server says it sent to that session.
    """
    storage = Path(server.env["FLOWWRIGHT_STORAGE"])
    lone: list[FlowRun] = []
    for _ in range(lone_runs + 1):
        lone += (await _run_flows(server.ws_url, 1))[1]
    reference = lone[-1]
    if reference.error is not None:
        raise RuntimeError(f"a lone osb run failed, nothing to compare with: {reference.error}")
    lines_before, bytes_before = _log_volume(server.log_path)
    wall, runs = await _run_flows(server.ws_url, count)
    lines_after, bytes_after = _log_volume(server.log_path)
    result = Concurrency(
        count=count,
        lone_seconds=[run.seconds for run in lone[1:]],
        wall_seconds=wall,
        per_flow_seconds=[run.seconds for run in runs],
        expected_steps=reference.steps,
        completed=0,
        lost=0,
        duplicates=0,
        checked_against_server=0,
        server_log=ServerLog(lines_after - lines_before, bytes_after - bytes_before),
    )
    expected_received = sum(1 for step in reference.steps if step.startswith("received"))
    for run in runs:
        sent = _sent_by_server(storage, run.session_id)
        unique = set(run.message_ids)
        result.duplicates += len(run.message_ids) - len(unique)
        if sent is None:
            lost = max(expected_received - len(unique), 0)
        else:
            result.checked_against_server += 1
            lost = len(set(sent) - unique)
        result.lost += lost
        if run.error is not None:
            result.errors.append(f"{run.session_id}: {run.error}")
        elif _by_direction(run.steps) != _by_direction(reference.steps):
            result.errors.append(f"{run.session_id}: steps differ from the lone run's: {run.steps}")
        elif lost == 0 and len(unique) == len(run.message_ids):
            result.completed += 1
    return result


# --------------------------------------------------------------------- quick start


async def _raw_quick_start(ws_url: str) -> None:
    """The quick start's steps with bare ``websockets``: the baseline for its test time."""
    agents = {"researcher", "policy_analyst"}
    async with connect(f"{ws_url}/ws/{uuid.uuid4().hex}") as ws:
        await ws.send(json.dumps({"type": "run_flow", "flow": "osb", "prompt": QUESTION}))
        async for frame in ws:
            if json.loads(frame)["type"] == "ui_message":
                break
        await ws.send(json.dumps({"type": "manager_response", "confirm": True}))
        async for frame in ws:
            message = json.loads(frame)
            role = (message.get("agent_info") or {}).get("role")
            if message["type"] in ("research_result", "chat_message"):
                agents.discard(role)
            if not agents:
                return


def _quick_start_test() -> Callable[[], Awaitable[None]]:
    """``examples/test_quickstart.py``'s test function, exactly as the README shows it."""
    spec = importlib.util.spec_from_file_location(
        "flowwright_quickstart", ROOT / "examples" / "test_quickstart.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test: Callable[[], Awaitable[None]] = module.test_osb_flow
    return test


@dataclass
class QuickStart:
    """The quick-start test on a warm server, and the same steps on a bare socket."""

    flowwright_seconds: list[float]
    raw_seconds: list[float]


async def quick_start(server: TestFlowRunner, runs: int) -> QuickStart:
    """Alternate the two ``runs + 1`` times (the first of each is a warm-up, dropped).

    The test calls ``FlowTestClient.create()`` with no URL, so it runs in a scope whose
    server is this one, as the pytest plugin would give it.
    """
    test = _quick_start_test()
    result = QuickStart([], [])
    with entered(TestScope("bench", settings=Settings(server=lambda: server))):
        for _ in range(runs + 1):
            with timed() as fw:
                await test()
            with timed() as raw:
                await _raw_quick_start(server.ws_url)
            result.flowwright_seconds.append(fw.seconds)
            result.raw_seconds.append(raw.seconds)
    del result.flowwright_seconds[0], result.raw_seconds[0]
    return result
