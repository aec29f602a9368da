"""A burst cut short is reported as a disconnect, naming who closed the connection.

The benchmark's 1M burst once ended with the client's own keepalive giving up (close code
1011 sent by the client) while flowwright blamed the server; the benchmark must tell the
two apart from the server's record of each connection, whatever the client says.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.frames import CloseCode

from bench import wire
from flowwright import TestFlowRunner

SERVER = Path(wire.__file__).with_name("server.py")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("bench-server") / "server.log"
    with TestFlowRunner([sys.executable, str(SERVER), "--port", "{port}"], log_path=log) as server:
        yield server.ws_url


async def test_a_flowwright_client_cut_off_by_the_server_is_a_disconnect(url: str) -> None:
    run = await wire.flowwright_burst(url, 200, cut_after=50)
    assert (run.received, run.lost) == (50, 150)
    assert run.error is not None
    assert run.disconnect is not None
    assert run.disconnect.startswith(
        "the connection ended after 50 of 200 frames: the server closed it "
        "(code 1011 'bench: cut after 50')"
    )


@pytest.mark.parametrize("kind", ["raw", "raw_json"])
async def test_a_raw_loop_cut_off_by_the_server_is_a_disconnect(url: str, kind: wire.Kind) -> None:
    run = await wire.raw_burst(url, 200, kind, cut_after=50)
    assert (run.received, run.lost) == (50, 150)
    assert run.disconnect is not None
    assert "after 50 of 200 frames: the server closed it (code 1011" in run.disconnect


async def test_a_burst_that_arrives_whole_is_no_disconnect(url: str) -> None:
    run = await wire.flowwright_burst(url, 200)
    assert (run.received, run.lost, run.error, run.disconnect) == (200, 0, None, None)
    assert wire.who_closed(run.server_saw or {}) == "the client closed it (code 1000 '')"


async def test_a_client_that_gives_up_is_named_as_the_one_that_closed(url: str) -> None:
    """What a client's keepalive timeout looks like from the server: its close frame, 1011."""
    used = wire.connection_url(url)
    async with connect(used) as ws:
        await ws.close(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
    saw = await wire.server_record(url, urlsplit(used).path)
    assert wire.who_closed(saw) == "the client closed it (code 1011 'keepalive ping timeout')"
