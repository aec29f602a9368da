"""A UI served on another origin than its flow server, driven through ``--flow-ui-url``.

As Buttermilk's UI under ``vite dev``: a separate server on its own port serves the UI's files
and proxies ``/api`` and ``/ws`` to the flow server, and its page opens a live-reload socket
too, which ``--flow-ui-sockets`` leaves out of the flow.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flowwright import FlowServer, TestFlowRunner
from flowwright.web import RemoteServer
from flowwright.web.plugin import ui_url
from tests.web.pages import use_web
from tests.web.proxy import LIVE_RELOAD
from tests.web.test_browser import INI

ROOT = Path(__file__).parents[2]

ELSEWHERE = """
from playwright.async_api import expect

from flowwright.web import UIFlow

UI = {ui!r}


async def test_the_flow_through_a_ui_on_another_origin(ui_flow, flow_page):
    assert flow_page.url == UI
    await flow_page.get_by_label("Question").fill("What is Meta's hate speech policy?")
    await flow_page.get_by_role("button", name="Start").click()
    await ui_flow.wait_for_ui_message(pattern="proceed")
    await flow_page.get_by_role("button", name="confirm", exact=True).click()
    results = await ui_flow.wait_for_agent_results(["researcher", "policy_analyst"])
    await ui_flow.wait_for_completion()
    await expect(flow_page.get_by_role("status")).to_have_text("Flow completed")
    assert any("hate speech" in result.content for result in results)
    assert ui_flow.socket.url.startswith(UI.replace("http", "ws") + "ws/")
    assert ui_flow.ignored_sockets == [UI.replace("http", "ws") + {reload!r}]
    assert not ui_flow.collector.filter(type="connected")


async def test_without_the_filter_the_live_reload_socket_feeds_the_flow(flow_context):
    flow = UIFlow(await flow_context.new_page())
    await flow.goto(UI)
    await flow.wait_for(type="connected", since=0)  # vite's greeting, no part of the flow
    assert [socket.url for socket in flow.sockets] == [UI.replace("http", "ws") + {reload!r}]
"""


def test_a_ui_on_another_origin_through_flow_ui_url(
    pytester: pytest.Pytester, flow_server: FlowServer, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "tests.web.proxy", "--port", "{port}"]
    with TestFlowRunner(
        [*command, "--upstream", flow_server.base_url], cwd=ROOT, log_path=tmp_path / "proxy.log"
    ) as proxy:
        ui = proxy.base_url + "/"
        assert proxy.base_url != flow_server.base_url
        pytester.makeini(INI)
        pytester.makepyfile(test_elsewhere=ELSEWHERE.format(ui=ui, reload=LIVE_RELOAD[1:]))
        result = pytester.runpytest_subprocess(
            "--flow-server-url",
            flow_server.base_url,
            "--flow-ui-url",
            ui,
            "--flow-ui-sockets",
            "/ws/",
        )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"flowwright web: chromium *; UI {ui} (sockets matching '/ws/')*"])


def test_the_ui_url_is_the_flow_servers_root_unless_the_option_names_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = RemoteServer("ws://127.0.0.1:8000")
    assert ui_url(server) == "http://127.0.0.1:8000/"
    use_web(ui_url="/app/")
    assert ui_url(server) == "http://127.0.0.1:8000/app/"
    use_web(ui_url="http://127.0.0.1:5173/")
    assert ui_url(server) == "http://127.0.0.1:5173/"


def test_a_ui_answering_an_error_fails_the_fixture_naming_the_status(
    pytester: pytest.Pytester, flow_server: FlowServer
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        async def test_never_reached(flow_page):
            await flow_page.get_by_label("Question").fill("never typed")
        """
    )
    ui = flow_server.base_url + "/no/such/app/"
    result = pytester.runpytest_subprocess(
        "--flow-server-url", flow_server.base_url, "--flow-ui-url", "/no/such/app/"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *UIPageError: the UI at {ui} answered HTTP 404 Not Found*"])
