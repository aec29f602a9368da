"""The pytest plugin, tested by running pytest inside pytest (pytester), in subprocesses."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flowwright import TestFlowRunner

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
QUICK_START = (Path(__file__).parents[2] / "examples" / "test_quickstart.py").read_text()


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_the_quick_start_passes_as_written_without_fixtures(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_quickstart=QUICK_START)
    result = suite.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    header = "flowwright: server embedded reference server (started on first use); dialect"
    result.stdout.fnmatch_lines([header + " flowwright; timeout 30s x1*"])


def test_fixtures_marker_and_simulator(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest
        from flowwright import settings

        @pytest.mark.flow(timeout=7)
        async def test_marker_sets_the_default_timeout(flow_client):
            assert settings.timeout == 7

        async def test_simulated_manager(flow_server, flow_client, response_simulator):
            assert flow_server.base_url.startswith("http://127.0.0.1:")
            response_simulator.on("proceed", "Yes, please proceed")
            async with response_simulator.attached(flow_client):
                await flow_client.start_flow("osb", "What is the harassment policy?")
                results = await flow_client.wait_for_agent_results(["researcher"])
            assert "harassment" in results[0].content.lower()
            assert response_simulator.history[0].rule == "rule /proceed/"
        """
    )
    suite.runpytest_subprocess().assert_outcomes(passed=2)


def test_a_failure_reports_the_diagnosis_and_the_transcript(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        from flowwright import FlowTestClient

        async def test_waits_for_what_never_comes():
            async with FlowTestClient.create() as client:
                await client.start_flow("osb", "What is the hate speech policy?")
                await client.wait_for_agent_results(["researcher"], timeout=0.5)
        """
    )
    result = suite.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "FlowTimeoutError: timed out after 0." in output
    assert (
        "FlowTimeoutError: timed out after 0.5s waiting for results from ['researcher'] "
        "(got: none; missing: ['researcher'])" in output
    )
    assert "prompt ui_message [host] I will research" in output
    assert re.search(r"server: pid \d+ running at http://127\.0\.0\.1:\d+", output)
    # The error shows all six messages: no transcript section repeats them.
    assert "flowwright transcript" not in output
    # The traceback shows the test's line, not flowwright's internals.
    assert "src/flowwright/waiter.py" not in output


def test_timeout_factor_scales_every_wait(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest
        from flowwright import FlowTestClient, FlowTimeoutError

        async def test_scaled():
            async with FlowTestClient.create() as client:
                with pytest.raises(FlowTimeoutError, match=r"timed out after 0.2s waiting"):
                    await client.wait_for_completion(timeout=0.1)
        """
    )
    suite.runpytest_subprocess("--flow-timeout-factor=2").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--flow-timeout-factor=0"], "--flow-timeout-factor must be a positive number"),
        (["--flow-timeout=soon"], "--flow-timeout must be a positive number*not 'soon'"),
        (["-o", "flow_timeout=soon"], "flow_timeout (ini) must be a positive number*'soon'"),
        (["-o", "flow_dialect=nope"], "flow_dialect (ini): *"),
        (["--flow-server-url=localhost:8000"], "*is not a URL: it must start with one of ws://*"),
        (["--flow-server-url=ws://h:1", "--flow-server-cmd=x"], "*exclude each other*"),
    ],
)
def test_invalid_options_are_usage_errors(
    suite: pytest.Pytester, args: list[str], message: str
) -> None:
    suite.makepyfile("def test_nothing(): pass")
    result = suite.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_unknown_marker_option_fails_naming_the_valid_ones(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.flow(timout=3)
        def test_typo(): pass
        """
    )
    result = suite.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    assert "unknown option(s) ['timout']; valid: ['timeout', 'fail_on_error'" in result.stdout.str()


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("timeout='soon'", "@pytest.mark.flow(timeout=...) must be a positive number*'soon'"),
        ("timeout=-1", "@pytest.mark.flow(timeout=...) must be a positive number*not -1"),
        ("keep_messages=0", "@pytest.mark.flow(keep_messages=...) must be a positive whole*0"),
    ],
)
def test_a_bad_marker_value_fails_naming_the_marker(
    suite: pytest.Pytester, marker: str, message: str
) -> None:
    suite.makepyfile(f"import pytest\n\n@pytest.mark.flow({marker})\ndef test_x(): pass\n")
    result = suite.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_a_tests_spill_file_is_deleted_after_its_report_and_recording(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import json
        from pathlib import Path
        from flowwright.stream import FlowStream

        def test_long():
            stream = FlowStream()
            for n in range(50):
                stream.collector.append(json.dumps({"type": "chat_message", "outputs": f"m{n}"}))
            Path("spill.txt").write_text(str(stream.collector.spill_path))
        """
    )
    result = suite.runpytest_subprocess(
        "--flow-keep-messages=5",
        "--flow-report-json=r.json",
        "--flow-report=r.html",
        "--flow-record=rec",
    )
    result.assert_outcomes(passed=1)
    spill = Path((suite.path / "spill.txt").read_text())
    assert spill.name.startswith("flowwright-transcript-")
    assert not spill.exists()  # was left in the temp directory, 50 messages' worth
    (recording,) = (suite.path / "rec").iterdir()  # written from the spill file before
    assert len(recording.read_text().splitlines()) == 50
    # The report holds what the run kept, not all it saw, and says what it left out.
    (record,) = json.loads((suite.path / "r.json").read_text())["tests"]
    (stream,) = record["streams"]
    assert [m["content"] for m in stream["messages"]] == [f"m{n}" for n in range(45, 50)]
    assert stream["omitted"] == 45
    page = (suite.path / "r.html").read_text()
    assert "… 45 earlier messages not in the report (--flow-keep-messages" in page


