"""Failures as a user meets them: the first line names the cause, the test fails as soon as the
outcome is decided, and the output stays short. One test per kind of failure, each a real
pytest run in a subprocess against a real server."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from flowwright import TestFlowRunner, settings

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
LONG = 30  # the inner tests' wait timeout: failing "at once" means well before it


@pytest.fixture(scope="module")
def server() -> Iterator[TestFlowRunner]:
    """One reference server for the inner runs that need a healthy one."""
    with TestFlowRunner() as runner:
        yield runner


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makepyfile(test_it=source)
    factor = f"--flow-timeout-factor={settings.timeout_factor:g}"
    return pytester.runpytest_subprocess(factor, "-p", "no:cacheprovider", *args)


def first_error_line(result: pytest.RunResult) -> str:
    """The first ``E`` line of the output (the exception's first line)."""
    return next(line for line in result.outlines if line.startswith("E  ")).lstrip("E ").strip()


def fast(result: pytest.RunResult) -> bool:
    """The run ended well before any wait's timeout (scaled): decided, not waited out."""
    return result.duration < LONG * settings.timeout_factor / 2


def test_results_from_an_agent_that_never_runs_fail_when_the_flow_ends(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        f"""
        from flowwright import FlowTestClient

        async def test_it():
            async with FlowTestClient.create(timeout={LONG}) as client:
                await client.start_flow("osb", "What is the hate speech policy?")
                await client.wait_for_ui_message()
                await client.send_manager_response("yes")
                await client.wait_for_agent_results(["researcher", "fact_checker"])
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(failed=1)
    assert first_error_line(result).startswith("flowwright.FlowEndedError: the flow ended (#"), (
        result.stdout.str()
    )
    assert (
        "flow_completed) without results from ['researcher', 'fact_checker'] (got: "
        "['researcher']; missing: ['fact_checker']); agents that ran: researcher, "
        "policy_analyst, host" in first_error_line(result)
    )
    assert fast(result)
    assert len(result.outlines) < 80


def test_a_pattern_that_never_matches_shows_the_prompts_that_came_in_full(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        """
        from flowwright import FlowTestClient

        async def test_it():
            async with FlowTestClient.create() as client:
                await client.start_flow("osb", "What is the hate speech policy?")
                await client.wait_for_ui_message(pattern="are you sure", timeout=0.5)
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(failed=1)
    assert first_error_line(result) == (
        "flowwright.FlowTimeoutError: timed out after "
        f"{0.5 * settings.timeout_factor:g}s waiting for prompt matching /are you sure/"
    )
    output = result.stdout.str()
    assert "near misses (1; the last 1 in full):" in output
    assert (  # the whole prompt, up to what explains the miss
        "ui_message [host]: I will research: 'What is the hate speech policy?' with researcher "
        "and policy_analyst. Shall I proceed? Confirm to start, reject to stop." in output
    )
    assert len(result.outlines) < 80


def test_a_cut_of_the_tests_own_making_is_named_as_such(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        f"""
        from flowwright import FlowTestClient

        async def test_it():
            async with FlowTestClient.create(timeout={LONG}) as client:
                await client.start_flow("osb", "What is the hate speech policy?")
                await client.wait_for_ui_message()
                async with client.expect(category="result"):
                    client.cut_connection()
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(failed=1)
    line = first_error_line(result)
    assert line.startswith("flowwright.ConnectionLostError: the test cut the connection at +")
    assert "(cut_connection()); call reconnect() to resume the session while waiting for" in line
    result.stdout.fnmatch_lines(["*note cut the test cut the connection (cut_connection())"])
    assert fast(result)
    assert len(result.outlines) < 80


def test_a_malformed_frame_fails_a_test_that_passed(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        """
        from flowwright import FlowTestClient

        async def test_it():
            async with FlowTestClient.create() as client:
                await client.start_flow("chat", "hello", fault={"malformed_frame": True})
                await client.wait_for_ui_message()
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the server sent 1 malformed frame(s); the first, #3 on client (*): not JSON*",
            "*raw: <<injected malformed frame: this is not JSON>>",
            "*@pytest.mark.flow(allow_malformed=True)*",
        ]
    )
    assert len(result.outlines) < 60


def test_a_missing_server_command_is_a_usage_error_before_any_test(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "def test_it(): pass", "--flow-server-cmd=/nonexistent/flow-server")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[0] == (
        "ERROR: --flow-server-cmd: '/nonexistent/flow-server' is not an executable file"
    )
    assert len(result.errlines) + len(result.outlines) < 5


@pytest.mark.parametrize(
    ("command", "cause"),
    [
        (f"{sys.executable} -c 'import sys; sys.exit(3)'", "server exited during start-up"),
        (
            f"{sys.executable} -c 'import time; time.sleep(60)'",
            "server did not print its URL (http://host:port) on stdout within",
        ),
    ],
    ids=["exits", "never-prints-its-url"],
)
def test_a_server_that_fails_to_start_is_reported_once(
    pytester: pytest.Pytester, command: str, cause: str
) -> None:
    source = "\n".join(
        f"async def test_{n}(flow_client):\n    pass\n" for n in ("first", "second", "third")
    )
    # The start-up wait is 30 s x the factor: a small factor keeps the hanging server short.
    result = run(pytester, source, f"--flow-server-cmd={command}", "--flow-timeout-factor=0.1")
    result.assert_outcomes(errors=3)
    output = result.stdout.str()
    # Counted above the short summary, whose lines pytest cuts to the terminal's width except
    # when it runs on CI (the CI variable), where it prints them whole.
    details = output.partition("short test summary info")[0]
    assert details.count(cause) == 3, output  # the cause in every test's first line...
    assert details.count("(command: ") == 1  # ...the server's state in full once
    assert details.count("the session's server failed to start (see test_it.py::test_first)") == 2
    assert "pytest_asyncio" not in output  # no frames that add nothing
    assert len(result.outlines) < 40


def test_a_server_url_where_nothing_listens_is_reported_once(pytester: pytest.Pytester) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = "\n".join(
        f"async def test_{n}(flow_client):\n    pass\n" for n in ("first", "second", "third")
    )
    result = run(pytester, source, f"--flow-server-url=ws://127.0.0.1:{port}")
    result.assert_outcomes(errors=3)
    output = result.stdout.str()
    details = output.partition("short test summary info")[0]  # as above: CI prints it whole
    assert details.count(f"nothing answers at ws://127.0.0.1:{port} (--flow-server-url)") == 3
    assert details.count("(see test_it.py::test_first)") == 2
    assert len(result.outlines) < 60


def test_a_simulator_with_no_reply_fails_at_the_prompt(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        f"""
        from flowwright import FlowTestClient, ResponseSimulator

        async def test_it():
            simulator = ResponseSimulator(default=None).on("never", "yes")
            async with FlowTestClient.create() as client:
                await client.converse(simulator, flow="osb", prompt="Hate speech?", timeout={LONG})
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(failed=1)
    assert first_error_line(result).startswith(
        'flowwright.NoReplyError: the simulator has no reply for prompt #5 "I will research:'
    )
    assert fast(result)
    assert len(result.outlines) < 80


def test_an_mcp_assertion_inside_async_with_is_the_first_error_line(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        """
        from flowwright.mcp import assert_tool_error

        async def test_it(mcp_http):
            async with mcp_http() as mcp:
                await assert_tool_error(mcp, "run_flow", {"flow": "osb", "prompt": "q"})
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(failed=1)
    assert first_error_line(result).startswith(
        "AssertionError: tools/call 'run_flow' with {'flow': 'osb', 'prompt': 'q'} succeeded"
    )
    output = result.stdout.str()
    assert "ExceptionGroup" not in output
    assert "tools/list" not in output or "the SDK's own request" in output
    assert fast(result)
    assert len(result.outlines) < 80


def test_the_short_summary_names_the_cause_at_80_columns(
    pytester: pytest.Pytester, server: TestFlowRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = run(
        pytester,
        """
        from flowwright import FlowTestClient

        async def test_x():
            async with FlowTestClient.create() as client:
                await client.wait_for_completion(timeout=0.1)
        """,
        f"--flow-server-url={server.ws_url}",
        "-rf",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED test_it.py::test_x - flowwright.FlowTimeoutError: tim*"])


def test_a_result_assertion_shows_every_candidate_in_full(
    pytester: pytest.Pytester, server: TestFlowRunner
) -> None:
    result = run(
        pytester,
        """
        from flowwright import FlowTestClient
        from flowwright.assertions import assert_result

        async def test_it():
            async with FlowTestClient.create() as client:
                await client.start_flow("osb", "What is the hate speech policy?")
                await client.wait_for_ui_message()
                await client.send_manager_response("yes")
                results = await client.wait_for_agent_results(["researcher", "policy_analyst"])
                assert_result(results, agent="researcher", contains="xyzzy")
        """,
        f"--flow-server-url={server.ws_url}",
    )
    result.assert_outcomes(failed=1)
    assert first_error_line(result) == (
        "AssertionError: no result from 'researcher' and contains 'xyzzy' "
        "(2 candidate(s), 1 from 'researcher'):"
    )
    assert "research_result [researcher]: On hate speech, the documents" in result.stdout.str()
