"""Settings: where every client's defaults come from. A timeout resolves per call → per
client → the run's default (``--flow-timeout``, a ``flow`` marker), then is scaled by
``--flow-timeout-factor``; ``--flow-dialect`` is every new client's dialect."""

from __future__ import annotations

import pytest

from flowwright import Settings

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

SILENT_SERVER = """
import pytest
from websockets.asyncio.server import serve


@pytest.fixture
async def silent_url():
    async def handler(connection):
        await connection.wait_closed()  # says nothing: every wait times out

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"
"""

CHAIN = """
import pytest
from flowwright import FlowTestClient, FlowTimeoutError


async def waited(client, **options):
    with pytest.raises(FlowTimeoutError) as caught:
        await client.wait_for_completion(**options)
    return caught.value.timeout


async def test_the_chain(silent_url):
    async with FlowTestClient.create(silent_url) as client:
        assert await waited(client) == pytest.approx(0.3 * 2)  # the run's default
        assert await waited(client, timeout=0.1) == pytest.approx(0.1 * 2)  # the call's
    async with FlowTestClient.create(silent_url, timeout=0.2) as client:
        assert await waited(client) == pytest.approx(0.2 * 2)  # the client's
        assert await waited(client, timeout=0.1) == pytest.approx(0.1 * 2)


@pytest.mark.flow(timeout=0.25)
async def test_a_marker_sets_the_tests_default(silent_url):
    async with FlowTestClient.create(silent_url) as client:
        assert await waited(client) == pytest.approx(0.25 * 2)


async def test_the_dialect_option_names_every_clients_dialect(silent_url):
    async with FlowTestClient.create(silent_url) as client:
        assert client.dialect.name == "buttermilk"
    async with FlowTestClient.create(silent_url, dialect="flowwright") as client:
        assert client.dialect.name == "flowwright"


@pytest.mark.flow(dialect="flowwright")
async def test_a_marker_names_the_tests_dialect(silent_url):
    async with FlowTestClient.create(silent_url) as client:
        assert client.dialect.name == "flowwright"
"""


def test_a_timeout_falls_back_call_then_client_then_default_and_is_scaled() -> None:
    settings = Settings(timeout=5.0, timeout_factor=3.0)
    assert settings.scale(0.5, 2.0) == 1.5  # the call's own
    assert settings.scale(None, 2.0) == 6.0  # the client's
    assert settings.scale(None) == 15.0  # the default
    assert Settings().scale(None) == 30.0  # outside pytest: 30 s, unscaled


def test_the_options_and_markers_reach_every_client(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(SILENT_SERVER)
    pytester.makepyfile(test_chain=CHAIN)
    result = pytester.runpytest_subprocess(
        "--flow-timeout=0.3", "--flow-timeout-factor=2", "--flow-dialect=buttermilk"
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*dialect buttermilk; timeout 0.3s x2*"])
