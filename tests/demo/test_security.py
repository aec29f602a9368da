"""Who may steer a session, and when it ends: the session token, clean and abnormal closes,
and fault injection only on a server that allows it."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flowwright.runner import TestFlowRunner
from flowwright_demo.engine import FAULTS_OFF
from flowwright_demo.sessions import FORBIDDEN
from flowwright_demo.settings import default_conf_dir, load_settings
from tests.demo._client import (
    TIMEOUT,
    id_of,
    logged,
    of_type,
    open_client,
    refusal,
    sent_ids,
    session_url,
    timeline,
    transcript_path,
)

QUESTION = "Is hate speech against migrants allowed?"
STEPWISE = {"prompt": QUESTION, "confirm_each_step": True}


# ---------------------------------------------------------------------- the session token


async def test_the_first_socket_gets_the_token_and_a_stranger_cannot_join_read_or_halt(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as owner:
        assert owner.token is not None
        assert len(owner.token) >= 32
        await owner.run_flow("osb", **STEPWISE)
        await owner.prompt()
        # The update that follows the prompt: from here the flow waits for the owner's reply,
        # so what the session sent stays as counted unless a stranger gets something.
        await owner.until(of_type("system_update", status="waiting"))
        received = len(sent_ids(demo_server, owner.session_id))

        for token, reason in [
            (None, f"session {owner.session_id!r} exists: join it with its token (?token=)"),
            ("guessed", f"wrong token for session {owner.session_id!r}"),
            (owner.token[:-1], f"wrong token for session {owner.session_id!r}"),
        ]:
            closed = await refusal(session_url(demo_server, owner.session_id, token=token))
            assert (closed.code, closed.reason) == (FORBIDDEN, reason)
        # ...nor replayed what the session sent.
        url = session_url(demo_server, owner.session_id, resume_after=id_of(owner.messages[0]))
        assert (await refusal(url)).code == FORBIDDEN

        assert len(sent_ids(demo_server, owner.session_id)) == received, "strangers got nothing"
        await owner.answer(confirm=True)  # the run is the owner's, undisturbed
        await owner.prompt()
        await owner.answer(halt=True)
        await owner.until_completed()
    transcript = transcript_path(demo_server, owner.session_id).read_text()
    assert transcript.count('"dir": "<"') == 3, "only the owner's three frames reached it"


async def test_tokens_never_reach_the_log(demo_server: TestFlowRunner) -> None:
    async with open_client(demo_server) as owner:
        assert owner.token is not None
        async with open_client(demo_server, owner.session_id, token=owner.token):
            pass
    await logged(demo_server, re.escape(f"/ws/{owner.session_id}?token=<redacted>"))
    log = await asyncio.to_thread(Path(str(demo_server.log_path)).read_text, errors="replace")
    assert owner.token not in log


async def test_a_second_socket_with_the_token_joins_and_steers(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as owner:
        await owner.run_flow("chat", prompt="What is hate speech?")
        await owner.prompt()
        async with open_client(demo_server, owner.session_id, token=owner.token) as helper:
            assert helper.token == owner.token
            await helper.answer(halt=True)
            await helper.until_completed()
        await owner.until_completed()


async def test_a_session_from_the_api_has_its_token_before_any_socket(
    demo_server: TestFlowRunner,
) -> None:
    async with httpx.AsyncClient(base_url=demo_server.base_url, timeout=TIMEOUT) as http:
        issued = (await http.get("/api/session")).json()
    session_id, token = issued["session_id"], issued["session_token"]
    # A wrong token is refused even before the session has a socket...
    closed = await refusal(session_url(demo_server, session_id, token="guessed"))
    assert closed.code == FORBIDDEN
    # ...the first socket needs none (Buttermilk's UI connects without), and learns it...
    async with open_client(demo_server, session_id) as first:
        assert first.token == token
        # ...and from then on, the token is needed.
        assert (await refusal(session_url(demo_server, session_id))).code == FORBIDDEN
        async with open_client(demo_server, session_id, token=token) as second:
            await second.run_flow("chat", prompt="hello")
            await first.prompt()


async def test_only_the_owner_resumes_a_dropped_session(demo_server: TestFlowRunner) -> None:
    async with open_client(demo_server) as owner:
        await owner.run_flow("osb", **STEPWISE)
        await owner.prompt()
        await owner.drop()
    last = id_of(owner.messages[-1])
    stranger = session_url(demo_server, owner.session_id, resume_after=last)
    assert (await refusal(stranger)).code == FORBIDDEN
    async with open_client(
        demo_server, owner.session_id, resume_after=last, token=owner.token
    ) as back:
        await back.answer(confirm=True)
        await back.prompt()  # the same run, at its next step
        await back.answer(halt=True)
        await back.until_completed()


# ---------------------------------------------------------------------- closing


async def test_a_clean_close_ends_the_session_and_its_run_at_once(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as client:
        await client.run_flow(
            "osb", prompt=QUESTION, fault={"slow_agent": "researcher", "seconds": 60}
        )
        await client.prompt()
        await client.answer(confirm=True)
        await client.until(of_type("system_update", status="started", role="researcher"))
    # The close was clean (code 1000): no grace period, the run is cancelled now.
    await logged(
        demo_server,
        re.escape(f"= {client.session_id} its client closed the connection: run of osb cancelled"),
    )
    last = id_of(client.messages[-1])
    async with open_client(
        demo_server, client.session_id, resume_after=last, token=client.token
    ) as late:
        assert "cannot resume after message" in await late.error()  # a new, empty session
        assert late.token != client.token


async def test_an_abnormal_drop_keeps_the_session_for_a_resume(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as client:
        await client.run_flow("osb", **STEPWISE)
        await client.prompt()
        await client.drop()  # no closing handshake: the server sees the connection lost
    last = id_of(client.messages[-1])
    async with open_client(
        demo_server, client.session_id, resume_after=last, token=client.token
    ) as back:
        await back.until(of_type("system_message", content="session_resumed"))
        await back.answer(confirm=True)
        await back.prompt()
        await back.answer(halt=True)
        await back.until_completed()


async def test_one_socket_closing_cleanly_leaves_the_others_session_alive(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as stayer:
        await stayer.run_flow("osb", **STEPWISE)
        await stayer.prompt()
        async with open_client(demo_server, stayer.session_id, token=stayer.token):
            pass  # joins and closes cleanly: not the session's last socket
        await stayer.answer(confirm=True)
        await stayer.prompt()
        await stayer.answer(halt=True)
        await stayer.until_completed()


# ---------------------------------------------------------------------- faults


@pytest.fixture(scope="module")
def base_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    """A server with the package's base configuration: no ``--config test``, no faults."""
    tmp = tmp_path_factory.mktemp("base-config")
    runner = TestFlowRunner(
        [sys.executable, "-m", "flowwright_demo", "--port", "0"],
        env={"FLOWWRIGHT_STORAGE": str(tmp / "storage")},
        log_path=tmp / "output.log",
    ).start()
    yield runner
    assert runner.stop() == 0, runner.describe(30)


