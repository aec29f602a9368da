"""Replay: a recorded Buttermilk session served over a real WebSocket, and tested like a
live Buttermilk server (the ``buttermilk`` dialect), through the fixture and the command."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from flowwright import (
    Category,
    ClientStateError,
    FlowTestClient,
    FlowTimeoutError,
    FlowwrightWarning,
    ProtocolError,
)
from flowwright.recording import load_recording
from flowwright.replay import ReplayServer, parse_speed

MOCK = Path(__file__).parents[1] / "data" / "buttermilk" / "mock-session.jsonl"
QUESTION = "Is this post hate speech?"
Replay = Callable[..., Awaitable[ReplayServer]]


def client_for(server: ReplayServer) -> FlowTestClient:
    return FlowTestClient.create(server.ws_url, server=server, dialect="buttermilk", timeout=10)


async def test_the_recorded_session_reads_as_buttermilk_meant_it(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)
    async with client_for(server) as client:
        await client.start_flow("mock", QUESTION)
        results = await client.wait_for_agent_results(["judge"])  # JUDGE, by its description
        for _ in range(3):
            await client.wait_for_ui_message()
            await client.send_manager_response("Yes, please proceed")
        # The last segment holds three agent errors: none aborts a wait (they are notices).
        last = await client.wait_for(lambda m: m.seq == 64, description="the 60th frame")

    assert {m.role for m in results} == {"JUDGE"}
    counts = client.collector.counts()
    assert counts["malformed"] == 0
    assert counts["error"] == 5  # recorded, shown, not fatal
    received = client.collector.filter(direction="received")
    assert len(received) == 60
    assert last.type == "differences"
    assert "JUDGE" in client.metrics.steps  # step progress without a task status
    replies = client.collector.filter(type="manager_response", direction="sent")
    assert all("message_id" not in json.loads(m.raw) for m in replies)  # Buttermilk drops them


async def test_a_flow_the_server_does_not_offer_fails_at_once(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)
    async with client_for(server) as client:
        with pytest.raises(ProtocolError, match=r"no flow 'osb': GET /api/flows lists \['mock'\]"):
            await client.start_flow("osb", QUESTION)


async def test_a_second_run_on_one_socket_is_refused(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)
    async with client_for(server) as client:
        await client.start_flow("mock", QUESTION)
        with pytest.raises(ClientStateError, match="one flow per socket"):
            await client.start_flow("mock", QUESTION)


async def test_a_flow_that_never_ends_times_out_on_completion(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)
    async with client_for(server) as client:
        await client.start_flow("mock", QUESTION)
        with pytest.raises(FlowTimeoutError, match="waiting for the end of the flow"):
            await client.wait_for_completion(timeout=0.3)


async def test_a_reconnect_without_resume_warns_of_the_gap(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)
    async with client_for(server) as client:
        await client.start_flow("mock", QUESTION)
        await client.wait_for_ui_message()
        last = client.collector.filter(direction="received")[-1]
        client.cut_connection()
        with pytest.warns(FlowwrightWarning, match="may be missing") as warned:
            await client.reconnect()
        assert f"after #{last.seq} (message_id {last.envelope.message_id})" in str(  # type: ignore[union-attr]
            warned[0].message
        )
        notes = client.collector.filter(category=Category.NOTE, direction="note")
        assert [note.type for note in notes] == ["cut", "reconnect", "reconnect"]
        assert "may be missing" in notes[1].content


async def test_closing_mid_flow_halts_it(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)
    async with client_for(server) as client:
        await client.start_flow("mock", QUESTION)
        await client.wait_for_ui_message()
    halt = client.collector.filter(direction="sent")[-1]
    assert json.loads(halt.raw)["halt"] is True


async def test_rest_paths_answer_as_recorded(flow_replay: Replay) -> None:
    server = await flow_replay(MOCK)

    def get(path: str) -> dict[str, object]:
        with urllib.request.urlopen(server.base_url + path, timeout=5) as response:
            # one Content-Type: a second (text/plain) one was sent too, and read first
            assert response.headers.get_all("Content-Type") == ["application/json"], path
            return json.loads(response.read())  # type: ignore[no-any-return]

    assert await asyncio.to_thread(get, "/api/flows") == {"flow_choices": ["mock"]}
    assert (await asyncio.to_thread(get, "/health"))["status"] == "ok"
    assert "session_id" in await asyncio.to_thread(get, "/api/session")


@pytest.mark.parametrize("speed", ["fast", "0", "-1", "inf"])
def test_a_speed_that_is_not_a_positive_number_or_max_is_named(speed: str) -> None:
    # "fast" once gave float()'s bare "could not convert string to float: 'fast'"
    with pytest.raises(
        ValueError, match=rf"^speed must be a positive number or 'max', not '{speed}'$"
    ):
        parse_speed(speed)


def test_a_recording_with_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"direction": "sent", "frame": "{}"}\n{"direction": "sideways"}\n')
    with pytest.raises(ProtocolError, match=r"bad\.jsonl:2: not a recording line: direction must"):
        load_recording(bad)


def test_the_command_serves_a_session_to_a_whole_suite(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        """
        from flowwright import FlowTestClient

        async def test_against_the_replay():
            async with FlowTestClient.create() as client:
                await client.start_flow("mock", "Is this post hate speech?")
                results = await client.wait_for_agent_results(["judge"], timeout=10)
            assert results[0].type == "judge_reasons"
        """
    )
    command = f"{sys.executable} -m flowwright.cli replay {MOCK} --port {{port}} --speed max"
    result = pytester.runpytest_subprocess(
        f"--flow-server-cmd={command}", "--flow-dialect=buttermilk"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["flowwright: server *flowwright.cli replay*; dialect buttermilk;*"]
    )


def test_a_recorded_run_replays_to_the_same_end(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """--flow-record writes the reference server's run; replayed, the same test passes."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        """
        from flowwright import FlowTestClient

        async def test_osb():
            async with FlowTestClient.create() as client:
                await client.start_flow("osb", "What is the hate speech policy?")
                await client.wait_for_ui_message(pattern="proceed")
                await client.send_manager_response("Yes, please proceed")
                await client.wait_for_agent_results(["researcher", "policy_analyst"])
                await client.wait_for_completion()
        """
    )
    records = tmp_path / "records"
    pytester.runpytest_subprocess(f"--flow-record={records}").assert_outcomes(passed=1)
    (recording,) = records.iterdir()
    assert recording.name == "test_a_recorded_run_replays_to_the_same_end.py-test_osb.jsonl"
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    assert lines[0] == {
        "direction": "http",
        "path": "/api/flows",
        "body": {"flow_choices": ["chat", "osb"]},
    }
    assert [line["direction"] for line in lines[1:3]] == ["sent", "received"]

    command = f"{sys.executable} -m flowwright.cli replay {recording} --port {{port}} --speed 10"
    pytester.runpytest_subprocess(f"--flow-server-cmd={command}").assert_outcomes(passed=1)


def test_the_command_refuses_a_hostile_recording_naming_file_and_line(tmp_path: Path) -> None:
    """Not UTF-8 on line 2: exit 2 and one line saying where, no traceback."""
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"direction": "sent", "frame": "{}"}\n\xff\xfe\n')
    done = subprocess.run(
        [sys.executable, "-m", "flowwright.cli", "replay", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"flowwright replay: {bad}:2: not a recording line: 'utf-8'")
    assert "Traceback" not in done.stderr
