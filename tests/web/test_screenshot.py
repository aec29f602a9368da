"""assert_screenshot: baselines written, compared pixel by pixel, failures explained with images."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page

from flowwright.web import assert_screenshot
from flowwright.web.screenshot import ENV_CI
from tests.web.pages import use_web
from tests.web.test_browser import INI

SUFFIX = f"-chromium-{sys.platform}.png"  # Playwright's <name>-<browser>-<platform>.png

CARD = """<!doctype html>
<html lang="en"><head><title>card</title><style>
  body {{ margin: 0; font: 16px sans-serif; }}
  .card {{ width: 300px; margin: 20px; padding: 16px; border: 2px solid #333; }}
  .spin {{ animation: spin 1s linear infinite; display: inline-block; }}
  @keyframes spin {{ to {{ transform: rotate(360deg); }} }}
</style></head><body>
<div class="card"><h1 style="color: {colour}">Flow completed</h1>
<p>At <time>{time}</time> <span class="spin">*</span></p></div>
</body></html>"""


@pytest.fixture(autouse=True)
def _results(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Not under CI rules, and failure images in this test's own directory."""
    monkeypatch.delenv(ENV_CI, raising=False)
    use_web(output_dir=tmp_path / "results")


def size_of(png: Path) -> tuple[int, int]:
    with Image.open(png) as image:
        return image.size


async def card(context: BrowserContext, colour: str = "black", time: str = "12:00:00") -> Page:
    page = await context.new_page()
    await page.set_content(CARD.format(colour=colour, time=time))
    return page


async def test_the_first_run_writes_the_baseline_and_an_identical_page_passes(
    flow_context: BrowserContext, tmp_path: Path
) -> None:
    page = await card(flow_context)
    await assert_screenshot(page, "card", snapshot_dir=tmp_path)
    assert size_of(tmp_path / f"card{SUFFIX}") == (1024, 768)  # the fixture's fixed viewport
    await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)
    assert not (tmp_path / "results").exists()


async def test_a_changed_page_fails_naming_the_diff_images(
    flow_context: BrowserContext, tmp_path: Path
) -> None:
    await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)
    changed = await card(flow_context, colour="#c00")
    with pytest.raises(AssertionError) as raised:
        await assert_screenshot(changed, "card", snapshot_dir=tmp_path)
    text = str(raised.value)
    counted = re.match(r"screenshot 'card' differs from its baseline: (\d+) of 786432 pixels", text)
    assert counted, text
    differing = int(counted.group(1))
    assert 100 < differing < 5000, text  # the heading's glyphs, not the whole page
    results = tmp_path / "results"
    for kind in ("expected", "actual", "diff"):
        assert f"  {kind + ':':<9} {results / f'card-{kind}.png'}" in text
    assert f"baseline: {tmp_path / f'card{SUFFIX}'}" in text
    with Image.open(results / "card-diff.png") as diff:
        rgb = diff.convert("RGB").tobytes()
    red = sum(rgb[i : i + 3] == b"\xff\x00\x00" for i in range(0, len(rgb), 3))
    assert red == differing
    # a tolerance of that many pixels (or that fraction of the page) lets it pass
    await assert_screenshot(changed, "card", snapshot_dir=tmp_path, max_diff_pixels=differing)
    await assert_screenshot(changed, "card", snapshot_dir=tmp_path, max_diff_ratio=0.01)


async def test_a_mask_hides_what_changes_between_runs(
    flow_context: BrowserContext, tmp_path: Path
) -> None:
    first = await card(flow_context, time="12:00:00")
    await assert_screenshot(first, "masked", snapshot_dir=tmp_path, mask=[first.locator("time")])
    later = await card(flow_context, time="23:59:59")
    await assert_screenshot(later, "masked", snapshot_dir=tmp_path, mask=[later.locator("time")])
    with pytest.raises(AssertionError, match="differs from its baseline"):
        await assert_screenshot(later, "masked", snapshot_dir=tmp_path)


async def test_an_element_alone_and_a_size_change(
    flow_context: BrowserContext, tmp_path: Path
) -> None:
    page = await card(flow_context)
    await assert_screenshot(page.locator(".card"), "card-element", snapshot_dir=tmp_path)
    box = await page.locator(".card").bounding_box()
    assert box is not None
    width, height = round(box["width"]), round(box["height"])
    assert size_of(tmp_path / f"card-element{SUFFIX}") == (width, height) == (336, height)
    await page.locator(".card").evaluate("card => card.style.width = '400px'")
    size_change = rf"is 436x{height} pixels, its baseline 336x{height}\n"
    with pytest.raises(AssertionError, match=size_change):
        await assert_screenshot(page.locator(".card"), "card-element", snapshot_dir=tmp_path)


async def test_update_rewrites_the_baseline(flow_context: BrowserContext, tmp_path: Path) -> None:
    await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)
    red = await card(flow_context, colour="#c00")
    await assert_screenshot(red, "card", snapshot_dir=tmp_path, update=True)
    await assert_screenshot(red, "card", snapshot_dir=tmp_path)


async def test_under_ci_a_missing_baseline_fails_once_written(
    flow_context: BrowserContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_CI, "true")
    with pytest.raises(AssertionError, match="had no baseline; one was written"):
        await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)
    await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)


def test_the_plugin_keeps_baselines_beside_the_test_and_updates_them_on_request(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_look=f"""
        from flowwright.web import assert_screenshot

        async def test_look(flow_context):
            page = await flow_context.new_page()
            await page.set_content({CARD.format(colour="black", time="noon")!r})
            await assert_screenshot(page, "look")
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    baseline = pytester.path / "__snapshots__" / f"look{SUFFIX}"
    written = baseline.stat().st_mtime_ns
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert baseline.stat().st_mtime_ns == written
    pytester.runpytest_subprocess("--update-snapshots").assert_outcomes(passed=1)
    assert baseline.stat().st_mtime_ns > written


async def test_a_baseline_of_the_old_name_is_still_compared_and_a_failure_says_to_rename(
    flow_context: BrowserContext, tmp_path: Path
) -> None:
    await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)
    shutil.move(tmp_path / f"card{SUFFIX}", tmp_path / "card.png")  # as named before
    await assert_screenshot(await card(flow_context), "card", snapshot_dir=tmp_path)
    assert not (tmp_path / f"card{SUFFIX}").exists()  # compared, not rewritten
    with pytest.raises(AssertionError) as raised:
        await assert_screenshot(
            await card(flow_context, colour="#c00"), "card", snapshot_dir=tmp_path
        )
    text = str(raised.value)
    assert f"baseline: {tmp_path / 'card.png'}" in text
    assert f"rename it to card{SUFFIX}, otherwise regenerate it" in text
    red = await card(flow_context, colour="#c00")
    await assert_screenshot(red, "card", snapshot_dir=tmp_path, update=True)
    assert (tmp_path / f"card{SUFFIX}").is_file()  # an update writes the new name
    await assert_screenshot(red, "card", snapshot_dir=tmp_path)
