"""What flowwright costs a test process that does not use a feature: every pytest process (each
xdist worker too) loads the six plugins, and a plugin imports its feature's SDK and modules
only when a test or an option uses them (``flowwright.lazy``, the plugins' own imports).
Not even pydantic (the message models) is loaded before a message is: xdist's controller,
which never sees one, never imports it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from flowwright.lazy import lazy_attributes
from tests.timing import scaled

PLUGINS = {
    "flowwright.plugin",
    "flowwright.report.plugin",
    "flowwright.mcp.plugin",
    "flowwright.web.plugin",
    "flowwright.proxy.plugin",
    "flowwright.conformance.plugin",
}
SDKS = {
    "playwright",
    "mcp",
    "jinja2",
    "PIL",
    "pixelmatch",
    "axe_playwright_python",
    "starlette",
    "uvicorn",
    "yaml",
    "flowwright_demo",
    "websockets",
}
"""Third-party packages of the extras, the reference server, and websockets (the client's): a
suite that uses none of their features must not import them."""
FEATURES = {
    "flowwright.client",
    "flowwright.stream",
    "flowwright.runner",
    "flowwright.report.html",
    "flowwright.report.results",
    "flowwright.report.shard",
    "flowwright.proxy.relay",
    "flowwright.proxy.lane",
    "flowwright.proxy.connection",
    "flowwright.proxy.scope",
    "flowwright.proxy.endpoint",
    "flowwright.proxy.http",
    "flowwright.proxy.faults",
    "flowwright.conformance.rules",
    "flowwright.conformance.baseline",
    "flowwright.conformance.checker",
    "flowwright.web.flow",
    "flowwright.web.a11y",
    "flowwright.web.screenshot",
    "flowwright.mcp.client",
}
"""flowwright's own modules behind an option or a fixture."""


def modules_after_a_plain_run(directory: Path, *args: str, test: str | None = None) -> set[str]:
    """The modules a pytest process (run with ``args``) has imported after running one plain
    test (or ``test``, a test module's source)."""
    (directory / "pytest.ini").write_text("[pytest]\n")
    plain = "def test_plain():\n    assert 1 + 1 == 2\n"
    (directory / "test_plain.py").write_text(test or plain)
    script = (
        "import sys, pytest\n"
        "code = pytest.main(['-q', '-p', 'no:cacheprovider', *sys.argv[2:], sys.argv[1]])\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-c", script, str(directory), *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=scaled(60),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listing = done.stdout.rpartition("MODULES ")[2]
    return set(listing.split())


def test_loading_the_plugins_imports_no_sdk_and_no_feature(tmp_path: Path) -> None:
    loaded = modules_after_a_plain_run(tmp_path)
    assert loaded >= PLUGINS, "the probe loads every plugin"
    sdks = sorted({name.partition(".")[0] for name in loaded} & SDKS)
    assert not sdks, f"a plain test run imported {sdks}"
    features = sorted(loaded & FEATURES)
    assert not features, f"a plain test run imported {features}"
    assert "pydantic" not in loaded, "a plain test run imported pydantic"


def test_the_xdist_controller_imports_no_pydantic(tmp_path: Path) -> None:
    """The worker's test parses a message (pydantic); the controller only reports on it."""
    test = (
        "import sys\n"
        "from flowwright.protocol import parse\n\n"
        "def test_parse():\n"
        "    assert parse('{\"type\": \"chat_message\"}').type == 'chat_message'\n"
        "    assert 'pydantic' in sys.modules\n"
    )
    loaded = modules_after_a_plain_run(tmp_path, "-n", "1", test=test)
    assert "xdist.dsession" in loaded, "the probe ran as xdist's controller"
    assert "pydantic" not in loaded, "xdist's controller imported pydantic"


def test_a_lazy_name_is_imported_on_first_use_then_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    package = ModuleType("flowwright_lazy_probe")
    monkeypatch.setitem(sys.modules, package.__name__, package)
    getter = lazy_attributes(package.__name__, {"dedent": "textwrap"})
    assert getter("dedent") is textwrap.dedent
    assert vars(package)["dedent"] is textwrap.dedent, "kept as a plain attribute"
    with pytest.raises(AttributeError, match="'flowwright_lazy_probe' has no attribute 'indent'"):
        getter("indent")
