"""A failing test's card in the HTML report, as a reader meets it in a real Chromium: the cause
first and visible with the card closed, a UI test's screenshot inline and its trace linked,
MCP messages as their readable line, and times counted from the t=0 the report states."""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from flowwright.report import load, merge, write_html
from flowwright.report.record import TIME_ORIGIN
from flowwright.web.browser import CONTEXT_OPTIONS, open_chromium
from flowwright.web.plugin import FAILURE_SCREENSHOT, TRACE
from flowwright_demo.settings import packaged_ui_dir

FLOW_SUITE = """
import json
import time
from flowwright import FlowTestClient

async def test_ended():
    before = time.time()
    client = FlowTestClient.create()
    with open("created.json", "w") as out:
        json.dump({"before": before, "after": time.time()}, out)
    async with client:
        await client.start_flow("osb", "What is the hate speech policy?")
        await client.wait_for_ui_message()
        await client.send_manager_response("yes")
        await client.wait_for_agent_results(["researcher", "fact_checker"])

async def test_malformed():
    async with FlowTestClient.create() as client:
        await client.start_flow("chat", "hello", fault={"malformed_frame": True})
        await client.wait_for_ui_message()

async def test_mcp(mcp_http):
    async with mcp_http() as mcp:
        result = await mcp.call_tool("list_flows", {})
        assert "no such flow" in str(result)

def test_passes():
    pass
"""

UI_SUITE = """
async def test_ui(ui_flow, flow_page):
    form = flow_page.get_by_role("form", name="Start a flow")
    await form.get_by_label("Question").fill("What is the hate speech policy?")
    await form.get_by_role("button", name="Start").click()
    await ui_flow.wait_for_ui_message(pattern="are you sure", timeout=1)
"""


def results(path: Path) -> dict[str, dict[str, Any]]:
    """The tests of a results file, by test name."""
    tests = json.loads(path.read_text())["tests"]
    return {test["nodeid"].split("::")[1]: test for test in tests}


@pytest.fixture
def flows_report(suite: pytest.Pytester) -> pytest.Pytester:
    """The flow suite run on two xdist workers (records cross to the controller), reported."""
    suite.makepyfile(test_cards=FLOW_SUITE)
    result = suite.runpytest_subprocess(
        "-n", "2", "--flow-report=out/report.html", "--flow-report-json=out/results.json"
    )
    result.assert_outcomes(passed=2, failed=2, errors=1)
    return suite


async def test_each_failing_card_starts_with_the_cause_visible_when_closed(
    flows_report: pytest.Pytester,
) -> None:
    tests = results(flows_report.path / "out/results.json")
    ended = tests["test_ended"]["cause"]
    assert ended.startswith("flowwright.FlowEndedError: the flow ended (#")
    assert "without results from ['researcher', 'fact_checker']" in ended
    assert "\n" not in ended
    assert tests["test_malformed"]["cause"].startswith(
        "Failed: the server sent 1 malformed frame(s); the first, #3 on client (ws://"
    )
    assert tests["test_mcp"]["cause"].startswith("assert 'no such flow' in 'list_flows (ok)")
    assert tests["test_passes"]["cause"] is None

    async with open_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto((flows_report.path / "out/report.html").as_uri())
        await page.evaluate(
            "document.querySelectorAll('details.test').forEach(d => d.open = false)"
        )
        for name in ("test_ended", "test_malformed", "test_mcp"):
            card = page.locator("details.test", has_text=f"test_cards.py::{name}")
            cause = card.locator("summary .cause")
            assert await cause.is_visible()
            assert await cause.text_content() == tests[name]["cause"]
            assert not await card.locator("pre.error").first.is_visible()  # closed: the cause alone
        passing = page.locator("details.test", has_text="test_cards.py::test_passes")
        assert await passing.locator(".cause").count() == 0
        # The failing cards come first, each with its cause right under its name.
        first = page.locator("details.test").first
        assert await first.get_attribute("data-status") in ("failed", "error")
        assert await first.locator("summary .cause").is_visible()


