"""Hatch build hook: say when the reference server's UI is missing from a package being built.

The UI (``src/flowwright_demo/ui``) is built by npm (``npm ci && npm run build`` in
``frontend/``, which ``./dev setup`` runs) and shipped as package data. A build without it still
works — the framework does not need it, and a core install from a checkout must not need
Node.js — but the package's server then answers ``/`` with a 404 saying so. A release build
sets ``FLOWWRIGHT_REQUIRE_UI=1`` and fails instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

UI_INDEX = Path("src", "flowwright_demo", "ui", "index.html")
ENV_REQUIRE = "FLOWWRIGHT_REQUIRE_UI"


class ReferenceUIHook(BuildHookInterface):
    """Checks for the built UI before an sdist or a (non-editable) wheel is built."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable" or (Path(self.root) / UI_INDEX).is_file():
            return
        message = (
            f"the reference server's UI is not built ({UI_INDEX} is missing), so this "
            f"{self.target_name} will not contain it: build it first with 'npm ci && npm run "
            "build' in frontend/ (Node.js >= 20.19; ./dev setup does it)"
        )
        if os.environ.get(ENV_REQUIRE):
            raise RuntimeError(f"{message} ({ENV_REQUIRE} is set)")
        self.app.display_warning(f"warning: {message}")
