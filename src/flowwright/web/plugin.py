"""The flowwright web pytest plugin (its own ``pytest11`` entry point, ``flowwright-web``).

Kept apart from :mod:`flowwright.plugin` so that a flow test suite without the ``web`` extra
never imports Playwright: this module imports it only inside the fixtures that need it.

Loop scopes: Playwright's async objects belong to the event loop that started them, and pytest-
asyncio gives each test its own loop (``asyncio_default_fixture_loop_scope = function``). So
the session-scoped part is the sync one, :func:`flow_chromium` (Chromium found once, option
errors reported once); :func:`flow_browser` launches that Chromium in the test's own loop —
about half a second — and every test gets a fresh browser, context and page, with no test suite
having to run in a session-wide loop.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from flowwright.context import TestScope, current
from flowwright.errors import BrowserNotFoundError
from flowwright.extras import missing_modules
from flowwright.options import add_options, given_as, option
from flowwright.report.record import attach
from flowwright.server import FlowServer
from flowwright.web.browser import CONTEXT_OPTIONS, find_chromium
from flowwright.web.config import WEB, WebSettings, web_settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

    from flowwright.web.flow import UIFlow

__all__ = [
    "flow_browser",
    "flow_chromium",
    "flow_context",
    "flow_page",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_unconfigure",
    "ui_flow",
    "ui_url",
]

TRACE = "trace.zip"
FAILURE_SCREENSHOT = "failure.png"

_reports_key = pytest.StashKey[dict[str, pytest.TestReport]]()
_output_root_key = pytest.StashKey[Path]()
_settings_key = pytest.StashKey[WebSettings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowwright-web", "flowwright: web UI testing")
    options = [
        (
            "--flow-chromium",
            "flow_chromium",
            "the Chromium executable for UI tests (default: $FLOWWRIGHT_CHROMIUM, else "
            "chromium or chromium-browser on PATH)",
        ),
        (
            "--flow-axe-script",
            "flow_axe_script",
            "axe-core's axe.min.js for accessibility checks (default: $FLOWWRIGHT_AXE_SCRIPT, "
            "else the one the web extra installs, from axe-playwright-python)",
        ),
        (
            "--flow-ui-url",
            "flow_ui_url",
            "where the ui_flow/flow_page fixtures open the UI under test: a full URL "
            "(http://127.0.0.1:5173/app/) or a path on the flow server (default: the flow "
            "server's /)",
        ),
        (
            "--flow-ui-sockets",
            "flow_ui_sockets",
            "a regular expression searched in the URL of each socket the UI's page opens: only "
            "matching sockets feed ui_flow (e.g. '/ws/' to leave out a dev server's live-reload "
            "socket; default: every socket)",
        ),
        (
            "--flow-output-dir",
            "flow_output_dir",
            "where failing UI tests keep their trace and screenshot, and screenshot "
            "assertions their actual/expected/diff images (default: test-results)",
        ),
    ]
    add_options(parser, group, options)
    help_text = "rewrite screenshot baselines instead of comparing with them"
    group.addoption(
        "--update-snapshots",
        dest="update_snapshots",
        action="store_true",
        default=None,
        help=help_text,
    )
    parser.addini("update_snapshots", help=help_text, type="bool", default=False)


def _read_settings(config: pytest.Config) -> tuple[WebSettings, Path]:
    def get(name: str) -> str | None:
        return option(config, name)

    def said(name: str) -> str:
        return given_as(config, name)

    chromium, axe, output = get("flow_chromium"), get("flow_axe_script"), get("flow_output_dir")
    ui_url, ui_sockets = get("flow_ui_url"), get("flow_ui_sockets")
    if ui_url is not None and not ui_url.startswith(("http://", "https://", "/")):
        raise pytest.UsageError(
            f"{said('flow_ui_url')} {ui_url!r} is neither a URL (http://..., https://...) nor "
            "a path on the flow server (/...)"
        )
    if ui_sockets is not None:
        try:
            re.compile(ui_sockets)
        except re.error as exc:
            raise pytest.UsageError(
                f"{said('flow_ui_sockets')} {ui_sockets!r} is not a regular expression: {exc}"
            ) from None
    if chromium is not None:
        try:
            find_chromium(chromium)
        except BrowserNotFoundError as exc:
            raise pytest.UsageError(f"{said('flow_chromium')}: {exc}") from None
    if axe is not None and not Path(axe).is_file():
        raise pytest.UsageError(
            f"{said('flow_axe_script')} {axe!r} is not a file: give the path of axe-core's "
            "axe.min.js, or leave it out to use the one the web extra installs"
        )
    output_root = config.rootpath / (output or "test-results")
    if output_root.exists() and not output_root.is_dir():
        raise pytest.UsageError(
            f"{said('flow_output_dir')} {str(output_root)!r} is not a directory"
        )
    settings = WebSettings(
        chromium=chromium,
        axe_script=axe,
        ui_url=ui_url,
        ui_sockets=ui_sockets,
        update_snapshots=bool(
            config.getoption("update_snapshots") or config.getini("update_snapshots")
        ),
    )
    return settings, output_root


def pytest_configure(config: pytest.Config) -> None:
    settings, output_root = _read_settings(config)
    config.stash[_settings_key] = settings
    config.stash[_output_root_key] = output_root


def pytest_unconfigure(config: pytest.Config) -> None:
    """Nothing to restore: the settings live in each test's scope."""


