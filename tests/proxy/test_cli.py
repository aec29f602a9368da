"""``flowwright proxy``: the proxy as a process of its own, as a user starts it from a shell."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowwright import FlowTestClient, TestFlowRunner
from flowwright.cli import parse_fault
from flowwright.proxy import Cut, Delay

FLOWWRIGHT = str(Path(sys.executable).parent / "flowwright")  # the installed console script


async def test_the_proxy_command_relays_with_its_faults_and_stops_on_sigterm(
    flow_server: TestFlowRunner,
) -> None:
    command = [
        FLOWWRIGHT,
        "proxy",
        "--target",
        flow_server.ws_url,
        "--port",
        "0",
        "--fault",
        "drop category=result count=1",
    ]
    # It prints "ws://... (HTTP and UI: http://...)", and passes /health on: a server like any.
    with TestFlowRunner(command) as proxy:
        assert proxy.base_url != flow_server.base_url
        async with FlowTestClient.create(server=proxy) as client:
            await client.start_flow("osb", "What is the hate speech policy?")
            await client.wait_for_ui_message()
            await client.send_manager_response("yes")
            await client.wait_for_completion()
        assert not client.collector.filter(category="result")
        line = await asyncio.to_thread(proxy.wait_for_log, r"dropped proxy#\d+ result", 10)
        assert "research_result from researcher" in line
        assert proxy.stop() == 0  # SIGTERM: a clean exit


def test_fault_specs_read_as_the_python_calls_they_stand_for() -> None:
    fault = parse_fault("delay 3 category=result jitter=0.5")
    assert isinstance(fault, Delay)
    assert (fault.seconds, fault.jitter, str(fault.category)) == (3, 0.5, "result")
    assert str(parse_fault("cut after=5")) == "cut(after=5)"
    assert isinstance(parse_fault("cut type=research_result"), Cut)
    with pytest.raises(ValueError, match=r"unknown fault 'explode'.*use one of corrupt, cut"):
        parse_fault("explode")
    with pytest.raises(ValueError, match="fault 'drop sideways=1'"):
        parse_fault("drop sideways=1")


@pytest.mark.parametrize(
    ("spec", "message"),
    [  # each once said "'<' not supported between instances of 'str' and 'int'"
        ("delay abc", "fault 'delay abc': seconds must be a number, not 'abc'"),
        ("delay 1 jitter=x", "fault 'delay 1 jitter=x': jitter must be a number, not 'x'"),
        ("drop count=one", "fault 'drop count=one': count must be a number, not 'one'"),
        ("throttle fast", "fault 'throttle fast': bytes_per_second must be a number, not 'fast'"),
    ],
)
def test_a_fault_given_a_word_for_a_number_says_which(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_fault(spec)
    assert str(parse_fault("corrupt truncate type=research_result")).startswith("corrupt(")


def test_a_bad_fault_or_target_is_a_usage_error() -> None:
    for args, message in (
        (["--target", "ws://127.0.0.1:9", "--fault", "explode"], "unknown fault 'explode'"),
        (["--target", "127.0.0.1:9"], "is not a ws://, wss://, http:// or https:// URL"),
    ):
        done = subprocess.run(
            [FLOWWRIGHT, "proxy", *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        assert message in done.stderr
