"""The ``flowwright`` command: tools that run beside a test suite.

``flowwright replay SESSION.jsonl [--port 0] [--speed max]`` serves a recorded session (see
:mod:`flowwright.replay`). Each subcommand is one small function; servers print their URL on
one line once they listen (so ``--flow-server-cmd`` can start them) and exit 0 on SIGTERM or
SIGINT; a usage error exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence

from flowwright.errors import ProtocolError

__all__ = ["main"]

USAGE_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the exit code."""
    parser = argparse.ArgumentParser(prog="flowwright", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_replay(commands)
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


def _add_replay(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "replay",
        help="serve a recorded session (JSONL) over a real WebSocket",
        description="Serve a recorded session: each client frame is answered with the frames "
        "the recorded server sent after it. Prints http://127.0.0.1:<port> once listening.",
    )
    parser.add_argument("recording", help="the session file (JSONL, as --flow-record writes)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument(
        "--speed",
        default="1",
        help="times the recorded pace (e.g. 10), or 'max' for no delays (default 1)",
    )
    parser.set_defaults(run=_replay)


def _replay(args: argparse.Namespace) -> int:
    from flowwright.replay import ReplayServer, parse_speed

    try:
        speed = parse_speed(args.speed)
        server = ReplayServer(args.recording, speed=speed, port=args.port)
    except (ValueError, ProtocolError) as exc:
        print(f"flowwright replay: {exc}", file=sys.stderr)
        return USAGE_ERROR

    async def serve() -> None:
        async with server:
            print(server.base_url, flush=True)
            await _until_signalled()

    asyncio.run(serve())
    return 0


async def _until_signalled() -> None:
    """Return on SIGTERM or SIGINT (a clean stop, exit code 0)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
