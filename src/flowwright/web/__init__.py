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

if TYPE_CHECKING:  # ``X as X``: an explicit re-export, to mypy --strict and ruff
    from flowwright.server import RemoteServer as RemoteServer
    from flowwright.web.a11y import Violation as Violation
    from flowwright.web.a11y import assert_accessible as assert_accessible
    from flowwright.web.a11y import check_accessibility as check_accessibility
    from flowwright.web.a11y import find_axe_script as find_axe_script
    from flowwright.web.browser import find_chromium as find_chromium
    from flowwright.web.browser import launch_chromium as launch_chromium
    from flowwright.web.browser import open_chromium as open_chromium
    from flowwright.web.config import WebSettings as WebSettings
    from flowwright.web.config import web_settings as web_settings
    from flowwright.web.flow import UIFlow as UIFlow
    from flowwright.web.screenshot import assert_screenshot as assert_screenshot


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
__all__ = sorted(_HOMES)  # the TYPE_CHECKING imports re-export them to type checkers

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES)
