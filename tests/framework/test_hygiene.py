"""No server is left behind when a test run is interrupted (Ctrl-C), terminated or killed."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HANGING_TEST = """
from flowwright import FlowTestClient

async def test_hangs(flow_server):
    print(f"SERVER_PID={flow_server.pid}", flush=True)
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", "What is the hate speech policy?")
        await client.wait_for_completion(timeout=60)  # the prompt is never answered
"""


def exits_within(pid: int, timeout: float) -> bool:
    """Wait for any process (not only a child) to exit, by its pidfd: no polling."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"]
)
def test_an_interrupted_run_leaves_no_server(tmp_path: Path, sig: signal.Signals) -> None:
    (tmp_path / "test_hang.py").write_text(HANGING_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-s", "-p", "no:cacheprovider", "test_hang.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert run.stdout is not None
    pid = None
    for line in run.stdout:  # blocks until the test has started the server and says so
        if match := re.search(rb"SERVER_PID=(\d+)", line):  # after pytest's "test_hang.py "
            pid = int(match.group(1))
            break
    assert pid is not None, "the inner test never reported its server"
    assert not exits_within(pid, 0)  # the server is up while the test hangs
    started = time.monotonic()
    run.send_signal(sig)
    output, _ = run.communicate(timeout=30)
    assert time.monotonic() - started < 10, output.decode()[-2000:]
    if sig == signal.SIGINT:
        assert b"KeyboardInterrupt" in output
    assert exits_within(pid, 10), f"server {pid} outlived the interrupted test run"
