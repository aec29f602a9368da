"""Resource limits: at most ``server.max_sessions`` live sessions, fitted to the open-file
limit, and ``server.max_sockets_per_session`` sockets on each; one more is refused at its
handshake (HTTP 503) saying why, never accepted and then dropped (a resume takes the place of
the oldest socket instead); a session costs one open file (its socket); ``/health`` reports
the figures. MCP sessions at ``/mcp`` are bounded by ``server.max_sessions`` too, counted apart."""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import yaml
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from flowwright.runner import TestFlowRunner
from flowwright_demo.sessions import FILE_RESERVE, REPLACED
from flowwright_demo.settings import default_conf_dir
from tests.demo._client import (
    TIMEOUT,
    mcp_initialize,
    of_type,
    open_client,
    refusal,
    session_url,
    start_server,
)

FILE_LIMIT = 1024
SOCKETS = 1000
HANDSHAKES_AT_ONCE = 32


async def health(server: TestFlowRunner) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
        response = await http.get("/health")
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data


async def until_health(server: TestFlowRunner, sessions: int) -> None:
    """Wait until ``/health`` counts ``sessions`` (session ends follow socket closes)."""
    async with asyncio.timeout(TIMEOUT):
        while (await health(server))["sessions"] != sessions:  # noqa: ASYNC110 - an HTTP poll
            await asyncio.sleep(0.05)


async def refused_with_503(server: TestFlowRunner, url: str | None = None) -> str:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url or session_url(server, str(uuid.uuid4())), open_timeout=TIMEOUT):
            pass
    assert caught.value.response.status_code == 503
    return caught.value.response.body.decode()


def server_with(tmp: Path, **overrides: int) -> TestFlowRunner:
    """A server whose test configuration has these ``server.yaml`` keys changed."""
    conf = tmp / "conf"
    shutil.copytree(default_conf_dir(), conf)
    overlay = conf / "test" / "server.yaml"
    overlay.write_text(yaml.safe_dump(yaml.safe_load(overlay.read_text()) | overrides))
    return start_server(tmp, "--conf-dir", str(conf))


@pytest.fixture(scope="module")
def two_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    runner = server_with(tmp_path_factory.mktemp("two-sessions"), max_sessions=2)
    yield runner
    assert runner.stop() == 0, runner.describe(30)


MCP_ACCEPT = {"Accept": "application/json, text/event-stream"}
MCP_INITIALIZE = mcp_initialize("limits")


async def test_mcp_sessions_are_bounded_by_max_sessions_too(
    two_session_server: TestFlowRunner,
) -> None:
    """Each costs memory until deleted or idle for 30 minutes: a client that never deletes
    its sessions must meet the limit, not grow the server by ~40 KB a session."""
    async with httpx.AsyncClient(
        base_url=two_session_server.base_url, timeout=TIMEOUT, headers=MCP_ACCEPT
    ) as http:
        opened = []
        for _ in range(2):
            response = await http.post("/mcp", json=MCP_INITIALIZE)
            assert response.status_code == 200, response.text
            opened.append(response.headers["mcp-session-id"])
        refused = await http.post("/mcp", json=MCP_INITIALIZE)
        assert refused.status_code == 503, refused.text
        assert "Too many open sessions" in refused.text
        # Deleting one makes room.
        deleted = await http.delete("/mcp", headers={"mcp-session-id": opened.pop()})
        assert deleted.status_code == 200, deleted.text
        assert (await http.post("/mcp", json=MCP_INITIALIZE)).status_code == 200
        # Counted apart from the WebSocket sessions: both of those still fit.
        async with open_client(two_session_server), open_client(two_session_server):
            assert (await health(two_session_server))["sessions"] == 2


@pytest.fixture(scope="module")
def two_socket_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    runner = server_with(tmp_path_factory.mktemp("two-sockets"), max_sockets_per_session=2)
    yield runner
    assert runner.stop() == 0, runner.describe(30)


