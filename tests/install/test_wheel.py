"""flowwright as a user installs it: the wheel, in fresh virtualenvs outside the repository.

The wheel is built from this checkout (with the reference UI, ``FLOWWRIGHT_REQUIRE_UI=1``),
copied alone into a temporary directory, and installed twice — the core only, and with
``[demo,web,mcp]`` — each into a new virtualenv (``--without-pip``; this venv's pip installs
into it with ``--python``, taking the dependencies from the package index or pip's cache).
Each runs pytest in a temporary project holding only getting-started's ``pytest.ini`` and
the documentation's own samples, read from README.md and docs/ at run time, in an environment
that names no path into the repository (checked). Marked ``install`` (``-m install`` runs it
alone, ``-m "not install"`` leaves it out); it runs in ``./dev test``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowwright import TestFlowRunner
from flowwright.extras import EXTRAS
from tests.docs.test_doc_samples import samples

pytestmark = [pytest.mark.install, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MCP_DOC = ROOT / "docs" / "mcp.md"
GETTING_STARTED = ROOT / "docs" / "getting-started.md"
PASSED_ENV = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "USER", "SSL_CERT_FILE")
"""What a project's shell would pass on (pip's own PIP_* settings and proxies too)."""


def sample(page: Path, marker: str) -> str:
    """The ``python`` block of ``page`` that contains ``marker``, exactly as written."""
    found = [s.code for s in samples(page) if marker in s.code]
    assert len(found) == 1, f"{page.name}: {len(found)} samples contain {marker!r}"
    return found[0]


def pytest_ini() -> str:
    """getting-started's ``pytest.ini``, as a user copies it."""
    text = GETTING_STARTED.read_text(encoding="utf-8")
    block = re.search(r"```ini\n(\[pytest\]\n.*?)```", text, re.DOTALL)
    assert block, "docs/getting-started.md shows no [pytest] ini block"
    return block.group(1)


def run(
    command: Sequence[str | Path], *, env: Mapping[str, str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def clean_env(venv: Path) -> dict[str, str]:
    """A shell's environment with ``venv`` first on PATH, and nothing about this repository
    or this test run (no PYTHONPATH, no PYTEST_*/FLOWWRIGHT_*/CI, no virtualenv)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in PASSED_ENV or name.startswith("PIP_") or name.lower().endswith("_proxy")
    }
    system = [part for part in os.environ["PATH"].split(os.pathsep) if str(ROOT) not in part]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *system])
    return env


@dataclass(frozen=True)
class Install:
    """A fresh virtualenv with the wheel installed, and a project directory to test in."""

    venv: Path
    project: Path
    seconds: float

    @property
    def env(self) -> dict[str, str]:
        return clean_env(self.venv)

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([self.venv / "bin" / "python", *args], env=self.env, cwd=self.project)

    def pytest(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(
            [self.venv / "bin" / "python", "-m", "pytest", "-p", "no:cacheprovider", *args],
            env=self.env,
            cwd=self.project,
        )

    def assert_outside_the_repository(self) -> None:
        """sys.path, the environment and where flowwright was imported from name no path
        into the repository."""
        probe = self.python(
            "-c",
            "import json, os, sys, flowwright\n"
            "print(json.dumps({'path': sys.path, 'env': dict(os.environ), "
            "'flowwright': flowwright.__file__, 'prefix': sys.prefix}))",
        )
        assert probe.returncode == 0, probe.stderr
        seen = json.loads(probe.stdout)
        assert str(ROOT) not in probe.stdout, f"a path into {ROOT}: {seen}"
        assert seen["flowwright"].startswith(str(self.venv)), seen["flowwright"]
        assert Path(seen["prefix"]) == self.venv


def timed_install(
    wheel: Path, root: Path, name: str, extras: str
) -> tuple[Path, float, subprocess.CompletedProcess[str]]:
    """``python -m venv --without-pip``, then this venv's pip installs the wheel into it."""
    started = time.monotonic()
    venv = root / name
    env = clean_env(venv)
    created = run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, cwd=root)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    installed = run([*pip, f"{wheel}{extras}"], env=env, cwd=root)
    return venv, time.monotonic() - started, installed


@pytest.fixture(scope="module")
def installs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Install]:
    """The wheel, built and installed core-only and with every extra (side by side)."""
    built = tmp_path_factory.mktemp("dist")
    build = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", built, ROOT],
        env={**os.environ, "FLOWWRIGHT_REQUIRE_UI": "1"},
        cwd=built,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = built.glob("flowwright-*.whl")
    root = tmp_path_factory.mktemp("user")
    assert not root.is_relative_to(ROOT)
    shutil.copy(wheel, root)  # the wheel alone: nothing else of the checkout comes along
    wheel = root / wheel.name
    with ThreadPoolExecutor(2) as pool:
        jobs = {
            "core": pool.submit(timed_install, wheel, root, "core", ""),
            "full": pool.submit(timed_install, wheel, root, "full", "[demo,web,mcp]"),
        }
    result = {}
    for name, job in jobs.items():
        venv, seconds, installed = job.result()
        assert installed.returncode == 0, installed.stdout + installed.stderr
        project = root / f"project-{name}"
        project.mkdir()
        (project / "pytest.ini").write_text(pytest_ini(), encoding="utf-8")
        result[name] = Install(venv, project, seconds)
    return result


