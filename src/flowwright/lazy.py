"""Packages that import their public names on first use (PEP 562 ``__getattr__``).

Every pytest process (each xdist worker too) loads flowwright's six plugins, and with each
plugin its package: a package that imported all of its modules up front made every test
process pay for the report's templates, the proxy's server and the UI helpers, used or not.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, homes: Mapping[str, str], *, extra: str | None = None
) -> Callable[[str], object]:
    """A ``__getattr__`` for ``package``: each public name's module (``homes``: name → module)
    is imported when the name is first asked for, and the name kept as a plain attribute.
    ``extra``: the package needs that extra, so a missing SDK is a ``MissingExtraError``
    naming it rather than a bare ``ModuleNotFoundError``."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if extra is None:
            guard: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        else:
            from flowwright.extras import needs_extra

            guard = needs_extra(extra, package)
        with guard:
            value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    return __getattr__
