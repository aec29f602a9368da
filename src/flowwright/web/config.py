"""The web plugin's settings: where Chromium and axe-core are, and where artefacts go.

Filled in by :mod:`flowwright.web.plugin` from its options; outside pytest the defaults apply
(look on ``PATH`` and in the environment, compare screenshots instead of rewriting them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

__all__ = ["WebSettings", "web_settings"]


@dataclass
class WebSettings:
    """Defaults the browser, screenshot and accessibility helpers fall back on."""

    chromium: str | None = None
    """``--flow-chromium``: the Chromium executable (else ``FLOWWRIGHT_CHROMIUM``, else PATH)."""
    axe_script: str | None = None
    """``--flow-axe-script``: axe-core's ``axe.min.js`` (else ``FLOWWRIGHT_AXE_SCRIPT``)."""
    update_snapshots: bool = False
    """``--update-snapshots``: rewrite screenshot baselines instead of comparing with them."""
    rootdir: Path | None = None
    """The project root, where ``frontend/node_modules/axe-core`` is looked for last."""
    snapshot_dir: Path | None = None
    """The running test's baseline directory: ``__snapshots__`` beside its file."""
    output_dir: Path | None = None
    """The running test's artefact directory (traces, failure screenshots, image diffs)."""


web_settings = WebSettings()
"""The one process-wide instance."""
