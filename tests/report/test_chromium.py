"""The HTML report in a real Chromium: it renders, filters, searches, and runs no planted script."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowwright.web.browser import open_chromium
from tests.report.planted import PLANT


async def test_the_report_renders_filters_and_searches(
    reported: pytest.Pytester, tmp_path: Path
) -> None:
    async with open_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        await page.goto((reported.path / "out/report.html").as_uri())

        tests = page.locator("details.test")
        visible = page.locator("details.test:visible")
        assert await tests.count() == 3
        assert await page.locator("#total").text_content() == "3"
        # The timeline: every message a row, the planted markup shown as text, never run.
        assert await page.locator("tr.msg").count() >= 10
        assert await page.get_by_text(PLANT).count() >= 1
        assert await page.evaluate("typeof window.__pwned") == "undefined"
        assert await page.locator("table.waits tr.wait").count() == 3
        assert await page.locator("details.test table.violations tbody tr").count() == 2
        image = page.locator("figure img")
        await image.scroll_into_view_if_needed()
        assert await image.evaluate("img => img.complete && img.naturalWidth") == 4

        await page.click("button[data-status=failed]")
        assert await visible.count() == 1
        assert await visible.get_attribute("data-status") == "failed"
        # The run-level table's link shows and opens its test's entry, whatever the filter.
        summary = page.locator("#summary-checks-table tbody tr")
        assert await summary.count() == 1
        assert await summary.locator("td").nth(1).text_content() == PLANT  # text, not markup
        await summary.locator("a.test-link").click()
        assert await visible.count() == 2
        skipped = page.locator("details.test[data-status=skipped]")
        assert await skipped.evaluate("entry => entry.open && location.hash === '#' + entry.id")
        await page.click("button[data-status=all]")
        assert await visible.count() == 3

        await page.fill("#search", "not today")
        assert await visible.count() == 1
        assert await visible.get_attribute("data-status") == "skipped"
        assert await page.locator("#shown").text_content() == "1"
        await page.fill("#search", "policy_analyst")
        assert await visible.count() == 2  # both flows had the analyst join
        assert await page.locator("tr.msg.hit").count() >= 2
        await page.fill("#search", "")

        shot = tmp_path / "report.png"
        await page.screenshot(path=str(shot), full_page=True)
        await page.close()
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 10_000
    assert problems == []  # no script error, and no blocked inline script (CSP)
