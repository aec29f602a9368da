"""Finding and launching Chromium, the web plugin's options, and what a failing UI test keeps."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from flowwright import BrowserNotFoundError
from flowwright.web import find_chromium, open_chromium
from flowwright.web.browser import ENV_CHROMIUM
from tests.web.pages import use_web

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with no Chromium: an empty PATH, no env var, no option."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(ENV_CHROMIUM, raising=False)
    use_web(chromium=None)


@pytest.mark.usefixtures("no_chromium")
def test_no_chromium_on_path_says_how_to_install_one() -> None:
    with pytest.raises(BrowserNotFoundError) as raised:
        find_chromium()
    text = str(raised.value)
    assert "none of ['chromium', 'chromium-browser'] is on PATH" in text
    assert "apt-get install -y chromium" in text
    assert "--flow-chromium" in text
    assert ENV_CHROMIUM in text


@pytest.mark.usefixtures("no_chromium")
async def test_opening_fails_before_starting_playwright() -> None:
    with pytest.raises(BrowserNotFoundError, match="no Chromium found"):
        async with open_chromium():
            pass


def test_a_named_executable_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(BrowserNotFoundError, match="'/no/such/chromium' does not exist"):
        find_chromium("/no/such/chromium")


@pytest.mark.usefixtures("no_chromium")
def test_the_environment_variable_names_the_executable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(ENV_CHROMIUM, str(fake))
    assert find_chromium() == fake
    assert find_chromium(str(fake)) == fake  # an explicit argument works the same way


async def test_the_system_chromium_launches_headless() -> None:
    async with open_chromium() as browser:
        page = await browser.new_page()
        await page.set_content("<p>hello</p>")
        assert await page.locator("p").text_content() == "hello"
        assert await page.evaluate("navigator.webdriver")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--flow-chromium", "/no/such/chromium"], "--flow-chromium: Chromium executable"),
        (["--flow-axe-script", "/no/axe.min.js"], "or leave it out to use the one the web extra"),
        (["-o", "flow_ui_sockets=ws(("], "flow_ui_sockets (ini) 'ws((' is not a regular expr"),
        (["--flow-ui-url", "localhost:5173"], "--flow-ui-url 'localhost:5173' is neither a URL"),
        (["--flow-ui-sockets", "ws(("], "--flow-ui-sockets 'ws((' is not a regular expression"),
    ],
)
def test_invalid_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], error: str
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{error}*"])


def test_a_failing_ui_test_keeps_its_trace_and_screenshot(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_page="""
        async def test_fails(flow_context):
            page = await flow_context.new_page()
            await page.set_content("<h1>the page as it failed</h1>")
            assert False, "on purpose"

        async def test_passes(flow_context):
            page = await flow_context.new_page()
            await page.set_content("<h1>fine</h1>")
        """
    )
    result = pytester.runpytest_subprocess("--flow-output-dir", "out")
    result.assert_outcomes(passed=1, failed=1)
    kept = pytester.path / "out" / "test_page.py-test_fails"
    result.stdout.fnmatch_lines(
        [
            "*flowwright browser artefacts*",
            f"trace: {kept / 'trace.zip'} (view: playwright show-trace *",
            f"screenshot: {kept / 'failure.png'}",
        ]
    )
    assert sorted(os.listdir(kept)) == ["failure.png", "trace.zip"]
    assert (kept / "failure.png").read_bytes().startswith(b"\x89PNG")
    assert not (pytester.path / "out" / "test_page.py-test_passes").exists()
