"""flowwright.web: test a flow's web UI together with the flow behind it.

A Playwright page on the system's Chromium, its WebSocket frames fed to the same collector and
waits as a backend test (:class:`UIFlow`), screenshot baselines compared pixel by pixel
(:func:`assert_screenshot`) and axe-core accessibility checks (:func:`assert_accessible`).
Needs the ``web`` extra: ``pip install 'flowwright[web]'``. :class:`RemoteServer` is here too:
a UI test against a flow server it did not start names it for diagnostics
(``UIFlow(page, server=RemoteServer(url))``).
"""

# The names are imported on first use (flowwright.lazy): every pytest process loads this
# package with its plugin, and most never use the rest of it.

from types import MappingProxyType
from typing import TYPE_CHECKING

from flowwright.lazy import lazy_attributes

if TYPE_CHECKING:
    from flowwright.server import RemoteServer
    from flowwright.web.a11y import (
        Violation,
        assert_accessible,
        check_accessibility,
        find_axe_script,
    )
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

_HOMES = MappingProxyType(
    {
        "RemoteServer": "flowwright.server",
        "UIFlow": "flowwright.web.flow",
        "Violation": "flowwright.web.a11y",
        "WebSettings": "flowwright.web.config",
        "assert_accessible": "flowwright.web.a11y",
        "assert_screenshot": "flowwright.web.screenshot",
        "check_accessibility": "flowwright.web.a11y",
        "find_axe_script": "flowwright.web.a11y",
        "find_chromium": "flowwright.web.browser",
        "launch_chromium": "flowwright.web.browser",
        "open_chromium": "flowwright.web.browser",
        "web_settings": "flowwright.web.config",
    }
)
"""Public name → the module it is imported from on first use."""

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES)