def test_core_only_every_plugin_loads_flows_run_and_extras_are_named(
    installs: dict[str, Install], tmp_path: Path
) -> None:
    core = installs["core"]
    core.assert_outside_the_repository()
    for extra in ("mcp", "web", "demo"):
        for module in EXTRAS[extra]:
            found = core.python("-c", f"import importlib.util as u; print(u.find_spec({module!r}))")
            assert found.stdout.strip() == "None", f"{module} is installed in the core venv"

    # PEP 561: the packages say they are typed, so a user's type checker reads their hints.
    typed = core.python(
        "-c",
        "from importlib.metadata import files; "
        "print(sorted(str(f) for f in files('flowwright') if f.name == 'py.typed'))",
    )
    assert typed.stdout.strip() == "['flowwright/py.typed', 'flowwright_demo/py.typed']", (
        typed.stdout + typed.stderr
    )

    (core.project / "test_plain.py").write_text("def test_x():\n    assert 1\n", encoding="utf-8")
    (core.project / "test_quickstart.py").write_text(
        sample(README, "async def test_osb_flow"), encoding="utf-8"
    )
    # The reference server is no part of a core install: one from this checkout's venv.
    with TestFlowRunner(log_path=tmp_path / "server.log") as server:
        result = core.pytest("--flow-server-url", server.ws_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout
    assert 'flowwright web: not installed (UI tests need pip install "flowwright[web]")' in (
        result.stdout
    )
    # getting-started's first test names no server: the embedded one, which needs "demo".
    # Its failure once read "server exited during start-up (exit code 1)", the cause cut off.
    embedded = core.pytest("test_quickstart.py")
    assert embedded.returncode == 1, embedded.stdout + embedded.stderr
    assert (
        "\nflowwright.ServerStartError: the embedded reference server (no --flow-server-url or "
        '--flow-server-cmd given) needs the "demo" extra, which is not installed (no module '
        "named 'starlette'): pip install \"flowwright[demo]\""
    ) in embedded.stdout, embedded.stdout
    # the README's UI test imports Playwright itself: its bare ModuleNotFoundError gets a hint
    (core.project / "test_ui.py").write_text(
        sample(README, "async def test_osb_through_the_ui"), encoding="utf-8"
    )
    ui = core.pytest("test_ui.py")
    assert ui.returncode == 2, ui.stdout + ui.stderr
    assert re.search(
        r"E   ModuleNotFoundError: No module named 'playwright'\n-+ flowwright -+\n"
        r"'playwright' comes with flowwright's 'web' extra, which is not installed: "
        r'pip install "flowwright\[web\]"',
        ui.stdout,
    ), ui.stdout

    mcp = core.python("-c", "from flowwright.mcp import FlowMCPClient")
    assert mcp.returncode == 1
    assert mcp.stderr.strip().splitlines()[-1] == (
        'flowwright.MissingExtraError: flowwright.mcp needs the "mcp" extra, which is '
        "not installed (no module named 'mcp'): pip install \"flowwright[mcp]\" (from a "
        'checkout: pip install "/path/to/flowwright[mcp]")'
    )
    demo = core.python("-m", "flowwright_demo", "--port", "0")
    assert demo.returncode == 1
    last = demo.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "flowwright.MissingExtraError: the reference flow server (flowwright_demo) "
        'needs the "demo" extra'
    )
    assert last.endswith('pip install "/path/to/flowwright[demo]")')


def test_with_every_extra_the_documented_tests_pass_as_written(
    installs: dict[str, Install],
) -> None:
    full = installs["full"]
    full.assert_outside_the_repository()
    tests = {
        "test_quickstart.py": sample(README, "async def test_osb_flow"),
        "test_ui.py": sample(README, "async def test_osb_through_the_ui"),
        "test_mcp.py": sample(MCP_DOC, "async def test_tools"),
    }
    for name, code in tests.items():
        (full.project / name).write_text(code, encoding="utf-8")

    result = full.pytest("-v")  # the embedded reference server: the installed package's
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
    baseline = full.project / "__snapshots__" / f"status-completed-chromium-{sys.platform}.png"
    assert baseline.is_file(), "the first run writes the screenshot baseline, Playwright-named"
    written = baseline.stat().st_mtime_ns

    again = full.pytest("test_ui.py")  # now compared with that baseline
    assert again.returncode == 0, again.stdout + again.stderr
    assert baseline.stat().st_mtime_ns == written
    print(  # the figures, for whoever reads -s or the report
        f"install times: core {installs['core'].seconds:.1f}s, every extra {full.seconds:.1f}s"
    )
