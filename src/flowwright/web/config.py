"""The web plugin's settings: where Chromium, axe-core and the UI are, and where artefacts go.

Filled in by :mod:`flowwright.web.plugin` from its options; outside pytest the defaults apply
(look on ``PATH`` and in the environment, compare screenshots instead of rewriting them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["WebSettings", "web_settings"]


@dataclass
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


web_settings = WebSettings()
"""The one process-wide instance."""
