"""Render docs/api.md from the docstrings of every public name (``__all__``) of flowwright.

    python scripts/api_docs.py          # or: ./dev docs

``tests/docs/test_api_docs.py`` fails when docs/api.md is out of date or a public name, or a
public method or property of a public class, has no docstring.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import importlib
import inspect
import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MODULES = (
    "flowwright",
    "flowwright.dialect",
    "flowwright.replay",
    "flowwright.recording",
    "flowwright.web",
    "flowwright.mcp",
    "flowwright.report",
    "flowwright.proxy",
    "flowwright.conformance",
)
OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "api.md"

HEADER = """\
# API reference

Generated from the docstrings by `python scripts/api_docs.py` (`./dev docs`); do not edit by
hand — `tests/docs/test_api_docs.py` fails when this file is out of date. Every name below is
in its module's `__all__`. The guides: [index](index.md).
"""


class _Raw(str):
    """An annotation kept as written (``from __future__ import annotations``), shown unquoted."""

    def __repr__(self) -> str:
        return str(self)


_FUNCTION_REPR = re.compile(r"<function (\w+) at 0x[0-9a-f]+>")


def _signature(obj: Any, *, drop_first: bool = False) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = list(signature.parameters.values())[1 if drop_first else 0 :]
    params = [
        p.replace(annotation=_Raw(p.annotation)) if isinstance(p.annotation, str) else p
        for p in params
    ]
    returns = signature.return_annotation
    if isinstance(returns, str):
        returns = _Raw(returns)
    text = str(signature.replace(parameters=params, return_annotation=returns))
    return _FUNCTION_REPR.sub(r"\1", text)  # a function default by its name, not its address


def _data_docstrings(module_name: str) -> dict[str, str]:
    """Docstrings of module-level data: the string literal right after an assignment."""
    source = inspect.getsource(importlib.import_module(module_name))
    found: dict[str, str] = {}
    body = ast.parse(source).body
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = inspect.cleandoc(after.value.value)
    return found


_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr):`~?\.?([^`]+)`")


def _doc(obj: Any) -> str | None:
    """The docstring in Markdown (reST roles and double backticks become code spans)."""
    if (
        isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and (obj.__doc__ or "").startswith(obj.__name__ + "(")
    ):
        return None  # the signature dataclasses writes when there is no docstring
    doc = inspect.getdoc(obj)
    return _ROLE.sub(r"`\1`", doc).replace("``", "`") if doc else None


def _members(cls: type) -> Iterator[tuple[str, Any, str]]:
    """(name, object, kind) of the public methods and properties flowwright defines on ``cls``."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("flowwright"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, property | functools.cached_property):
                yield name, value, "property"
            elif isinstance(value, classmethod | staticmethod):
                yield name, value.__func__, type(value).__name__
            elif inspect.isfunction(value):
                yield name, value, "method"


def _is_async_context_manager(func: Any) -> bool:
    return inspect.isasyncgenfunction(inspect.unwrap(func)) and func is not inspect.unwrap(func)


def _render_class(name: str, cls: type, out: list[str]) -> None:
    if issubclass(cls, enum.Enum):
        out += [f"### `class {name}`", "", _doc(cls) or "", ""]
        out += ["| member | value |", "|---|---|"]
        out += [f"| `{m.name}` | `{m.value!r}` |" for m in cls]
        out.append("")
        return
    bases = [_public(base).__name__ for base in cls.__bases__ if _public(base) is not object]
    base_text = f"({', '.join(bases)})" if bases else ""
    out += [f"### `class {name}{base_text}`", ""]
    if not issubclass(cls, BaseException) and not getattr(cls, "_is_protocol", False):
        out += ["```text", f"{name}{_signature(cls)}", "```", ""]
    out += [_doc(cls) or "", ""]
    for member, value, kind in _members(cls):
        if kind == "property":
            out.append(f"- **`{member}`** (property) — {_one_line(_doc(value))}")
            continue
        heading = f"{member}{_signature(value, drop_first=kind != 'staticmethod')}"
        if _is_async_context_manager(value):
            heading = f"async with {heading}"
        elif inspect.iscoroutinefunction(inspect.unwrap(value)):
            heading = f"async {heading}"
        if kind == "classmethod":
            heading = f"{name}.{heading}"
        out.append(f"- **`{heading}`** — {_one_line(_doc(value))}")
    out.append("")


def _public(cls: type) -> type:
    """``cls``, or its nearest public base if it is private."""
    while cls.__name__.startswith("_"):
        cls = cls.__bases__[0]
    return cls


def _one_line(doc: str | None) -> str:
    """A member's docstring, indented to continue its list item."""
    return (doc or "").replace("\n", "\n  ").replace("\n  \n", "\n\n")


def _entries(module_name: str) -> Iterator[tuple[str, Any, str | None]]:
    module = importlib.import_module(module_name)
    data_docs: dict[str, str] = {}
    for name in sorted(module.__all__):  # ASCII order, however __all__ is built
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isroutine(obj):
            yield name, obj, _doc(obj)
            continue
        if not data_docs:
            for source in {module_name, *_submodules(module_name)}:
                data_docs.update(_data_docstrings(source))
        yield name, obj, data_docs.get(name)


def _submodules(package: str) -> list[str]:
    module = importlib.import_module(package)
    if not hasattr(module, "__path__"):  # a module, not a package: no submodules
        return []
    root = Path(module.__file__ or "").parent
    return [f"{package}.{path.stem}" for path in sorted(root.glob("*.py")) if path.stem[0] != "_"]


def render() -> str:
    """docs/api.md as it should read now."""
    out = [HEADER]
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        summary = (inspect.getdoc(module) or "").split("\n\n")[0]
        out += [f"## `{module_name}`", "", summary, ""]
        for name, obj, doc in _entries(module_name):
            if inspect.isclass(obj):
                _render_class(name, obj, out)
            elif inspect.isroutine(obj):
                heading = f"{name}{_signature(obj)}"
                if _is_async_context_manager(obj):
                    heading = f"async with {heading}"
                elif inspect.iscoroutinefunction(inspect.unwrap(obj)):
                    heading = f"async {heading}"
                out += [f"### `{name}()`", "", "```text", heading, "```", "", doc or "", ""]
            else:
                kind = repr(obj) if type(obj).__module__ == "typing" else type(obj).__name__
                out += [f"### `{name}`", "", f"`{kind}`. {doc or ''}".strip(), ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip() + "\n"


def undocumented() -> list[str]:
    """Public names, and public methods and properties of public classes, with no docstring."""
    missing: list[str] = []
    for module_name in MODULES:
        for name, obj, doc in _entries(module_name):
            if not doc:
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(obj) and not issubclass(obj, enum.Enum):
                missing += [
                    f"{module_name}.{name}.{member}"
                    for member, value, _ in _members(obj)
                    if not _doc(value)
                ]
    return missing


def main() -> int:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    for name in undocumented():
        print(f"no docstring: {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
