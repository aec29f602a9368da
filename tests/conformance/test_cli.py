"""``flowwright conformance``: the suite from a shell, with its exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conformance.conftest import Planted

FLOWWRIGHT = str(Path(sys.executable).parent / "flowwright")  # the installed console script


def test_the_command_runs_the_suite_against_a_url_with_a_baseline(
    planted: Planted, tmp_path: Path
) -> None:
    server = planted("silent-unknown-flow")
    command = [FLOWWRIGHT, "conformance", server.ws_url, "--conformance-answer-time", "2"]
    failed = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert failed.returncode == 1
    assert "unknown-flow          FAIL" in failed.stdout
    assert "13 pass, 1 FAIL" in failed.stdout
    # the command imports flowwright before pytest starts: no warning about it, every run
    assert "warning" not in failed.stdout.lower(), failed.stdout[-2000:]

    baseline = tmp_path / "baseline.toml"
    baseline.write_text('[expected-failures]\nunknown-flow = "silent, as Buttermilk is"\n')
    excused = subprocess.run(
        [*command, "--baseline", str(baseline)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert excused.returncode == 0, excused.stdout[-2000:]
    assert "13 pass, 1 expected" in excused.stdout
