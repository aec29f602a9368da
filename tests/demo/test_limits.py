"""Resource limits: at most ``server.max_sessions`` live sessions, fitted to the open-file
limit; one more is refused at its handshake (HTTP 503) saying why, never accepted and then
dropped; a session costs one open file (its socket); ``/health`` reports both figures."""

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
from websockets.exceptions import InvalidStatus

from flowwright.runner import TestFlowRunner
from flowwright_demo.sessions import FILE_RESERVE
from flowwright_demo.settings import default_conf_dir
from tests.demo._client import TIMEOUT, open_client, session_url, start_server

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


async def refused_with_503(server: TestFlowRunner) -> str:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(session_url(server, str(uuid.uuid4())), open_timeout=TIMEOUT):
            pass
    assert caught.value.response.status_code == 503
    return caught.value.response.body.decode()


@pytest.fixture(scope="module")
def two_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    tmp = tmp_path_factory.mktemp("two-sessions")
    conf = tmp / "conf"
    shutil.copytree(default_conf_dir(), conf)
    overlay = conf / "test" / "server.yaml"
    overlay.write_text(yaml.safe_dump(yaml.safe_load(overlay.read_text()) | {"max_sessions": 2}))
    runner = start_server(tmp, "--conf-dir", str(conf))
    yield runner
    assert runner.stop() == 0, runner.describe(30)


async def test_a_session_over_the_limit_is_refused_with_503_saying_why(
    two_session_server: TestFlowRunner,
) -> None:
    server = two_session_server
    assert await health(server) == {"status": "ok", "sessions": 0, "max_sessions": 2}
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
    assert await health(server) == {"status": "ok", "sessions": 0, "max_sessions": limit}
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
        assert await health(server) == {"status": "ok", "sessions": limit, "max_sessions": limit}
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
