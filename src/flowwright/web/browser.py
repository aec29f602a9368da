"""Chromium for UI tests: found on this machine, launched through Playwright, headless as root.

Playwright's own browser download is not assumed to work (closed networks, CI images), so
flowwright drives the system's Chromium through ``executable_path``. The flags make it start
headless as root in a container and keep it off the network: without the background-networking
flags Chromium keeps dialling Google's hosts, which a closed network refuses, many at a time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flowwright.errors import BrowserNotFoundError
from flowwright.extras import needs_extra
from flowwright.web.config import web_settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_NAMES",
    "CONTEXT_OPTIONS",
    "ENV_CHROMIUM",
    "find_chromium",
    "launch_chromium",
    "open_chromium",
]

ENV_CHROMIUM = "FLOWWRIGHT_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
"""Executable names looked up on PATH, Debian's first."""

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",  # the sandbox needs user namespaces, which root in a container lacks
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    # Deterministic pixels for screenshot baselines:
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--hide-scrollbars",
)
"""Flags for every launch (Playwright adds ``--headless`` itself when ``headless=True``)."""

CONTEXT_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {
        "viewport": {"width": 1024, "height": 768},
        "device_scale_factor": 1,
        "locale": "en-US",
        "timezone_id": "UTC",
        "color_scheme": "light",
        "reduced_motion": "reduce",
    }
)
"""Browser-context options that make screenshots repeatable: size, scale, locale, motion."""

_INSTALL_HINT = (
    "install it (Debian/Ubuntu: 'apt-get install -y chromium'), or point flowwright at one with "
    f"--flow-chromium PATH (ini: flow_chromium) or the {ENV_CHROMIUM} environment variable; "
    "'playwright install' is not needed"
)


def find_chromium(executable: str | os.PathLike[str] | None = None) -> Path:
    """The Chromium to launch: ``executable``, else the option, else the env var, else PATH.

    Raises :class:`BrowserNotFoundError` naming what was tried and how to install one.
    """
    given = executable or web_settings.chromium or os.environ.get(ENV_CHROMIUM)
    if given:
        found = shutil.which(str(given))
        if found is None:
            raise BrowserNotFoundError(
                f"Chromium executable {str(given)!r} does not exist or is not executable; "
                + _INSTALL_HINT
            )
        return Path(found)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    raise BrowserNotFoundError(
        f"no Chromium found: none of {list(CHROMIUM_NAMES)} is on PATH; " + _INSTALL_HINT
    )


async def launch_chromium(
    playwright: Playwright,
    executable: str | os.PathLike[str] | None = None,
    *,
    args: Sequence[str] = (),
    **options: Any,
) -> Browser:
    """Launch the system's Chromium headless with :data:`CHROMIUM_ARGS` plus ``args``."""
    path = find_chromium(executable)
    options.setdefault("headless", True)
    return await playwright.chromium.launch(
        executable_path=path, args=[*CHROMIUM_ARGS, *args], **options
    )


@contextlib.asynccontextmanager
async def open_chromium(
    executable: str | os.PathLike[str] | None = None, **options: Any
) -> AsyncIterator[Browser]:
    """Start Playwright and Chromium for one block, and stop both at its end.

    Finds Chromium before starting Playwright's driver, so a missing browser fails at once.
    """
    find_chromium(executable)
    with needs_extra("web", "launching Chromium for UI tests"):
        from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright, executable, **options)
        try:
            yield browser
        finally:
            await browser.close()
