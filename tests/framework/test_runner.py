"""TestFlowRunner with real processes: start, health, exit detection, clean stop."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from flowwright import (
    FlowTestClient,
    FlowTimeoutError,
    ServerExitedError,
    ServerStartError,
    TestFlowRunner,
)
from tests.timing import scaled

PORT_SERVER = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"status": "ok"}')
    def log_message(self, *args): pass
print("starting on", sys.argv[1], flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""

SAY_SERVER = """
import http.server, os, sys, urllib.parse
class Say(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/exit":
            os._exit(4)
        for line in urllib.parse.parse_qs(url.query).get("line", []):
            print(line, flush=True)
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"status": "ok"}')
    def log_message(self, *args): pass
print("starting on", sys.argv[1], flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Say).serve_forever()
"""


def refused(base_url: str) -> bool:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_reference_server_starts_healthy_and_stops_cleanly(tmp_path: Path) -> None:
    runner = TestFlowRunner(log_path=tmp_path / "server.log")
    with runner:
        assert runner.is_running
        with urllib.request.urlopen(f"{runner.base_url}/health") as response:
            assert json.loads(response.read())["status"] == "ok"
        assert runner.ws_url.startswith("ws://127.0.0.1:")
    assert runner.returncode == 0  # SIGTERM is a clean shutdown
    assert refused(runner.base_url)
    assert runner.base_url in (tmp_path / "server.log").read_text()


def test_port_placeholder_and_exit_callback(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(PORT_SERVER)
    runner = TestFlowRunner([sys.executable, str(script), "{port}"])
    codes: list[int] = []
    with runner:
        runner.on_exit(codes.append)
        assert runner.log_tail(1) == [f"starting on {runner.base_url.rsplit(':', 1)[1]}"]
        assert runner.kill() == -9
        assert runner.wait_exited(5) == -9
    assert codes == [-9]
    assert "killed by SIGKILL" in runner.describe()


STUBBORN_SERVER = PORT_SERVER.replace(
    "import http.server, sys",
    "import http.server, signal, sys\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)",
)


def test_stop_waits_for_the_exit_with_fds_past_select_s_limit(tmp_path: Path) -> None:
    """A test process holds many sockets (a thousand sessions): the descriptor stop waits on
    is then over 1024, where select() raises ValueError; stop still waits and reports."""
    script = tmp_path / "server.py"
    script.write_text(PORT_SERVER)
    runner = TestFlowRunner([sys.executable, str(script), "{port}"]).start()
    fillers: list[int] = []
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2048)), hard))
    try:
        while not fillers or fillers[-1] < 1100:  # every lower descriptor taken too
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        assert runner.stop() == -signal.SIGTERM
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        runner.stop()


def test_a_server_that_ignores_sigterm_is_killed_after_stop_timeout(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(STUBBORN_SERVER)
    runner = TestFlowRunner([sys.executable, str(script), "{port}"], stop_timeout=0.2).start()
    assert runner.stop() == -signal.SIGKILL


def test_a_server_that_exits_during_startup_is_reported_with_its_log() -> None:
    runner = TestFlowRunner([sys.executable, "-c", "print('config is broken'); exit(3)"])
    with pytest.raises(ServerStartError) as caught:
        runner.start()
    text = str(caught.value)
    assert "server exited during start-up (exit code 3)" in text
    assert "| config is broken" in text


def test_a_silent_server_times_out_and_is_not_left_running() -> None:
    runner = TestFlowRunner(
        [sys.executable, "-c", "import time; time.sleep(60)"], startup_timeout=0.5
    )
    started = time.monotonic()
    with pytest.raises(ServerStartError, match="did not print its URL"):
        runner.start()
    assert time.monotonic() - started < scaled(5)
    assert not runner.is_running


def test_a_missing_program_is_a_start_error() -> None:
    with pytest.raises(ServerStartError, match="could not start the server"):
        TestFlowRunner(["/nonexistent/server"]).start()


async def test_server_killed_mid_flow_fails_the_wait_in_under_a_second() -> None:
    with TestFlowRunner() as runner:
        async with FlowTestClient.create(server=runner) as client:
            await client.start_flow("osb", "What is the hate speech policy?")
            await client.wait_for_ui_message(timeout=30)
            started = time.monotonic()
            with pytest.raises(ServerExitedError) as caught:
                async with client.expect(category="result", timeout=60):
                    runner.kill()
            assert time.monotonic() - started < scaled(1)
    assert caught.value.returncode == -9
    text = str(caught.value)
    assert "the server process exited (killed by SIGKILL) while waiting for result" in text
    assert "server log of session" in text  # the lines naming its session come first


async def test_server_exiting_by_fault_injection_carries_its_exit_code() -> None:
    with TestFlowRunner() as runner:
        async with FlowTestClient.create(server=runner) as client:
            await client.start_flow(
                "osb", "What is the hate speech policy?", fault={"exit_after": 3, "exit_code": 70}
            )
            started = time.monotonic()
            with pytest.raises(ServerExitedError) as caught:
                await client.wait_for_completion(timeout=60)
            assert time.monotonic() - started < scaled(1)
    assert caught.value.returncode == 70
    assert "exit code 70" in str(caught.value)


def say_server(tmp_path: Path) -> TestFlowRunner:
    """A server that prints each ``?line=`` of a GET, and exits 4 on ``GET /exit``."""
    script = tmp_path / "say.py"
    script.write_text(SAY_SERVER)
    return TestFlowRunner([sys.executable, str(script), "{port}"])


def get_in_background(url: str) -> threading.Thread:
    """GET ``url`` from another thread, so the test's wait is pending when it lands (a
    request the server dies answering fails, which is then the point)."""

    def get() -> None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url).close()

    thread = threading.Thread(target=get)
    thread.start()
    return thread


def test_wait_for_log_returns_a_line_printed_before_or_during_the_wait(tmp_path: Path) -> None:
    with say_server(tmp_path) as runner:
        assert runner.wait_for_log(r"^starting on \d+$", timeout=5).startswith("starting on")
        request = get_in_background(
            f"{runner.base_url}/?line=first&line=the+answer+is+42&line=last"
        )
        assert runner.wait_for_log(r"answer is \d+", timeout=10) == "the answer is 42"
        assert runner.wait_for_log("^last$", timeout=10) == "last"
        request.join()
        assert runner.log_tail(3) == ["first", "the answer is 42", "last"]


def test_wait_for_log_times_out_with_the_log_tail(tmp_path: Path) -> None:
    with say_server(tmp_path) as runner:
        started = time.monotonic()
        with pytest.raises(FlowTimeoutError) as caught:
            runner.wait_for_log("never printed", timeout=0.2)
        assert time.monotonic() - started < scaled(5)
    assert caught.value.timeout == 0.2
    assert "the server printed no line matching 'never printed' within 0.2s" in str(caught.value)
    assert "| starting on" in str(caught.value)


def test_wait_for_log_fails_at_once_when_the_server_exits(tmp_path: Path) -> None:
    with say_server(tmp_path) as runner:
        request = get_in_background(f"{runner.base_url}/exit")
        started = time.monotonic()
        with pytest.raises(ServerExitedError) as caught:
            runner.wait_for_log("never printed", timeout=60)
        assert time.monotonic() - started < scaled(5)
        request.join()
    assert caught.value.returncode == 4
    assert "the server exited (exit code 4) without printing" in str(caught.value)


def test_a_servers_colour_codes_are_stripped_and_its_sessions_lines_come_first(
    tmp_path: Path,
) -> None:
    """Buttermilk colours its log; a failure's tail shows plain text, the test's session first."""
    script = tmp_path / "coloured.py"
    script.write_text(
        "import http.server, sys\n"
        "port = int(sys.argv[1])\n"
        "print(f'\\x1b[32mINFO\\x1b[0m serving on http://127.0.0.1:{port}', flush=True)\n"
        "print('\\x1b[33mDEBUG\\x1b[0m session own-session opened', flush=True)\n"
        "for n in range(5):\n"
        "    print(f'\\x1b[33mDEBUG\\x1b[0m session other-{n} noise', flush=True)\n"
        "class Health(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(b'{}')\n"
        "    def log_message(self, *args): pass\n"
        "http.server.HTTPServer(('127.0.0.1', port), Health).serve_forever()\n"
    )
    with TestFlowRunner([sys.executable, str(script), "{port}"]) as runner:
        runner.wait_for_log("other-4", scaled(10))
        text = runner.describe(3, session="own-session")
    assert "\x1b" not in text
    lines = text.splitlines()
    own = lines.index("server log of session own-session, last 1 lines:")
    assert lines[own + 1] == "  | DEBUG session own-session opened"
    assert "other-4" in text.split("server log, other lines")[1]