async def test_a_session_over_the_limit_is_refused_with_503_saying_why(
    two_session_server: TestFlowRunner,
) -> None:
    server = two_session_server
    assert await health(server) == {
        "status": "ok",
        "sessions": 0,
        "max_sessions": 2,
        "max_sockets_per_session": 8,
    }
    async with open_client(server) as first, open_client(server) as second:
        assert (await health(server))["sessions"] == 2
        body = await refused_with_503(server)
        assert "limit of 2 live sessions (server.max_sessions)" in body
        # Joining or resuming an existing session is never refused for the limit.
        async with open_client(server, first.session_id, token=first.token) as again:
            await again.run_flow("chat", prompt="hello")
            await first.prompt()
        await second.drop()  # abnormal: the session waits for a resume, and still counts
        await refused_with_503(server)
        async with open_client(
            server, second.session_id, token=second.token, resume_after="x"
        ) as back:
            assert "cannot resume" in await back.error()
    await until_health(server, 0)  # clean closes end sessions at once
    async with open_client(server) as later:
        await later.run_flow("chat", prompt="hello")
        await later.prompt()


# ------------------------------------------------------------------ sockets per session


async def admitted_again(server: TestFlowRunner, url: str) -> ClientConnection:
    """Connect to ``url`` once the server has freed a slot (it frees it when it sees the
    other socket close, just after the client does): handshakes until one is admitted."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            try:
                return await connect(url, open_timeout=TIMEOUT)
            except InvalidStatus as refused:
                if refused.response.status_code != 503:
                    raise


async def refusal_close(url: str) -> str:
    """The reason the server closed a socket it accepted with."""
    return (await refusal(url)).reason


async def test_a_socket_over_the_per_session_limit_is_refused_with_503_saying_why(
    two_socket_server: TestFlowRunner,
) -> None:
    server = two_socket_server
    assert (await health(server))["max_sockets_per_session"] == 2
    async with open_client(server) as first:
        url = session_url(server, first.session_id, token=first.token)
        async with open_client(server, first.session_id, token=first.token) as second:
            body = await refused_with_503(server, url)
            assert (
                f"session '{first.session_id}' is at its limit of 2 open sockets "
                "(server.max_sockets_per_session)" in body
            ), body
            # Other sessions are not affected: a second one gets its two sockets.
            async with (
                open_client(server) as other,
                open_client(server, other.session_id, token=other.token) as other_too,
            ):
                await other_too.run_flow("chat", prompt="hello")
                await other.prompt()
            # A stranger is told about the token, not about the limit.
            assert "join it with its token" in (
                await refusal_close(session_url(server, first.session_id))
            )
            await second.run_flow("chat", prompt="hello")
            await first.prompt()
        # A clean close frees its slot...
        third = await admitted_again(server, url)
        await refused_with_503(server, url)
        # ...and so does an abrupt one (no closing handshake).
        third.transport.abort()
        fourth = await admitted_again(server, url)
        await fourth.close()
        await first.answer(content="and harassment?")  # the first socket was never disturbed
        await first.prompt()


async def test_a_resume_to_a_full_session_replaces_its_oldest_socket(
    two_socket_server: TestFlowRunner,
) -> None:
    """A reconnecting client's old socket may still count when its resume arrives: the
    resume is admitted, and the oldest socket closed with 1008 saying why."""
    server = two_socket_server
    async with open_client(server) as oldest:
        session, token = oldest.session_id, oldest.token
        await oldest.run_flow("chat", prompt="hello")
        prompt = await oldest.prompt()
        async with (
            open_client(server, session, token=token) as newer,
            open_client(server, session, token=token, resume_after=prompt.message_id) as back,
        ):
            await back.until(of_type("system_message", content="session_resumed"))
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(TIMEOUT):
                    while True:  # what the flow sent before the resume; then the close
                        await oldest.connection.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == REPLACED
            assert closed.value.rcvd.reason == (
                "replaced by a resumed connection (server.max_sockets_per_session: 2)"
            )
            # The session goes on with the two sockets it has now; at its limit again.
            await refused_with_503(server, session_url(server, session, token=token))
            await back.answer(content="more")
            await newer.prompt()
            await back.prompt()


# ---------------------------------------------------------------------- the open-file limit


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[TestFlowRunner]:
    """A server process whose open-file limit is 1024, soft and hard (so it cannot raise it)."""
    start = (
        "import resource, runpy, sys; "
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FILE_LIMIT}, {FILE_LIMIT})); "
        "sys.argv[0] = 'flowwright_demo'; "
        "runpy.run_module('flowwright_demo', run_name='__main__', alter_sys=True)"
    )
    runner = TestFlowRunner(
        [sys.executable, "-c", start, "--port", "0"],
        env={"FLOWWRIGHT_STORAGE": str(tmp_path / "storage")},
        log_path=tmp_path / "output.log",
    ).start()
    yield runner
    assert runner.stop() == 0, runner.describe(30)


@pytest.fixture
def enough_files_here() -> None:
    """This process holds the client ends of all the sockets: make room if the limit is low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = SOCKETS + 256
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.fail(f"this test needs {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def open_sessions(
    server: TestFlowRunner, stack: AsyncExitStack
) -> tuple[list[ClientConnection], list[str]]:
    """Try :data:`SOCKETS` new sessions, a few handshakes at a time, keeping the admitted
    ones open: (the admitted sockets, the refusals' bodies)."""
    admitted: list[ClientConnection] = []
    refusals: list[str] = []
    gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)

    async def one() -> None:
        async with gate:
            url = session_url(server, str(uuid.uuid4()))
            try:
                socket = await stack.enter_async_context(connect(url, open_timeout=TIMEOUT))
            except InvalidStatus as refused:
                refusals.append(f"{refused.response.status_code} {refused.response.body!r}")
                return
            admitted.append(socket)

    await asyncio.gather(*(one() for _ in range(SOCKETS)))
    return admitted, refusals


