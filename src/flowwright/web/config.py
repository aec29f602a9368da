"""The web plugin's settings: where Chromium, axe-core and the UI are, and where artefacts go.

One frozen :class:`WebSettings` per test, in the test's scope (:mod:`flowwright.context`): the
web plugin fills it from its options and points it at the test's directories;
:data:`web_settings` reads the running test's. Outside pytest the defaults apply (look on
``PATH`` and in the environment, compare screenshots instead of rewriting them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, cast

import pytest

from flowwright.context import current

__all__ = ["WEB", "WebSettings", "web_settings"]


@dataclass(frozen=True)
class WebSettings:
    """Defaults the browser, screenshot and accessibility helpers fall back on."""

    chromium: str | None = None
    """``--flow-chromium``: the Chromium executable (else ``FLOWWRIGHT_CHROMIUM``, else PATH)."""
    axe_script: str | None = None
    """``--flow-axe-script``: axe-core's ``axe.min.js`` (else ``FLOWWRIGHT_AXE_SCRIPT``, else
    the one the ``web`` extra installs)."""
    ui_url: str | None = None
    """``--flow-ui-url``: where the UI under test is (a full URL, or a path on the flow server);
    ``None``: the flow server's ``/``."""
    ui_sockets: str | None = None
    """``--flow-ui-sockets``: a regex on socket URLs: which of the page's sockets feed the
    collector (``None``: every one)."""
    update_snapshots: bool = False
    """``--update-snapshots``: rewrite screenshot baselines instead of comparing with them."""
    snapshot_dir: Path | None = None
    """The running test's baseline directory: ``__snapshots__`` beside its file."""
    output_dir: Path | None = None
    """The running test's artefact directory (traces, failure screenshots, image diffs)."""

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


WEB = pytest.StashKey[WebSettings]()
"""Where a test's scope keeps its :class:`WebSettings`."""


class _CurrentWebSettings:
    """``flowwright.web.web_settings``: the running test's :class:`WebSettings`, read-only
    (change them for a test with ``current().stash[WEB] = web_settings.replace(...)``)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(current().stash.get(WEB, _DEFAULTS), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            "flowwright.web.web_settings is read-only (it is the running test's): use the web "
            "plugin's options, or flowwright.context.current().stash[WEB] = "
            "web_settings.replace(...)"
        )


_DEFAULTS = WebSettings()
web_settings: WebSettings = cast(WebSettings, _CurrentWebSettings())
"""The running test's web settings."""