async def test_a_fault_is_refused_by_a_server_that_does_not_allow_them(
    base_server: TestFlowRunner,
) -> None:
    async with open_client(base_server) as client:
        await client.run_flow("osb", prompt=QUESTION, fault={"exit_after": 1, "exit_code": 66})
        content = await client.error()
        assert content == FAULTS_OFF
        assert "--allow-faults" in content
        assert "server.allow_faults: true" in content
        await client.run_flow("osb", prompt=QUESTION)  # the session goes on
        await client.prompt()
        await client.answer(confirm=True)
        await client.until_completed()
    assert base_server.is_running


async def test_allow_faults_turns_them_on(tmp_path: Path) -> None:
    runner = TestFlowRunner(
        [sys.executable, "-m", "flowwright_demo", "--port", "0", "--allow-faults"],
        env={"FLOWWRIGHT_STORAGE": str(tmp_path / "storage")},
        log_path=tmp_path / "output.log",
    ).start()
    try:
        async with open_client(runner) as client:
            await client.run_flow("chat", prompt="hello", fault={"agent_error": "assistant"})
            await client.prompt()
            await client.answer(content="done")
            await client.until_completed()
        assert "error:assistant" in timeline(client.messages)
    finally:
        assert runner.stop() == 0


def test_flow_yaml_faults_need_allow_faults(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    fragile = tmp_path / "flows" / "fragile.yaml"
    fragile.write_text(
        "kind: chat\n"
        "description: an assistant that always fails\n"
        "agents: [{role: assistant, name: A, description: fails}]\n"
        "faults: {agent_error: assistant}\n"
    )
    command = [sys.executable, "-m", "flowwright_demo", "--port", "0", "--conf-dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT * 3)
    assert result.returncode == 2
    assert f"{fragile}: faults: fault injection is off on this server" in result.stderr
    assert "--allow-faults" in result.stderr


def test_only_the_test_configuration_allows_faults() -> None:
    assert load_settings(default_conf_dir()).server.allow_faults is False
    assert load_settings(default_conf_dir(), "test").server.allow_faults is True
