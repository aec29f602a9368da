"""The reference server's UI and the flow behind it, tested together in a real Chromium.

The test clicks as a person would; the page's own socket feeds ``ui_flow``, so the test
waits on the flow's messages (never on time) and then checks both what the flow said and
what the page shows. Screenshots of each step of the osb flow are compared with the
baselines in ``__snapshots__/`` (``--update-snapshots`` after an intended change).
"""

from __future__ import annotations

import json

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from flowwright import Category, FlowServer, Message
from flowwright.web import UIFlow, assert_accessible, assert_screenshot
from flowwright_demo.settings import packaged_ui_dir

BUILD = packaged_ui_dir() / "index.html"
QUESTION = "What is Meta's hate speech policy?"
AGENTS = ["researcher", "policy_analyst"]


@pytest.fixture(autouse=True)
def _ui_is_built() -> None:
    """Fail, not skip, without the UI: a skipped test would pass for coverage it never gave."""
    assert BUILD.exists(), f"the UI is not built: ./dev setup builds {BUILD.parent}"


async def start(page: Page, question: str = QUESTION, flow: str = "osb") -> None:
    form = page.get_by_role("form", name="Start a flow")
    await form.get_by_label("Flow").select_option(flow)
    await form.get_by_label("Question").fill(question)
    await form.get_by_role("button", name="Start").click()


def prompt_panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Prompt")


def items(page: Page) -> Locator:
    """One ``<li>`` per message the page received."""
    return page.get_by_role("log", name="Messages").locator(":scope > li")


def sent(flow: UIFlow) -> list[dict[str, object]]:
    return [json.loads(m.raw) for m in flow.messages if m.direction == "sent"]


async def expect_shown(page: Page, messages: list[Message]) -> None:
    """Each message is on the page, under its agent, with (the start of) its text."""
    for message in messages:
        shown = items(page).and_(page.locator(f'[data-agent="{message.role}"]'))
        await expect(shown.filter(has_text=message.content.split("\n")[0][:60])).to_have_count(1)


async def test_the_osb_flow_through_the_ui(ui_flow: UIFlow, flow_page: Page) -> None:
    page = flow_page
    await expect(page.get_by_role("button", name="Start")).to_be_enabled()
    await assert_screenshot(page, "osb-1-start")

    await start(page)
    prompt = await ui_flow.wait_for_ui_message(pattern="proceed|confirm")
    await ui_flow.wait_for(category="progress", pattern="waiting")  # the step's last message
    panel = prompt_panel(page)
    await expect(panel.locator("p")).to_have_text(prompt.content)
    await expect(panel.get_by_role("button", name="confirm", exact=True)).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("Running…")
    await expect(items(page)).to_have_count(len(ui_flow.collector.filter()))
    await assert_screenshot(page, "osb-2-prompt")

    await panel.get_by_role("button", name="confirm", exact=True).click()
    results = await ui_flow.wait_for_agent_results(AGENTS, timeout=60)
    await ui_flow.wait_for_completion(timeout=60)
    await ui_flow.wait_for(category="progress", pattern="finished")  # the run's last message

    # the stream: what the page sent, and what the flow answered
    assert sent(ui_flow) == [
        {"type": "run_flow", "flow": "osb", "prompt": QUESTION},
        {"type": "manager_response", "confirm": True, "selection": "confirm", "content": "confirm"},
    ]
    assert {m.role for m in results} == set(AGENTS)
    assert any("hate speech" in m.content.lower() for m in results)
    assert not ui_flow.collector.filter(category=Category.ERROR)

    # the page: every message shown, the results under their agents, the flow completed
    await expect(page.get_by_role("status")).to_have_text("Flow completed")
    await expect(items(page)).to_have_count(len(ui_flow.collector.filter()))
    await expect_shown(page, results)
    await expect(panel).to_have_count(0)
    await assert_screenshot(page.get_by_role("main"), "osb-3-completed")  # the whole log


async def test_reject_through_the_ui(ui_flow: UIFlow, flow_page: Page) -> None:
    page = flow_page
    await start(page)
    await ui_flow.wait_for_ui_message()
    await prompt_panel(page).get_by_role("button", name="reject", exact=True).click()
    await ui_flow.wait_for_completion(timeout=60)

    assert sent(ui_flow)[-1]["confirm"] is False
    assert not ui_flow.collector.filter(category=Category.RESULT)
    assert not [m for m in ui_flow.collector.filter(category=Category.CHAT) if m.role in AGENTS]
    await expect(page.get_by_role("status")).to_have_text("Flow completed")
    await expect(items(page).and_(page.locator('[data-kind="result"]'))).to_have_count(0)


FAULT = {"agent_error": "researcher"}
# The UI has no fault field, and should not grow one for tests: the test adds the fault to
# the run_flow the page sends, in the page, before the page's own code runs. The frame that
# goes out (and that ui_flow records) is exactly what the server got.
ADD_FAULT = f"""
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {{
  const message = JSON.parse(data);
  if (message.type === "run_flow") {{
    data = JSON.stringify({{...message, fault: {json.dumps(FAULT)}}});
  }}
  return send.call(this, data);
}};
"""


async def test_an_agent_error_is_shown_in_the_ui(
    flow_context: BrowserContext, flow_server: FlowServer
) -> None:
    await flow_context.add_init_script(script=ADD_FAULT)
    page = await flow_context.new_page()
    flow = UIFlow(page, server=flow_server)
    await page.goto(flow_server.base_url + "/")
    await start(page)
    await flow.wait_for_ui_message()
    assert sent(flow)[0]["fault"] == FAULT

    await prompt_panel(page).get_by_role("button", name="confirm", exact=True).click()
    error = await flow.wait_for(category="error", agent="researcher", timeout=60)
    assert "agent_error" in error.content
    # the flow goes on after the error: wait for its end with the error expected
    await flow.wait_for(lambda m: m.is_flow_completed, timeout=60, fail_on_error=False)

    shown = items(page).and_(page.locator('[data-kind="error"][data-agent="researcher"]'))
    await expect(shown.get_by_role("alert")).to_have_text(error.content)
    await expect(page.get_by_role("status")).to_have_text("Flow completed")


async def test_the_ui_is_accessible_at_every_step(ui_flow: UIFlow, flow_page: Page) -> None:
    page = flow_page
    await expect(page.get_by_role("button", name="Start")).to_be_enabled()
    await assert_accessible(page)
    await start(page)
    await ui_flow.wait_for_ui_message()
    await expect(prompt_panel(page)).to_be_visible()
    await assert_accessible(page)
    await prompt_panel(page).get_by_role("button", name="confirm", exact=True).click()
    await ui_flow.wait_for_completion(timeout=60)
    await expect(page.get_by_role("status")).to_have_text("Flow completed")
    await assert_accessible(page)
