"""flowwright.web: test a flow's web UI together with the flow behind it.

A Playwright page on the system's Chromium, its WebSocket frames fed to the same collector and
waits as a backend test (:class:`UIFlow`), screenshot baselines compared pixel by pixel
(:func:`assert_screenshot`) and axe-core accessibility checks (:func:`assert_accessible`).
Needs the ``web`` extra: ``pip install 'flowwright[web]'``. :class:`RemoteServer` is here too:
a UI test against a flow server it did not start names it for diagnostics
(``UIFlow(page, server=RemoteServer(url))``).
"""

from flowwright.server import RemoteServer
from flowwright.web.a11y import Violation, assert_accessible, check_accessibility, find_axe_script
from flowwright.web.browser import find_chromium, launch_chromium, open_chromium
from flowwright.web.config import WebSettings, web_settings
from flowwright.web.flow import UIFlow
from flowwright.web.screenshot import assert_screenshot

__all__ = [
    "RemoteServer",
    "UIFlow",
    "Violation",
    "WebSettings",
    "assert_accessible",
    "assert_screenshot",
    "check_accessibility",
    "find_axe_script",
    "find_chromium",
    "launch_chromium",
    "open_chromium",
    "web_settings",
]
