"""A dialect of one's own: a server with type names nobody else uses works with every wait."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from flowwright import (
    Category,
    Dialect,
    FlowEndedError,
    FlowErrorEvent,
    FlowTestClient,
    ResponseSimulator,
)
from flowwright.protocol import Envelope
from flowwright.replay import ReplayServer

Replay = Callable[..., Awaitable[ReplayServer]]


def _fatal(envelope: Envelope) -> bool:
    outputs = envelope.outputs if isinstance(envelope.outputs, dict) else {}
    return outputs.get("severity") == "fatal"


HIVE = Dialect(
    name="hive",
    types={
        "hive.question": Category.PROMPT,
        "hive.work": Category.RESULT,
        "hive.tick": Category.PROGRESS,
        "hive.trouble": Category.ERROR,
        "hive.news": Category.LIFECYCLE,
    },
    ends_flow=lambda envelope: envelope.type == "hive.news" and envelope.outputs == {"end": 1},
    fatal=_fatal,
    flows_path=None,  # this server lists no flows
    resumable=False,
    reply_ids=False,
)


def frame(type_: str, outputs: object, bee: str | None = None) -> str:
    data: dict[str, object] = {"type": type_, "outputs": outputs}
    if bee is not None:
        data["agent_info"] = {"agent_id": f"{bee.upper()}-1", "agent_name": bee}
    return json.dumps(data)


def recording(tmp_path: Path, *, trouble: str = "minor") -> Path:
    sent = json.dumps({"type": "run_flow", "flow": "gather", "prompt": "nectar?"})
    reply = json.dumps({"type": "manager_response", "confirm": True})
    lines = [
        {"direction": "sent", "frame": sent},
        {"direction": "received", "frame": frame("hive.news", {"content": "started"})},
        {
            "direction": "received",
            "frame": frame("hive.question", {"content": "Fly?", "options": True}),
        },
        {"direction": "sent", "frame": reply},
        {
            "direction": "received",
            "frame": frame("hive.tick", {"agent_id": "SCOUT-1", "status": "started"}),
        },
        {
            "direction": "received",
            "frame": frame("hive.trouble", {"content": "wind", "severity": trouble}),
        },
        {
            "direction": "received",
            "frame": frame("hive.work", {"content": "clover field"}, "scout"),
        },
        {
            "direction": "received",
            "frame": frame("hive.tick", {"agent_id": "SCOUT-1", "status": "complete"}),
        },
        {
            "direction": "received",
            "frame": frame("hive.work", {"content": "42 flowers"}, "forager"),
        },
        {"direction": "received", "frame": frame("hive.news", {"end": 1})},
    ]
    path = tmp_path / "hive.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


async def test_every_wait_reads_the_servers_own_words(flow_replay: Replay, tmp_path: Path) -> None:
    server = await flow_replay(recording(tmp_path))
    async with FlowTestClient.create(server.ws_url, server=server, dialect=HIVE, timeout=5) as bee:
        async with bee.expect(category="lifecycle", pattern="started") as started:
            await bee.start_flow("gather", "nectar?")
        prompt = await bee.wait_for_ui_message(pattern="fly")
        assert prompt.options == ["confirm", "reject"]
        await bee.send_manager_response("yes")  # an affirmative at a confirm prompt
        results = await bee.wait_for_agent_results(["scout", "FORAGER"])  # any case
        tick = await bee.wait_for(category="progress", agent="scout", since=0)
        end = await bee.wait_for_completion()

    assert started.value.type == "hive.news"
    assert json.loads(bee.collector.filter(direction="sent")[-1].raw)["confirm"] is True
    assert [m.content for m in results] == ["clover field", "42 flowers"]
    assert tick.task is not None
    assert tick.task.status == "started"
    assert end.outputs == {"end": 1}
    assert bee.collector.counts()["error"] == 1  # a minor trouble: a notice, recorded
    assert "SCOUT-1" in bee.metrics.steps


async def test_the_dialects_fatal_errors_fail_waits_and_its_end_ends_them(
    flow_replay: Replay, tmp_path: Path
) -> None:
    server = await flow_replay(recording(tmp_path, trouble="fatal"))
    async with FlowTestClient.create(server.ws_url, server=server, dialect=HIVE, timeout=5) as bee:
        simulator = ResponseSimulator()
        with pytest.raises(FlowErrorEvent, match=r"^wind \(\[unknown source\] error #6"):
            await bee.converse(simulator, flow="gather", prompt="nectar?")
        assert simulator.history[0].prompt.content == "Fly?"
        with pytest.raises(FlowEndedError, match=r"the flow ended .* without results from"):
            await bee.wait_for_agent_results(["drone"], since=6)  # after the error
