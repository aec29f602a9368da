"""The public surface, pinned: a change here is a change of API, made on purpose."""

from __future__ import annotations

import importlib
import pkgutil

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


def test_top_level_exports_are_pinned() -> None:
    assert set(flowwright.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(flowwright, name), name


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
