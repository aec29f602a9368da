"""assert_accessible: axe-core in the page, every violation named; a clean page passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page

from flowwright import AxeNotFoundError
from flowwright.web import assert_accessible, check_accessibility, web_settings
from flowwright.web.a11y import ENV_AXE_SCRIPT

CLEAN = """<!doctype html>
<html lang="en"><head><title>A clean page</title></head><body>
<main>
  <h1>Start a flow</h1>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="flowwright logo">
  <label for="question">Question</label> <input id="question">
  <p style="color: #222; background: #fff">Readable text</p>
</main>
</body></html>"""

PLANTED = """<!doctype html>
<html lang="en"><head><title>A page with planted violations</title></head><body>
<main>
  <h1>Start a flow</h1>
  <img id="logo" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <input id="question">
  <p id="faint" style="color: #ccc; background: #fff">Hard to read</p>
</main>
</body></html>"""


async def page_with(context: BrowserContext, html: str) -> Page:
    page = await context.new_page()
    await page.set_content(html)
    return page


async def test_a_clean_page_passes(flow_context: BrowserContext) -> None:
    await assert_accessible(await page_with(flow_context, CLEAN))


async def test_planted_violations_are_each_named(flow_context: BrowserContext) -> None:
    page = await page_with(flow_context, PLANTED)
    with pytest.raises(AssertionError) as raised:
        await assert_accessible(page)
    text = str(raised.value)
    assert text.startswith(
        "3 accessibility violation(s) on about:blank (axe-core, tags wcag2a, wcag2aa):"
    )
    for rule, impact, target in [
        ("image-alt", "critical", "#logo"),
        ("label", "critical", "#question"),
        ("color-contrast", "serious", "#faint"),
    ]:
        assert f"  {rule} [{impact}] " in text
        assert f"https://dequeuniversity.com/rules/axe/4.14/{rule}?application=axeAPI" in text
        assert f"    - {target}" in text


async def test_rules_include_and_exclude_narrow_the_check(flow_context: BrowserContext) -> None:
    page = await page_with(flow_context, PLANTED)
    rules = [v.rule for v in await check_accessibility(page, rules={"color-contrast": False})]
    assert sorted(rules) == ["image-alt", "label"]
    only_img = await check_accessibility(page, include="#logo")
    assert [(v.rule, v.targets) for v in only_img] == [("image-alt", ("#logo",))]
    await assert_accessible(page, exclude=["#logo", "#question", "#faint"])


async def test_missing_axe_says_how_to_get_it(
    flow_context: BrowserContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ENV_AXE_SCRIPT, raising=False)
    monkeypatch.setattr(web_settings, "axe_script", None)
    monkeypatch.setattr(web_settings, "rootdir", tmp_path)
    page = await page_with(flow_context, CLEAN)
    with pytest.raises(AxeNotFoundError, match="get it with 'npm install axe-core'"):
        await assert_accessible(page)
    with pytest.raises(AxeNotFoundError, match=r"'/no/axe\.js' is not a file"):
        await assert_accessible(page, axe_script="/no/axe.js")
