"""assert_accessible: axe-core in the page, every violation named; a clean page passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page

from flowwright import AxeNotFoundError
from flowwright.web import (
    a11y,
    assert_accessible,
    check_accessibility,
    find_axe_script,
)
from flowwright.web.a11y import ENV_AXE_SCRIPT
from tests.web.pages import use_web


def bundled_axe_version() -> str:
    """The version in the header of the script the web extra installs (``/*! axe v4.12.1``)."""
    header = find_axe_script().read_text(encoding="utf-8")[:200]
    found = re.match(r"/\*! axe v(\d+\.\d+\.\d+)", header)
    assert found, header
    return found.group(1)


@pytest.fixture(autouse=True)
def _no_script_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """The script the web extra installs, whatever the environment says."""
    monkeypatch.delenv(ENV_AXE_SCRIPT, raising=False)
    use_web(axe_script=None)


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
    version = bundled_axe_version()
    assert text.startswith(
        f"3 accessibility violation(s) on about:blank (axe-core {version}, tags wcag2a, wcag2aa):"
    )
    minor = version.rpartition(".")[0]
    for rule, impact, target in [
        ("image-alt", "critical", "#logo"),
        ("label", "critical", "#question"),
        ("color-contrast", "serious", "#faint"),
    ]:
        assert f"  {rule} [{impact}] " in text
        assert f"https://dequeuniversity.com/rules/axe/{minor}/{rule}?application=axeAPI" in text
        assert f"    - {target}" in text


async def test_rules_include_and_exclude_narrow_the_check(flow_context: BrowserContext) -> None:
    page = await page_with(flow_context, PLANTED)
    rules = [v.rule for v in await check_accessibility(page, rules={"color-contrast": False})]
    assert sorted(rules) == ["image-alt", "label"]
    only_img = await check_accessibility(page, include="#logo")
    assert [(v.rule, v.targets) for v in only_img] == [("image-alt", ("#logo",))]
    await assert_accessible(page, exclude=["#logo", "#question", "#faint"])


def test_the_web_extra_brings_axe_core_without_npm() -> None:
    script = find_axe_script()
    assert script.name == "axe.min.js"
    assert "site-packages" in script.parts
    assert "node_modules" not in script.parts
    assert "Mozilla Public" in script.read_text(encoding="utf-8")[:600]  # its MPL-2.0 notice


async def test_without_the_extra_s_package_the_error_names_the_extra(
    flow_context: BrowserContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(a11y, "AXE_PACKAGE", "no_such_axe_package")
    page = await page_with(flow_context, CLEAN)
    with pytest.raises(AxeNotFoundError) as raised:
        await assert_accessible(page)
    assert str(raised.value).startswith(
        "no axe-core script: the package 'no-such-axe-package' that brings it is not installed "
        '(pip install "flowwright[web]")'
    )
    with pytest.raises(AxeNotFoundError, match=r"'/no/axe\.js' is not a file"):
        await assert_accessible(page, axe_script="/no/axe.js")


async def test_a_script_named_by_option_or_env_wins(
    flow_context: BrowserContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    own = tmp_path / "axe.min.js"  # the bundled engine, reporting a version of its own
    own.write_text(find_axe_script().read_text(encoding="utf-8") + '\naxe.version = "0.0.0-own";')
    for name in ("option", "env"):
        if name == "option":
            use_web(axe_script=str(own))
        else:
            use_web(axe_script=None)
            monkeypatch.setenv(ENV_AXE_SCRIPT, str(own))
        assert find_axe_script() == own
        with pytest.raises(AssertionError, match=r"\(axe-core 0\.0\.0-own, tags"):
            await assert_accessible(await page_with(flow_context, PLANTED))
