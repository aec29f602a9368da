"""The public surface, pinned: a change here is a change of API, made on purpose."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import flowwright

PUBLIC = {
    "AxeNotFoundError",
    "BrowserNotFoundError",
    "Category",
    "ClientStateError",
    "ConnectError",
    "ConnectionLostError",
    "Conversation",
    "Dialect",
    "Exchange",
    "Expectation",
    "FlowEndedError",
    "FlowErrorEvent",
    "FlowEventWaiter",
    "FlowMetrics",
    "FlowServer",
    "FlowTestClient",
    "FlowTimeoutError",
    "FlowwrightError",
    "FlowwrightWarning",
    "Match",
    "Message",
    "MessageCollector",
    "MissingExtraError",
    "NoReplyError",
    "ProtocolError",
    "RemoteServer",
    "Reply",
    "ResponseSimulator",
    "ServerExitedError",
    "ServerStartError",
    "Settings",
    "TestFlowRunner",
    "Turn",
    "UIPageError",
    "WaitAbortedError",
    "__version__",
    "interpret_reply",
    "settings",
}


PENDING_RENAMES: set[str] = set()
"""Names two modules still both export (none: every public name has one home)."""


def modules() -> Iterator[tuple[str, ModuleType]]:
    """Every module of flowwright that defines names (not a package, not a ``__main__``)."""
    for info in pkgutil.walk_packages(flowwright.__path__, "flowwright."):
        if not info.ispkg and not info.name.endswith(".__main__"):
            yield info.name, importlib.import_module(info.name)


def test_top_level_exports_are_pinned() -> None:
    assert set(flowwright.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(flowwright, name), name


def test_top_level_exports_are_listed_once() -> None:
    repeated = sorted(name for name, n in Counter(flowwright.__all__).items() if n > 1)
    assert not repeated, f"flowwright.__all__ lists {repeated} more than once"


def test_every_top_level_export_is_one_modules_public_name() -> None:
    """Each name comes from exactly one module that lists it in its own ``__all__``."""
    homes: dict[str, list[str]] = {name: [] for name in flowwright.__all__}
    for module_name, module in modules():
        for name in module.__all__:
            if name in homes and getattr(module, name) is getattr(flowwright, name):
                homes[name].append(module_name)
    homes.pop("__version__")
    wrong = {name: found for name, found in homes.items() if len(found) != 1}
    assert not wrong, f"top-level names not listed by exactly one module's __all__: {wrong}"


def test_no_public_top_level_name_is_left_out_of_all() -> None:
    public = {
        name
        for name, value in vars(flowwright).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    unlisted = sorted(public - set(flowwright.__all__))
    assert not unlisted, f"flowwright has public names missing from its __all__: {unlisted}"


def test_module_exports_are_globally_unique() -> None:
    """As in websockets: a public name means one thing, wherever it is imported from.
    (Packages re-export their modules' names, and every plugin has its pytest hooks.)"""
    owners: dict[str, list[str]] = defaultdict(list)
    for module_name, module in modules():
        for name in module.__all__:
            if not name.startswith("pytest_"):
                owners[name].append(module_name)
    repeated = {name: found for name, found in owners.items() if len(found) > 1}
    assert set(repeated) <= PENDING_RENAMES, f"names exported by several modules: {repeated}"


def test_every_module_declares_all_and_defines_it() -> None:
    for info in pkgutil.walk_packages(flowwright.__path__, "flowwright."):
        module = importlib.import_module(info.name)
        assert hasattr(module, "__all__"), f"{info.name} has no __all__"
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"{info.name}.__all__ names undefined {missing}"


def test_every_error_has_the_one_root() -> None:
    errors = importlib.import_module("flowwright.errors")
    for name in errors.__all__:
        root = (
            flowwright.FlowwrightWarning if name.endswith("Warning") else flowwright.FlowwrightError
        )
        assert issubclass(getattr(errors, name), root), name
    assert issubclass(flowwright.FlowTimeoutError, TimeoutError)


def test_the_framework_never_imports_the_reference_server() -> None:
    for info in pkgutil.walk_packages(flowwright.__path__, "flowwright."):
        source = importlib.import_module(info.name).__file__
        assert source is not None
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
        assert "import flowwright_demo" not in text, info.name
        assert "from flowwright_demo" not in text, info.name


def test_whole_module_re_exports_stay_whole() -> None:
    """``client``, ``conversation`` and ``errors`` are re-exported whole: a name added to
    their ``__all__`` belongs in the package's export table too."""
    for module_name in ("flowwright.client", "flowwright.conversation", "flowwright.errors"):
        module = importlib.import_module(module_name)
        missing = sorted(set(module.__all__) - set(flowwright.__all__))
        assert not missing, f"{module_name} exports {missing}, flowwright.__all__ does not"


def lazy_packages() -> Iterator[ModuleType]:
    """flowwright and its packages that import their names on first use (``_HOMES``)."""
    yield flowwright
    for info in pkgutil.walk_packages(flowwright.__path__, "flowwright."):
        module = importlib.import_module(info.name)
        if info.ispkg and hasattr(module, "_HOMES"):
            yield module


def test_what_type_checkers_read_is_what_the_packages_import() -> None:
    """A lazy package imports its names on first use (``_HOMES``: name → module); type
    checkers read its ``TYPE_CHECKING`` imports instead. Both must say the same names, from
    the same modules, and the names are the package's ``__all__``."""
    packages = list(lazy_packages())
    assert {"flowwright.web", "flowwright.report", "flowwright.proxy"} <= {
        package.__name__ for package in packages
    }
    for package in packages:
        assert package.__file__ is not None
        tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
        block = next(
            node
            for node in tree.body
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        )
        static: dict[str, str] = {}
        for node in block.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    names = module.__all__ if alias.name == "*" else [alias.name]
                    static.update(dict.fromkeys(names, node.module))
        assert static == dict(package._HOMES), package.__name__
        assert set(package.__all__) - {"__version__"} == set(static), package.__name__
