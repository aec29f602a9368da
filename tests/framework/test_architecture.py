"""The architecture, checked: no import cycles in the framework, no module-level mutable state
(a test's state lives in its scope, ``flowwright.context``), one interface to servers."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
from pathlib import Path

import flowwright

SRC = Path(flowwright.__file__).parent
PLUGIN_TESTS = ".conformance.test_"  # the conformance checks are test modules, not the API


def modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the flowwright modules it imports, anywhere in it (also lazily, also for
    type checking: a cycle there is still two modules that need each other)."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in known and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_framework_has_no_import_cycles() -> None:
    graph = import_graph()
    # A package importing its own submodules (its __init__ re-exporting them) is not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    assert cycles(graph) == []


def test_no_module_keeps_mutable_state() -> None:
    """Constants are immutable (tuples, frozensets, MappingProxyType, frozen dataclasses);
    what changes per test lives in the test's scope."""
    mutable = []
    for info in pkgutil.walk_packages(flowwright.__path__, "flowwright."):
        if PLUGIN_TESTS in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("__"):  # __all__ and friends
                continue
            if isinstance(value, list | dict | set | bytearray) or (
                dataclasses.is_dataclass(value)
                and not isinstance(value, type)
                and not value.__dataclass_params__.frozen  # type: ignore[attr-defined]
            ):
                mutable.append(f"{info.name}.{name} ({type(value).__name__})")
    assert mutable == []
    uses_global = [
        name
        for name, path in modules().items()
        if any(isinstance(node, ast.Global) for node in ast.walk(ast.parse(path.read_text())))
    ]
    assert uses_global == []


def test_servers_are_known_by_their_interface_only() -> None:
    """No module asks which kind of server it has (``isinstance(..., TestFlowRunner)``)."""
    asking = [
        name
        for name, path in modules().items()
        if "isinstance(" in (text := path.read_text())
        and any(
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "isinstance"
            and "TestFlowRunner" in ast.unparse(node)
            for node in ast.walk(ast.parse(text))
        )
    ]
    assert asking == []
