"""Fault injection: each fault really happens, and only when asked for."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from flowwright.protocol import Envelope, Malformed, TaskUpdate
from flowwright_demo.faults import MALFORMED_FRAME
from tests.demo._client import DemoClient, of_type, open_client, start_server, timeline
from tests.timing import scaled

QUESTION = "Is hate speech against migrants allowed?"


async def confirm_and_finish(client: DemoClient, timeout: float = 10) -> None:
    await client.prompt()
    await client.answer(confirm=True)
    await client.until(of_type("system_update", status="finished"), timeout)


async def test_agent_error_is_reported_and_the_flow_goes_on(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION, fault={"agent_error": "researcher"})
    await confirm_and_finish(client)

    events = timeline(client.messages)
    i = events.index("started:researcher")
    assert events[i : i + 3] == ["started:researcher", "error:researcher", "complete:researcher"]
    error, complete = client.messages[i + 1], client.messages[i + 2]
    assert isinstance(error, Envelope)
    assert isinstance(complete, Envelope)
    assert isinstance(error.outputs, dict)
    assert "agent_error" in error.outputs["content"]
    assert TaskUpdate.model_validate(complete.outputs).is_error
    assert "research_result" not in events
    assert "complete:policy_analyst" in events, "the remaining steps still run"
    assert events[-2:] == ["flow_completed", "progress:finished"]


async def test_malformed_frame_arrives_and_the_flow_completes(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION, fault={"malformed_frame": True})
    await confirm_and_finish(client)
    malformed = [m for m in client.messages if isinstance(m, Malformed)]
    assert [m.raw for m in malformed] == [MALFORMED_FRAME]
    assert timeline(client.messages)[:2] == ["flow_started", "malformed"]


async def test_slow_agent_takes_its_time(client: DemoClient) -> None:
    await client.run_flow(
        "osb", prompt=QUESTION, fault={"slow_agent": "policy_analyst", "seconds": 0.4}
    )
    await client.prompt()
    await client.answer(confirm=True)
    await client.until(of_type("system_update", status="started", role="policy_analyst"))
    began = time.monotonic()
    await client.until(of_type("system_update", status="complete", role="policy_analyst"))
    assert time.monotonic() - began >= 0.35
    await client.until_completed()


async def test_halt_during_a_slow_agent_ends_the_flow_promptly(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION, fault={"slow_agent": "researcher", "seconds": 60})
    await client.prompt()
    await client.answer(confirm=True)
    await client.until(of_type("system_update", status="started", role="researcher"))
    began = time.monotonic()
    await client.answer(halt=True)
    await client.until_completed(timeout=3)
    assert time.monotonic() - began < scaled(2)


async def test_exit_after_kills_the_process_with_the_code(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        async with open_client(server) as client:
            await client.run_flow("osb", prompt=QUESTION, fault={"exit_after": 3, "exit_code": 70})
            with contextlib.suppress(ConnectionClosed):
                await client.until(lambda _: False, timeout=10)
        assert timeline(client.messages) == [
            "flow_started",
            "joined:researcher",
            "joined:policy_analyst",
        ]
        assert server.wait_exited(10) == 70
    finally:
        server.stop()


async def test_flow_yaml_faults_apply_to_every_run(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "flows").mkdir(parents=True)
    (conf / "test").mkdir()  # the overlay allows faults, as the package's own does
    (conf / "test" / "server.yaml").write_text("allow_faults: true\n")
    (conf / "flows" / "fragile.yaml").write_text(
        "kind: chat\n"
        "description: an assistant that always fails\n"
        "agents: [{role: assistant, name: A, description: fails}]\n"
        "faults: {agent_error: assistant}\n"
    )
    server = start_server(tmp_path, "--conf-dir", str(conf))
    try:
        async with open_client(server) as client:
            await client.run_flow("fragile", prompt="hello")
            await client.prompt()
            await client.answer(content="done")
            await client.until_completed()
        assert "error:assistant" in timeline(client.messages)
    finally:
        assert server.stop() == 0
