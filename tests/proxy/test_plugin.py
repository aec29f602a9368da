"""The flow_proxy fixture, in pytest run inside pytest: routing, and how a failure reads."""

from __future__ import annotations

import json

import pytest

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_flow_proxy_routes_the_tests_clients_whatever_the_fixture_order(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import pytest
        from flowwright import FlowTestClient, settings

        async def test_named_after_the_client(flow_client, flow_proxy):
            assert flow_client.url.startswith(flow_proxy.url + "/ws/")
            assert settings.server().base_url == flow_proxy.http_url

        async def test_created_in_the_test(flow_proxy):
            async with FlowTestClient.create() as client:
                await client.start_flow("osb", "What is the spam policy?")
                await client.wait_for_ui_message()
            assert flow_proxy.connections[0].path == "/ws/" + client.session_id

        @pytest.mark.flow(fresh_server=True)
        async def test_a_fresh_server_is_proxied_too(flow_proxy, flow_server):
            assert flow_proxy.server is not flow_server
            assert flow_proxy.target == flow_proxy.server.ws_url

        async def test_without_the_proxy_nothing_changes(flow_client, flow_server):
            assert flow_client.url.startswith(flow_server.ws_url)
        """
    )
    suite.runpytest_subprocess().assert_outcomes(passed=4)


def test_a_failure_says_what_the_proxy_did_and_the_report_keeps_it(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        from flowwright.proxy import drop

        async def test_a_result_that_never_comes(flow_proxy, flow_client):
            async with flow_proxy.fault(drop(category="result", count=1)):
                await flow_client.start_flow("osb", "What is the hate speech policy?")
                await flow_client.wait_for_ui_message()
                await flow_client.send_manager_response("yes")
                await flow_client.wait_for_agent_results(["researcher"], timeout=1)
        """
    )
    result = suite.runpytest_subprocess("--flow-report=report.html", "--flow-report-json=r.json")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "FlowEndedError" in output  # at the flow's end, not after a timeout
    result.stdout.fnmatch_lines(
        [  # in the error's own tail, then the proxy's transcript
            "*note proxy dropped proxy#* result research_result from researcher *",
            "*flowwright transcript 1: proxy (ws://127.0.0.1:* → ws://127.0.0.1:*)*",
        ]
    )
    [record] = json.loads((suite.path / "r.json").read_text())["tests"]
    labels = [stream["label"] for stream in record["streams"]]
    assert labels[0].startswith("1: proxy (")
    assert labels[1].startswith("2: client (ws://127.0.0.1:")
    client_notes = [m["content"] for m in record["streams"][1]["messages"] if m["type"] == "proxy"]
    assert client_notes == [
        next(text for text in client_notes if text.startswith("dropped proxy#"))
    ]
    assert "dropped proxy#" in (suite.path / "report.html").read_text()
