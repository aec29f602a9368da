"""Boot time of the reference server to its printed URL, next to a bare Starlette+uvicorn app.

Runs of the two are interleaved, so load on a shared machine hits both alike; it prints the
median and minimum wall time, the CPU time each process had used when its URL appeared, and
the ratio. ``--instructions`` counts instructions instead (valgrind's callgrind, one run
each): slow, but the same on a busy machine as on an idle one.

    .venv/bin/python scripts/boot_time.py [--runs 10] [--instructions]

Edited modules are compiled on every start when ``PYTHONDONTWRITEBYTECODE`` is set: run
``python -m compileall src`` (with it unset) first, or the figures include compiling.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

BARE = """
import socket, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def health(request):
    return JSONResponse({"status": "ok"})

class Server(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets)
        print(f"http://127.0.0.1:{sockets[0].getsockname()[1]}", flush=True)

app = Starlette(routes=[Route("/health", health)])
listener = socket.create_server(("127.0.0.1", 0))
config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
Server(config).run(sockets=[listener])
"""

COMMANDS = {
    "bare app": [sys.executable, "-c", BARE],
    "reference server": [sys.executable, "-m", "flowwright_demo", "--port=0", "--config=test"],
}


def boot(command: list[str], prefix: Sequence[str] = ()) -> tuple[float, float, str]:
    """Wall seconds to the URL line, CPU seconds used by then, and the process's stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [*prefix, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    wall = time.perf_counter() - start
    with open(f"/proc/{process.pid}/stat") as stat:  # utime + stime, in clock ticks
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    process.terminate()
    _, stderr = process.communicate()
    if not line.startswith("http://"):
        raise SystemExit(f"{command[:3]} printed no URL:\n{stderr[-2000:]}")
    return wall, cpu, stderr


def instructions(command: list[str]) -> int:
    """Instructions executed to the URL (and a clean shutdown), counted by callgrind."""
    *_, stderr = boot(command, ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"])
    found = re.search(r"Collected : (\d+)", stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind:\n{stderr[-2000:]}")
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    args = parser.parse_args()
    if args.instructions:
        counts = {name: instructions(command) for name, command in COMMANDS.items()}
        for name, count in counts.items():
            print(f"{name:17s} {count / 1e6:7.0f} M instructions")
        print(f"ratio {counts['reference server'] / counts['bare app']:.2f}")
        return
    for command in COMMANDS.values():
        boot(command)  # warm the file cache
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            wall, cpu, _ = boot(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
    for name in COMMANDS:
        print(
            f"{name:17s} wall median {statistics.median(walls[name]) * 1000:5.0f} ms, "
            f"min {min(walls[name]) * 1000:5.0f} ms; cpu median "
            f"{statistics.median(cpus[name]) * 1000:5.0f} ms"
        )
    bare, reference = (statistics.median(walls[name]) for name in COMMANDS)
    print(f"ratio (wall medians) {reference / bare:.2f}")


if __name__ == "__main__":
    main()