def test_server_url_option_uses_a_running_server(suite: pytest.Pytester) -> None:
    suite.makepyfile(QUICK_START)
    with TestFlowRunner() as runner:
        result = suite.runpytest_subprocess(f"--flow-server-url={runner.ws_url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"flowwright: server {runner.ws_url}; *"])


def test_server_cmd_option_and_no_leaked_process(suite: pytest.Pytester, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    suite.makepyfile(
        f"""
        from flowwright import FlowTestClient

        async def test_records_the_pid(flow_server):
            open({str(pid_file)!r}, "w").write(str(flow_server.pid))
            async with FlowTestClient.create() as client:
                await client.start_flow("chat", "hello")
                await client.wait_for_ui_message()
        """
    )
    command = f"{sys.executable} -m flowwright_demo --port {{port}} --config test"
    result = suite.runpytest_subprocess(f"--flow-server-cmd={command}")
    result.assert_outcomes(passed=1)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_fresh_server_marker_gives_a_test_its_own_server(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest
        from flowwright import FlowTestClient

        urls = []

        async def test_shared():
            async with FlowTestClient.create() as client:
                urls.append(client.server.base_url)

        @pytest.mark.flow(fresh_server=True)
        async def test_fresh():
            async with FlowTestClient.create() as client:
                assert client.server.base_url != urls[0]
        """
    )
    suite.runpytest_subprocess().assert_outcomes(passed=2)


def workdir_of(result: pytest.RunResult) -> Path:
    """The session's workdir, as its header names it."""
    found = re.search(r"; workdir (\S+)", result.stdout.str())
    assert found, result.stdout.str()
    return Path(found.group(1))


def test_a_passing_session_removes_its_workdir(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_server(flow_server): assert flow_server.base_url")
    result = suite.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert not workdir_of(result).exists()
    assert "flowwright: kept" not in result.stdout.str()


def test_a_failed_session_keeps_its_workdir_and_names_it(suite: pytest.Pytester) -> None:
    suite.makepyfile("def test_server(flow_server): assert not flow_server.base_url")
    result = suite.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    workdir = workdir_of(result)
    try:
        assert (workdir / "session" / "server.log").is_file()
        result.stdout.fnmatch_lines(
            [f"flowwright: kept {workdir} (server logs and storage of this failed session)"]
        )
    finally:
        shutil.rmtree(workdir)


def test_under_xdist_a_failed_workers_workdir_is_named_by_the_controller(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile("def test_server(flow_server): assert not flow_server.base_url")
    result = suite.runpytest_subprocess("-n", "1")
    result.assert_outcomes(failed=1)
    kept = re.findall(r"flowwright: kept (\S+) \(server logs", result.stdout.str())
    assert kept == [str(workdir_of(result))], result.stdout.str()  # the run's, named once
    try:
        assert (Path(kept[0]) / "gw0" / "session" / "server.log").is_file()  # the worker's
    finally:
        shutil.rmtree(kept[0])


@pytest.mark.parametrize(
    ("code", "first"),
    [
        ("async def test_x(): pass", "async def functions are not natively supported: "),
        (
            "import pytest\n\n@pytest.fixture\nasync def thing(): return 1\n\n"
            "def test_x(thing): pass",
            "'test_x' requested an async fixture 'thing', with no plugin or hook that handled it",
        ),
    ],
    ids=["test", "fixture"],
)
def test_strict_mode_names_the_one_setting_to_add(
    pytester: pytest.Pytester, code: str, first: str
) -> None:
    pytester.makeini("[pytest]\n")  # pytest-asyncio's default: strict mode
    pytester.makepyfile(code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert first in output
    assert (
        "pytest-asyncio (installed with flowwright) runs async tests and fixtures as written "
        "only in auto mode, and this project runs it in strict mode; add the one setting "
        "flowwright needs to your pytest configuration:" in output
    )
    result.stdout.fnmatch_lines(["*    asyncio_mode = auto"])


def test_sigterm_to_an_xdist_controller_leaves_no_teardown_warnings(
    suite: pytest.Pytester,
) -> None:
    """Workers whose controller was terminated finish their test and cannot report it; that
    must not print a PluggyTeardownRaisedWarning ("cannot send (already closed?)") each."""
    with socket.create_server(("127.0.0.1", 0)) as gate:
        port = gate.getsockname()[1]
        suite.makepyfile(
            f"""
            import socket

            import pytest

            @pytest.mark.parametrize("n", [1, 2])
            def test_held(n):
                with socket.create_connection(("127.0.0.1", {port})) as held:
                    held.recv(1)  # until the outer test lets go (closes the connection)
            """
        )
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider"],
            cwd=suite.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        held = [gate.accept()[0] for _ in range(2)]  # both workers are inside a test
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == -signal.SIGTERM
        for connection in held:
            connection.close()  # the orphaned workers finish their tests, and try to report
        output, _ = run.communicate(timeout=60)  # EOF: every worker has exited
    assert b"PluggyTeardownRaisedWarning" not in output, output.decode()
    assert b"cannot send" not in output, output.decode()
