"""Hygiene of the suite: no server is left behind when a test run is interrupted (Ctrl-C),
terminated or killed; no upper bound on elapsed wall-clock time goes unscaled."""

from __future__ import annotations

import ast
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.timing import scaled

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
    assert time.monotonic() - started < scaled(10), output.decode()[-2000:]
    if sig == signal.SIGINT:
        assert b"KeyboardInterrupt" in output
    assert exits_within(pid, scaled(10)), f"server {pid} outlived the interrupted test run"


HANGING_WORKERS = """
from flowwright import FlowTestClient

async def hang(flow_server):
    with open({fifo!r}, "w") as started:  # blocks until the outer test reads it
        started.write(f"{{flow_server.pid}}\\n")
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", "What is the hate speech policy?")
        await client.wait_for_completion(timeout=60)  # the prompt is never answered

async def test_one(flow_server):
    await hang(flow_server)

async def test_two(flow_server):
    await hang(flow_server)
"""


def test_ctrl_c_under_xdist_leaves_one_named_directory_and_no_server(tmp_path: Path) -> None:
    """Interrupted workers never report what they kept: their workdirs live inside the run's,
    which the controller names, and their servers go with them."""
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    (tmp_path / "test_hang.py").write_text(HANGING_WORKERS.format(fifo=str(fifo)))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "test_hang.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, which a terminal's Ctrl-C reaches
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    # Each worker's test says its server is up. Opened for writing too, so the pipe never
    # reads as ended between the two; a test that never says so fails here, not hangs.
    said = b""
    started = os.open(fifo, os.O_RDWR)
    try:
        while said.count(b"\n") < 2:
            assert select.select([started], [], [], scaled(30))[0], f"started: {said!r}"
            said += os.read(started, 4096)
        pids = [int(pid) for pid in said.split()]
        assert not any(exits_within(pid, 0) for pid in pids)  # both servers up, tests hanging
        os.killpg(run.pid, signal.SIGINT)
        output = run.communicate(timeout=scaled(30))[0].decode()
    finally:
        os.close(started)
        if run.poll() is None:  # the test failed before the run ended: leave nothing running
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
    assert all(exits_within(pid, scaled(10)) for pid in pids), output[-2000:]
    header = re.search(r"; workdir (\S+)", output)
    assert header is not None, output
    kept = re.findall(r"flowwright: kept (\S+) \(server logs", output)
    assert kept == [header.group(1)], output[-2000:]  # one line: the run's own directory
    try:
        logs = Path(kept[0]).glob("*/session/server.log")
        assert sorted(log.relative_to(kept[0]).parts[0] for log in logs) == ["gw0", "gw1"]
    finally:
        shutil.rmtree(kept[0])


# ---------------------------------------------------------------- unscaled wall-clock bounds

ROOT = Path(__file__).parents[2]
SCANNED = [ROOT / "tests", ROOT / "examples", ROOT / "src" / "flowwright" / "conformance"]
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns"}
"""``time.monotonic()``, ``loop.time()``...: a call of one of these reads the clock."""
TIMED_ATTRIBUTES = {"duration", "elapsed"}
"""``result.duration``: attributes that hold a measured time."""
SCALERS = {"scaled", "timeout_factor"}
"""A bound that calls ``scaled(...)`` or reads ``settings.timeout_factor`` is scaled."""


def _reads_clock(node: ast.AST, timed_names: set[str]) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            called = inner.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in CLOCKS:
                return True
        if isinstance(inner, ast.Attribute) and inner.attr in TIMED_ATTRIBUTES:
            return True
        if isinstance(inner, ast.Name) and inner.id in timed_names:
            return True
    return False


def _is_fixed(node: ast.AST) -> bool:
    """A bound made of numbers and CONSTANTS only (``1``, ``LONG / 2``), nothing scaled."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and (inner.id in SCALERS or not inner.id.isupper()):
            return False
        if isinstance(inner, ast.Attribute | ast.Call | ast.Subscript):
            return False
        if isinstance(inner, ast.Constant) and not isinstance(inner.value, int | float):
            return False
    return True


def _durations(tree: ast.AST) -> set[str]:
    """Names assigned a clock difference (``sequential = time.monotonic() - began``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        difference = isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.Sub)
        if difference and _reads_clock(node.value, set()):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def unscaled_bounds(source: str) -> Iterator[int]:
    """Line numbers of comparisons that put a fixed upper bound on a measured time."""
    tree = ast.parse(source)
    timed = _durations(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for index, op in enumerate(node.ops):
            left, right = operands[index], operands[index + 1]
            if isinstance(op, ast.Lt | ast.LtE):
                measured, bound = left, right
            elif isinstance(op, ast.Gt | ast.GtE):
                measured, bound = right, left
            else:
                continue
            if _reads_clock(measured, timed) and _is_fixed(bound):
                yield node.lineno


def test_the_scan_finds_unscaled_bounds_and_passes_scaled_ones() -> None:
    found = """
assert time.monotonic() - started < 1
assert 5 > time.perf_counter() - began
took = loop.time() - asked
assert took <= LONG / 2
assert result.duration < 3
"""
    fine = """
assert time.monotonic() - started < scaled(1)
assert time.monotonic() - began >= 0.35
assert result.duration < LONG * settings.timeout_factor / 2
assert loop.time() - asked >= held
assert len(items) < 5
started = time.monotonic()
assert started < deadline
"""
    assert list(unscaled_bounds(found)) == [2, 3, 5, 6]
    assert list(unscaled_bounds(fine)) == []


def test_no_wall_clock_bound_in_the_tests_is_unscaled() -> None:
    """An upper bound on elapsed time holds on a loaded machine only if it is scaled by
    ``--flow-timeout-factor``: ``assert time.monotonic() - started < scaled(1)``
    (tests/timing.py)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in SCANNED
        for path in sorted(folder.rglob("*.py"))
        for line in unscaled_bounds(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"unscaled wall-clock bounds (use tests.timing.scaled): {offenders}"
