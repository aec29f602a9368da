"""The reference UI through the proxy: what the page does while a result is 3 s late.

The page, its ``/api`` calls, its static files and its socket all go through ``flow_proxy``
(``flow_page`` is routed by it); the server is untouched. The test waits on events — the
proxy's note that it is holding the result, the page's own frames — never on the clock.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from flowwright import settings
from flowwright.proxy import FlowProxy, delay
from flowwright.report import attach
from flowwright.web import UIFlow
from flowwright_demo.settings import packaged_ui_dir

BUILD = packaged_ui_dir() / "index.html"


@pytest.fixture(autouse=True)
def _ui_is_built() -> None:
    """Fail, not skip, without the UI: a skipped test would pass for coverage it never gave."""
    assert BUILD.exists(), f"the UI is not built: ./dev setup builds {BUILD.parent}"


def items(page: Page, kind: str | None = None) -> Locator:
    listed = page.get_by_role("log", name="Messages").locator(":scope > li")
    return listed.and_(page.locator(f'[data-kind="{kind}"]')) if kind else listed


async def test_a_result_delayed_3s_leaves_the_page_running_then_shows_it(
    flow_proxy: FlowProxy, ui_flow: UIFlow, flow_page: Page
) -> None:
    page, held = flow_page, 3.0 * settings.timeout_factor
    assert page.url == flow_proxy.http_url + "/"  # the page itself came through the proxy
    form = page.get_by_role("form", name="Start a flow")
    await form.get_by_label("Question").fill("What is Meta's hate speech policy?")
    await form.get_by_role("button", name="Start").click()
    await ui_flow.wait_for_ui_message()

    async with flow_proxy.fault(delay(held, category="result", agent="researcher")) as fault:
        await (
            page.get_by_role("region", name="Prompt").get_by_role("button", name="confirm").click()
        )
        await flow_proxy.wait_for(category="note", pattern="^delayed by", since=0)
        [late] = fault.hits
        # While the proxy holds it: the page has all it was sent, and shows it; it is still
        # running, with the researcher's start as its last word; no result, no alarm.
        started = await ui_flow.wait_for(category="progress", pattern="researcher started")
        assert not ui_flow.collector.filter(category="result")  # still in the proxy
        await expect(page.get_by_role("status")).to_have_text("Running…")
        await expect(items(page)).to_have_count(len(ui_flow.collector.filter()))
        await expect(items(page).last).to_contain_text(started.content)
        await expect(items(page, "result")).to_have_count(0)
        await expect(page.get_by_role("alert")).to_have_count(0)  # no "Connection lost"
        attach("the page while the result is held", await page.screenshot(), "image")

        [result] = await ui_flow.wait_for_agent_results(["researcher"], timeout=held + 30)
    assert result.raw == late.raw  # the very frame the proxy held, unchanged
    await ui_flow.wait_for_completion(timeout=60)
    await expect(page.get_by_role("status")).to_have_text("Flow completed")
    await expect(items(page, "result")).to_have_count(1)
    await expect(items(page)).to_have_count(len(ui_flow.collector.filter()))
    # what came after the result waited behind it, as on a TCP connection: order is kept
    order = [m.type for m in ui_flow.collector.filter()]
    assert order.index("research_result") < order.index("chat_message")