async def test_mcp_messages_show_their_content_not_the_json_rpc_envelope(
    flows_report: pytest.Pytester,
) -> None:
    (stream,) = results(flows_report.path / "out/results.json")["test_mcp"]["streams"]
    assert stream["label"].startswith("1: mcp client (http: http://127.0.0.1:")
    sent = [m for m in stream["messages"] if m["direction"] == "sent"]
    assert all('"jsonrpc"' in m["raw"] for m in sent)  # what the page must not show

    async with open_chromium() as browser:
        page = await browser.new_page()
        await page.goto((flows_report.path / "out/report.html").as_uri())
        card = page.locator("details.test", has_text="test_cards.py::test_mcp")
        rows = card.locator("table.timeline tr.msg")
        shown = [" ".join(text.split()) for text in await rows.all_text_contents()]
        assert len(shown) == len(stream["messages"])
        assert not [row for row in shown if "jsonrpc" in row]
        (call,) = [row for row in shown if "mcp_request" in row and "tools/call" in row]
        assert "tools/call list_flows" in call
        assert any("tools/call → " in row and '"osb"' in row for row in shown)  # the answer


def test_times_count_from_when_the_client_was_created_as_the_report_says(
    flows_report: pytest.Pytester,
) -> None:
    test = results(flows_report.path / "out/results.json")["test_ended"]
    created = json.loads((flows_report.path / "created.json").read_text())
    (stream,) = test["streams"]
    # t=0 is the client's creation (wall and monotonic clocks agree to well within 50 ms).
    assert created["before"] - 0.05 <= stream["started"] <= created["after"] + 0.05
    assert test["started"] <= stream["started"] <= test["started"] + test["duration"]
    times = [m["time"] for m in stream["messages"]]
    assert times == sorted(times)
    assert times[0] >= 0

    page = (flows_report.path / "out/report.html").read_text()
    assert f"Times (+s) count from each flow's t=0: {TIME_ORIGIN}" in page
    offset = stream["started"] - test["started"]
    assert f"{offset:.3f}s after the test started</p>" in page
    assert page.count('<p class="muted t0">t=0 at ') == 3  # one per flow: 3 tests, 1 each
    first = stream["messages"][0]
    assert f"+{first['time']:.3f}s</td>" in page  # the same clock as the JSON and the errors


async def test_a_failing_ui_test_shows_its_screenshot_and_links_its_trace(
    suite: pytest.Pytester, tmp_path: Path
) -> None:
    assert (packaged_ui_dir() / "index.html").exists(), "the UI is not built: ./dev setup"
    suite.makepyfile(test_ui_card=UI_SUITE)
    result = suite.runpytest_subprocess(
        "--flow-report=out/report.html", "--flow-report-json=out/results.json"
    )
    result.assert_outcomes(failed=1)
    test = results(suite.path / "out/results.json")["test_ui"]
    assert test["cause"].startswith("flowwright.FlowTimeoutError: ")
    assert test["cause"].endswith("waiting for prompt matching /are you sure/")
    kept = suite.path / "test-results" / "test_ui_card.py-test_ui"
    shot, trace = test["attachments"]
    assert (shot["name"], shot["kind"]) == (FAILURE_SCREENSHOT, "image")
    assert shot["path"] == str(kept / FAILURE_SCREENSHOT)
    assert base64.b64decode(shot["data"]) == (kept / FAILURE_SCREENSHOT).read_bytes()
    assert (trace["name"], trace["kind"], trace["path"]) == (TRACE, "file", str(kept / TRACE))
    assert zipfile.is_zipfile(kept / TRACE)

    report = suite.path / "out" / "report.html"
    async with open_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(report.as_uri())
        card = page.locator("details.test", has_text="test_ui_card.py::test_ui")
        image = card.locator('figure img[alt="failure.png"]')
        await image.scroll_into_view_if_needed()
        assert await image.is_visible()
        width = CONTEXT_OPTIONS["viewport"]["width"]
        assert await image.evaluate("img => img.complete && img.naturalWidth") == width
        link = card.get_by_role("link", name="trace.zip")
        href = await link.get_attribute("href")
        assert href is not None
        assert not href.startswith(("/", "file:"))  # relative: moves with the report
        assert (report.parent / unquote(href)).resolve() == kept / TRACE
        assert await link.evaluate("a => a.href") == (kept / TRACE).as_uri()
        assert f"playwright show-trace {kept / TRACE}" in (await card.text_content() or "")

    # Merged elsewhere, with the test's output gone: the page says where the trace was.
    shutil.rmtree(suite.path / "test-results")
    merged = tmp_path / "merged" / "report.html"
    write_html(merge([load(suite.path / "out/results.json")]), merged)
    page_text = merged.read_text()
    assert ">trace.zip</a>" not in page_text
    assert (
        f"trace.zip: not found from this report's location; it was written to {kept / TRACE}"
        in page_text
    )
    assert 'alt="failure.png"' in page_text  # the screenshot travels inside the results