def pytest_report_header(config: pytest.Config) -> str:
    if missing_modules("web"):
        return 'flowwright web: not installed (UI tests need pip install "flowwright[web]")'
    try:
        chromium = str(find_chromium())
    except BrowserNotFoundError:
        chromium = "not found (UI tests will fail; see --flow-chromium)"
    settings = config.stash[_settings_key]
    mode = "update" if settings.update_snapshots else "compare"
    ui = settings.ui_url or "the flow server's /"
    if settings.ui_sockets:
        ui += f" (sockets matching {settings.ui_sockets!r})"
    return (
        f"flowwright web: chromium {chromium}; UI {ui}; snapshots {mode}; "
        f"artefacts in {config.stash[_output_root_key]}"
    )


def _output_dir(item: pytest.Item) -> Path:
    name = re.sub(r"[^\w.\-]+", "-", item.nodeid).strip("-")[:150]
    return item.config.stash[_output_root_key] / name


@pytest.fixture(autouse=True)
def _flowwright_web_test(request: pytest.FixtureRequest, _flowwright_test: TestScope) -> None:
    """Give the test's scope its web settings, pointed at this test's directories."""
    output = _output_dir(request.node)
    shutil.rmtree(output, ignore_errors=True)  # a previous run's artefacts would mislead
    _flowwright_test.stash[WEB] = request.config.stash[_settings_key].replace(
        snapshot_dir=request.node.path.parent / "__snapshots__", output_dir=output
    )


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_reports_key, {})
    return any(report.failed for report in reports.values())


@pytest.fixture(scope="session")
def flow_chromium() -> Path:
    """The Chromium executable UI tests launch (found once; an error says how to install it)."""
    return find_chromium()


@pytest_asyncio.fixture
async def flow_browser(flow_chromium: Path) -> AsyncIterator[Browser]:
    """Chromium, launched headless in this test's event loop and closed after it."""
    from flowwright.web.browser import open_chromium

    async with open_chromium(flow_chromium) as browser:
        yield browser


@pytest_asyncio.fixture
async def flow_context(
    flow_browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserContext]:
    """A fresh browser context (fixed viewport, locale, time zone, reduced motion), traced.

    When the test fails, its trace (``trace.zip``: ``playwright show-trace trace.zip``) and a
    screenshot of each open page are kept in the test's output directory, and attached to the
    test's entry in the HTML report (the screenshots inline, the trace linked).
    """
    context = await flow_browser.new_context(**CONTEXT_OPTIONS)
    await context.tracing.start(screenshots=True, snapshots=True)
    try:
        yield context
    finally:
        if _failed(request.node):
            output = _output_dir(request.node)
            output.mkdir(parents=True, exist_ok=True)
            for index, page in enumerate(context.pages):
                name = FAILURE_SCREENSHOT if index == 0 else f"failure-{index + 1}.png"
                await page.screenshot(path=output / name, full_page=True)
                attach(name, output / name)  # the report shows it inline
            await context.tracing.stop(path=output / TRACE)
            attach(TRACE, output / TRACE, "file")  # and links this
        else:
            await context.tracing.stop()
        await context.close()


def ui_url(server: FlowServer) -> str:
    """Where the UI under test is: ``--flow-ui-url`` (a path is joined to the flow server's
    URL), else the flow server's ``/``."""
    url = web_settings.ui_url or "/"
    return server.base_url + url if url.startswith("/") else url


@pytest_asyncio.fixture
async def ui_flow(flow_context: BrowserContext, flow_server: FlowServer) -> UIFlow:
    """A page on the UI under test with a :class:`UIFlow` attached to it.

    The UI is the flow server's ``/``, or ``--flow-ui-url``; ``--flow-ui-sockets`` chooses which
    of its sockets feed the flow. Attached before navigation, so the socket the UI opens is
    caught from its first frame; a UI answering an error status fails here, naming it.
    """
    from flowwright.web.flow import UIFlow

    server = flow_server
    test_server = current().settings.server
    if test_server is not None:  # the test's own: a fresh one, or flow_proxy in front
        server = await asyncio.to_thread(test_server)
    page = await flow_context.new_page()
    flow = UIFlow(page, server=server, sockets=web_settings.ui_sockets)
    await flow.goto(ui_url(server))
    return flow


@pytest.fixture
def flow_page(ui_flow: UIFlow) -> Page:
    """The page of :func:`ui_flow`: the UI under test, its socket's frames recorded."""
    return ui_flow.page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    item.stash.setdefault(_reports_key, {})[report.when] = report
    failed_with_a_browser = report.failed and report.when in ("setup", "call")
    if failed_with_a_browser and "flow_context" in getattr(item, "fixturenames", ()):
        output = _output_dir(item)
        report.sections.append(
            (
                "flowwright browser artefacts",
                f"trace: {output / TRACE} (view: playwright show-trace {output / TRACE})\n"
                f"screenshot: {output / FAILURE_SCREENSHOT}",
            )
        )
    return report