async def answered(socket: ClientConnection) -> None:
    """The session is alive: a frame sent on it is answered."""
    await socket.send('{"type": "dance"}')
    async with asyncio.timeout(TIMEOUT):
        assert "unknown message type 'dance'" in str(await socket.recv())


@pytest.mark.usefixtures("enough_files_here")
async def test_a_thousand_sessions_over_a_1024_file_limit_are_served_or_refused_cleanly(
    limited_server: TestFlowRunner,
) -> None:
    server = limited_server
    limit = FILE_LIMIT - FILE_RESERVE
    assert await health(server) == {
        "status": "ok",
        "sessions": 0,
        "max_sessions": limit,
        "max_sockets_per_session": 8,
    }
    await asyncio.to_thread(
        server.wait_for_log, f"server.max_sessions lowered from 1000 to {limit}", TIMEOUT
    )

    async with AsyncExitStack() as stack:
        admitted, refusals = await open_sessions(server, stack)
        assert len(admitted) == limit
        assert len(refusals) == SOCKETS - limit
        assert all(
            body.startswith("503 ") and f"limit of {limit} live sessions" in body
            for body in refusals
        ), refusals[:3]
        await asyncio.gather(*(answered(socket) for socket in admitted))
        assert (await health(server))["sessions"] == limit
        assert server.pid is not None
        files = len(os.listdir(f"/proc/{server.pid}/fd"))
        print(f"\n{limit} sessions live, {len(refusals)} refused; the server holds {files} files")
        assert files - limit < 64, f"{files} open files for {limit} sessions: one each expected"
    await until_health(server, 0)  # every socket closed cleanly: every session ended

    async with open_client(server) as client:
        await client.run_flow("osb", prompt="Is hate speech allowed?")
        await client.prompt()
        await client.answer(confirm=True)
        await client.until_completed()
    log = await asyncio.to_thread(Path(str(server.log_path)).read_text, errors="replace")
    for sign in ["Too many open files", "Traceback", " ERROR "]:
        assert sign not in log, f"{sign!r} in the server log:\n{server.describe(30)}"
