"""Boot to printed URL: the reference server against a bare Starlette + uvicorn app.

Both are fresh processes started the same way (``subprocess.Popen``, stdout piped) and timed
from the spawn until their URL line is read, which both print once uvicorn accepts
connections. They take turns, in alternating order, so that load hits each alike, after one
untimed boot of each that leaves the bytecode caches warm (``PYTHONDONTWRITEBYTECODE`` is
dropped from their environment, as in ``bench/suite.py``: with it, an editable checkout's
modules were compiled again at every boot, or not, depending on the shell).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.suite import suite_env
from bench.timing import now_ns
from flowwright.runner import DEFAULT_COMMAND

__all__ = ["BARE_COMMAND", "Boot", "boot_times"]

BARE_COMMAND = (sys.executable, str(Path(__file__).with_name("bare_app.py")), "--port", "0")
_URL = re.compile(rb"https?://[\w.\-\[\]:]+:\d+")
_TIMEOUT = 60.0


@dataclass
class Boot:
    """Seconds from spawn to printed URL, per run, for each command."""

    reference_seconds: list[float] = field(default_factory=list)
    bare_seconds: list[float] = field(default_factory=list)
    reference_command: list[str] = field(default_factory=lambda: list(DEFAULT_COMMAND))
    bare_command: list[str] = field(default_factory=lambda: list(BARE_COMMAND))


def _boot(command: tuple[str, ...], env: dict[str, str], log: Path) -> float:
    """Spawn ``command``, read stdout until its URL, stop it; the seconds until the URL."""
    with log.open("wb") as stderr:
        start = now_ns()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
        assert process.stdout is not None
        try:
            url = next((m for line in process.stdout if (m := _URL.search(line))), None)
            seconds = (now_ns() - start) / 1e9
        finally:
            _stop(process)
    if url is None:
        tail = log.read_text(errors="replace").splitlines()[-10:]
        raise RuntimeError(
            f"{' '.join(command)} printed no URL; its stderr ends:\n" + "\n".join(tail)
        )
    return seconds


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def boot_times(workdir: Path, runs: int) -> Boot:
    """``runs`` boots of each, alternating which goes first."""
    result = Boot()
    for n in range(-1, runs):  # run -1: the untimed warm-up
        storage = workdir / f"boot-{n}"
        storage.mkdir(parents=True, exist_ok=True)
        env = {**suite_env(), "FLOWWRIGHT_STORAGE": str(storage)}
        pair = [
            (result.reference_seconds, DEFAULT_COMMAND, storage / "reference.log"),
            (result.bare_seconds, BARE_COMMAND, storage / "bare.log"),
        ]
        for seconds, command, log in pair if n % 2 == 0 else pair[::-1]:
            boot_seconds = _boot(command, env, log)
            if n >= 0:
                seconds.append(boot_seconds)
    return result
