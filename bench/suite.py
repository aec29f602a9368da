"""``pytest -n 2`` against ``-n 0`` on the project's flow suites: the demo suite, tests/flows.

Each run is a subprocess from the repository's root, as a developer would type it; its wall
time includes pytest's start-up and the reference servers' boot (once for ``-n 0``, once per
worker for ``-n 2``), which is what decides whether workers pay off. The two take turns,
alternating which goes first, after one untimed run that leaves the bytecode caches warm.

The runs write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped from their environment), as
a developer's do: without it every process compiles again each module no ``.pyc`` covers —
an editable checkout's own, and all that pytest rewrites (each pytest11 plugin's package) —
a cost paid once per process, so three times by ``-n 2`` for once by ``-n 0``, that depended
on the shell the bench ran from rather than on the code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.timing import median, timed

__all__ = ["ROOT", "Selection", "SuiteRun", "SuiteTimes", "compare_workers", "suite_env"]

ROOT = Path(__file__).resolve().parent.parent
_TIMEOUT = 600.0


@dataclass(frozen=True)
class Selection:
    """A suite to time: its name in the report and its pytest arguments (from the root)."""

    name: str
    args: tuple[str, ...]


@dataclass
class SuiteRun:
    """One pytest run of a suite."""

    workers: int
    seconds: float
    returncode: int
    outcomes: dict[str, int]
    summary: str
    output_tail: list[str] = field(default_factory=list)  # only when the run failed


@dataclass
class SuiteTimes:
    name: str
    args: list[str]
    runs: list[SuiteRun]

    def seconds(self, workers: int) -> float:
        return median([run.seconds for run in self.runs if run.workers == workers])

    @property
    def failed(self) -> list[SuiteRun]:
        """Runs that did not pass, or did not run the same tests as the others."""
        counts = {run.outcomes.get("passed", 0) for run in self.runs}
        return [run for run in self.runs if run.returncode or len(counts) > 1]


def _outcomes(summary: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}


def suite_env() -> dict[str, str]:
    """The runs' environment: a suite of its own, not a child of whatever pytest may be
    running us, and one that keeps compiled bytecode (see the module's docstring)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTEST_") and key != "PYTHONDONTWRITEBYTECODE"
    }


def _run(selection: Selection, workers: int) -> SuiteRun:
    env = suite_env()
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        str(workers),
        *selection.args,
    ]
    with timed() as span:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    lines = (done.stdout + done.stderr).strip().splitlines()
    summary = lines[-1].strip("= ") if lines else ""
    return SuiteRun(
        workers=workers,
        seconds=span.seconds,
        returncode=done.returncode,
        outcomes=_outcomes(summary),
        summary=summary,
        output_tail=lines[-40:] if done.returncode else [],
    )


def compare_workers(selection: Selection, rounds: int) -> SuiteTimes:
    """Run ``selection`` with ``-n 0`` and ``-n 2``, ``rounds`` times each, in turns, after
    an untimed ``-n 0`` run (which writes the bytecode caches the timed runs read)."""
    _run(selection, 0)
    result = SuiteTimes(selection.name, list(selection.args), [])
    for n in range(rounds):
        for workers in (0, 2) if n % 2 == 0 else (2, 0):
            result.runs.append(_run(selection, workers))
    return result
