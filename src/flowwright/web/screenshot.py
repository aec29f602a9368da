"""Visual regression: a screenshot compared pixel by pixel with a committed baseline.

Playwright has ``toHaveScreenshot`` only in JavaScript; this is its counterpart for Python
tests. The comparison is pixelmatch's (perceptual colour distance, anti-aliasing ignored), so
a tolerance means "this many pixels look different", not "some bytes changed". Screenshots
are repeatable because the fixtures fix the viewport, scale, locale, time zone and motion
(:data:`~flowwright.web.browser.CONTEXT_OPTIONS`), Chromium renders fonts without hinting in
sRGB (:data:`~flowwright.web.browser.CHROMIUM_ARGS`), animations are stopped and the caret is
hidden for the shot, and a shot counts only once two consecutive captures agree.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from flowwright.extras import needs_extra
from flowwright.web.config import web_settings

if TYPE_CHECKING:
    from PIL.Image import Image
    from playwright.async_api import Locator, Page

__all__ = ["ENV_CI", "assert_screenshot", "baseline_name"]

ENV_CI = "CI"
"""When set, a missing baseline fails the test (after writing it) instead of passing."""

_CAPTURES = 5  # shots taken at most while waiting for two consecutive ones to agree
_PAD = 2  # pixelmatch's anti-aliasing check looks this far around a pixel


async def assert_screenshot(
    target: Page | Locator,
    name: str,
    *,
    max_diff_pixels: int = 0,
    max_diff_ratio: float = 0.0,
    threshold: float = 0.1,
    mask: Sequence[Locator] = (),
    snapshot_dir: str | os.PathLike[str] | None = None,
    update: bool | None = None,
) -> None:
    """Compare a screenshot of ``target`` (a page or one element) with baseline ``name``.

    The baseline is ``<snapshot_dir>/<name>-<browser>-<platform>.png``, named as Playwright
    names them (``status-completed-chromium-linux.png``; by default in ``__snapshots__`` beside
    the test file): fonts and rendering differ between platforms, so each has its own. A
    baseline of the older name ``<name>.png`` is still compared with when the new one is
    missing (a failure then says to rename or regenerate it). Missing, the baseline is written
    and the check passes (it fails under ``CI`` so a forgotten baseline is noticed); with
    ``update`` (``--update-snapshots``) it is rewritten.
    Otherwise the shot passes when at most ``max_diff_pixels`` pixels, or at most the
    fraction ``max_diff_ratio`` of them, differ by more than ``threshold`` (0-1, pixelmatch's
    colour distance). ``mask`` locators are painted over in both, for content that changes
    from run to run. A failure writes ``<name>-actual.png``, ``-expected.png`` and
    ``-diff.png`` (differing pixels in red) to the test's output directory and names them.
    """
    __tracebackhide__ = True
    if not name or Path(name).name != name:
        raise ValueError(f"screenshot name {name!r} must be a plain file name, like 'start-form'")
    name = name.removesuffix(".png")
    directory = Path(snapshot_dir) if snapshot_dir is not None else _snapshot_dir()
    baseline = directory / baseline_name(target, name)
    actual_png = await _stable_screenshot(target, mask)
    updating = web_settings.update_snapshots if update is None else update
    legacy = directory / f"{name}.png"
    note = ""
    if not updating and not baseline.exists() and legacy.is_file():
        note = (
            f"\n  (compared with {legacy.name}, a baseline named before flowwright added the "
            f"browser and platform: if it was made on this platform rename it to "
            f"{baseline.name}, otherwise regenerate it here with pytest --update-snapshots)"
        )
        baseline = legacy

    if updating or not baseline.exists():
        missing = not baseline.exists()
        directory.mkdir(parents=True, exist_ok=True)
        baseline.write_bytes(actual_png)
        if missing and os.environ.get(ENV_CI):
            raise AssertionError(
                f"screenshot {name!r} had no baseline; one was written to {baseline}: "
                "check it and commit it (a missing baseline fails when CI is set)"
            )
        return

    with needs_extra("web", "comparing screenshots"):
        from PIL import Image

    with Image.open(baseline) as stored, Image.open(io.BytesIO(actual_png)) as shot:
        expected, actual = stored.convert("RGBA"), shot.convert("RGBA")
    results = web_settings.output_dir or directory
    if expected.size != actual.size:
        paths = _write(results, name, actual=actual, expected=expected)
        raise AssertionError(
            f"screenshot {name!r} is {actual.size[0]}x{actual.size[1]} pixels, its baseline "
            f"{expected.size[0]}x{expected.size[1]}\n  baseline: {baseline}\n{paths}\n"
            "  to accept the new look: pytest --update-snapshots" + note
        )
    differing, diff = _compare(expected, actual, threshold)
    total = actual.size[0] * actual.size[1]
    allowed = max(max_diff_pixels, int(max_diff_ratio * total))
    if differing > allowed:
        paths = _write(results, name, actual=actual, expected=expected, diff=diff)
        raise AssertionError(
            f"screenshot {name!r} differs from its baseline: {differing} of {total} pixels "
            f"({differing / total:.2%}) differ, {allowed} allowed (threshold {threshold:g})\n"
            f"  baseline: {baseline}\n{paths}\n"
            "  to accept the new look: pytest --update-snapshots" + note
        )


def baseline_name(target: Page | Locator, name: str) -> str:
    """``<name>-<browser>-<platform>.png``, as Playwright's ``toHaveScreenshot`` names them:
    the browser that rendered ``target`` (``chromium``) and ``sys.platform`` (``linux``,
    ``darwin``, ``win32``: Node's ``process.platform`` names)."""
    page = cast("Page", getattr(target, "page", target))  # a Locator's page, or the Page
    browser = page.context.browser
    browser_name = browser.browser_type.name if browser is not None else "chromium"
    return f"{name.removesuffix('.png')}-{browser_name}-{sys.platform}.png"


def _snapshot_dir() -> Path:
    return web_settings.snapshot_dir or Path.cwd() / "__snapshots__"


async def _stable_screenshot(target: Page | Locator, mask: Sequence[Locator]) -> bytes:
    """A shot the page agrees with twice in a row (fonts loaded, layout settled)."""
    previous = None
    for _ in range(_CAPTURES):
        shot = await target.screenshot(
            animations="disabled", caret="hide", scale="css", mask=list(mask)
        )
        if shot == previous:
            return shot
        previous = shot
    assert previous is not None
    return previous  # never settled: compare the last one, and let the diff show why


def _compare(expected: Image, actual: Image, threshold: float) -> tuple[int, Image | None]:
    """How many pixels differ, and a diff image (the expected faded, differences in red).

    pixelmatch is pure Python, so it runs only on the box around the changed pixels.
    """
    with needs_extra("web", "comparing screenshots"):
        from PIL import Image, ImageChops
        from pixelmatch.contrib.PIL import pixelmatch

    box = ImageChops.difference(expected, actual).getbbox(alpha_only=False)
    if box is None:
        return 0, None
    width, height = actual.size
    box = (
        max(box[0] - _PAD, 0),
        max(box[1] - _PAD, 0),
        min(box[2] + _PAD, width),
        min(box[3] + _PAD, height),
    )
    region = Image.new("RGBA", (box[2] - box[0], box[3] - box[1]))
    differing = pixelmatch(expected.crop(box), actual.crop(box), region, threshold=threshold)
    faded = Image.blend(
        expected.convert("L").convert("RGBA"), Image.new("RGBA", expected.size, "white"), 0.9
    )
    faded.paste(region, box[:2])
    return differing, faded


def _write(
    directory: Path,
    name: str,
    *,
    actual: Image,
    expected: Image,
    diff: Image | None = None,
) -> str:
    """Save the images a failure is explained by; their paths, one per line."""
    directory.mkdir(parents=True, exist_ok=True)
    images = {"expected": expected, "actual": actual}
    if diff is not None:
        images["diff"] = diff
    lines = []
    for kind, image in images.items():
        path = directory / f"{name}-{kind}.png"
        image.save(path)
        lines.append(f"  {kind + ':':<9} {path}")
    return "\n".join(lines)
