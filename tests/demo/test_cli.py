"""The server process: URL line on stdout, clean exit on SIGTERM, refusal of bad config."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flowwright.runner import DEFAULT_COMMAND
from flowwright_demo.__main__ import _listen
from flowwright_demo.settings import default_conf_dir
from tests.demo._client import TIMEOUT, open_client, start_server


def test_prints_only_its_url_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*DEFAULT_COMMAND, "--storage", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+\n", line), line
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stdout == ""
    assert "flowwright_demo = storage" in stderr, "the test config logs to stderr"


def test_a_storage_directory_of_its_own_is_removed_at_exit(tmp_path: Path) -> None:
    # Run as the README and the MCP guide run it (no --storage, no $FLOWWRIGHT_STORAGE): each
    # run once left a flowwright-demo-* directory in the temp dir, hundreds a day.
    env = {name: value for name, value in os.environ.items() if name != "FLOWWRIGHT_STORAGE"}
    env["TMPDIR"] = str(tmp_path)
    with subprocess.Popen(
        DEFAULT_COMMAND, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as server:
        try:
            assert server.stdout is not None
            assert server.stdout.readline().startswith("http://127.0.0.1:")
            [storage] = tmp_path.iterdir()  # while it runs, its storage is there
            assert storage.name.startswith("flowwright-demo-")
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=TIMEOUT) == 0
        finally:
            server.kill()
    stdio = subprocess.run(  # the MCP server on stdio ends at the end of its input
        [sys.executable, "-m", "flowwright_demo", "--mcp-stdio", "--config", "test"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert stdio.returncode == 0, stdio.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_shuts_down_cleanly_mid_flow(tmp_path: Path, sig: signal.Signals) -> None:
    server = start_server(tmp_path)
    async with open_client(server) as client:
        await client.run_flow("osb", prompt="Is hate speech allowed?")
        await client.prompt()
        assert server.pid is not None
        os.kill(server.pid, sig)
        code = await asyncio.to_thread(server.wait_exited, TIMEOUT)
    assert code == 0, server.describe(30)
    log = (tmp_path / "output.log").read_text()  # the runner's capture of stdout and stderr
    for prefix in "<>=":  # received, sent, state
        assert re.search(rf" DEBUG flowwright_demo\.\w+ {prefix} ", log), prefix


@pytest.mark.parametrize(
    ("server_yaml", "expected"),
    [
        ("max_frame_byts: 10\n", ["server.yaml", "max_frame_byts"]),
        ("llm: gpt-9\n", ["server.llm", "unknown LLM 'gpt-9'"]),
    ],
)
def test_bad_config_exits_2_saying_why(
    tmp_path: Path, server_yaml: str, expected: list[str]
) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "osb.yaml").write_text(
        (default_conf_dir() / "flows" / "osb.yaml").read_text()
    )
    (tmp_path / "server.yaml").write_text(server_yaml)
    result = subprocess.run(
        [sys.executable, "-m", "flowwright_demo", "--port", "0", "--conf-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "configuration error" in result.stderr
    for part in expected:
        assert part in result.stderr


def test_a_busy_port_exits_3_saying_why(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "flowwright_demo",
                "--port",
                str(port),
                "--storage",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 3,
            check=False,
        )
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


async def test_its_connections_send_small_frames_at_once() -> None:
    """Nagle's algorithm is off on the connections the server accepts (``TCP_NODELAY``), as
    asyncio sets it for sockets it knows are TCP; with it on, a burst of frames waited ~40 ms
    for the client's delayed ACK at every turn of a flow."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    listener = _listen("127.0.0.1", 0)
    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        assert await asyncio.wait_for(accepted, TIMEOUT) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
