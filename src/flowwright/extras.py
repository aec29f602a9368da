"""Optional extras: their SDKs are imported only where a feature needs them.

The core install (``pip install flowwright``) loads every pytest entry point; the MCP, web and
reference-server pieces import the MCP SDK, Playwright or Starlette only when used, and a
missing one becomes a :class:`~flowwright.errors.MissingExtraError` naming the extra to
install instead of a bare ``No module named 'mcp'``.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from flowwright.errors import MissingExtraError

__all__ = ["EXTRAS", "extra_for", "missing_modules", "needs_extra", "require_extra"]

EXTRAS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "mcp": ("mcp",),
        "web": ("playwright", "pixelmatch", "PIL", "axe_playwright_python"),
        "demo": ("starlette", "uvicorn", "yaml", "rank_bm25", "mcp"),
    }
)
"""The top-level modules each extra brings (``pyproject.toml``'s optional dependencies)."""


def _message(extra: str, feature: str, missing: str) -> str:
    return (
        f'{feature} needs the "{extra}" extra, which is not installed (no module named '
        f'{missing!r}): pip install "flowwright[{extra}]" (from a checkout: pip install '
        f'"/path/to/flowwright[{extra}]")'
    )


def extra_for(module: str) -> str | None:
    """The extra that brings ``module`` (dotted names count by their top level), if any: the
    first listed, so ``mcp`` is the ``mcp`` extra's rather than ``demo``'s."""
    root = module.partition(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if root in modules), None)


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (found, not imported)."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require_extra(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` is installed."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtraError(_message(extra, feature, missing[0]))


@contextlib.contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn the import of a missing module of ``extra`` inside the block into a
    :class:`MissingExtraError`; any other import error goes through unchanged."""
    try:
        yield
    except ModuleNotFoundError as exc:
        root = (exc.name or "").partition(".")[0]
        if root not in EXTRAS[extra]:
            raise
        raise MissingExtraError(_message(extra, feature, root)) from exc
