"""The ``flowwright`` command: one subcommand per tool, each in its own small function.

    flowwright proxy --target ws://127.0.0.1:8000 [--port 0] [--fault "delay 3 category=result"]
    flowwright conformance [ws://127.0.0.1:8000] [--dialect buttermilk] [--baseline FILE]
    flowwright replay SESSION.jsonl [--port 0] [--speed max]

Servers print their URL on one line once they listen (so ``--flow-server-cmd`` can start
them) and exit 0 on SIGTERM or SIGINT; a usage error exits 2.

A subcommand is two functions: ``_add_<name>(subparsers)`` declares its arguments and sets
``run``; ``_run_<name>(args, extra)`` does it and returns the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import shlex
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

__all__ = ["main", "parse_fault"]

Runner = Callable[[argparse.Namespace, list[str]], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``flowwright <command> ...``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="flowwright",
        description="Integration testing for long-running, event-driven, multi-agent flows.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_proxy(commands)
    _add_conformance(commands)
    _add_replay(commands)
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    run: Runner = args.run
    return run(args, extra)


# ---------------------------------------------------------------------- proxy


def _add_proxy(commands: Any) -> None:
    parser = commands.add_parser(
        "proxy",
        help="a fault-injecting WebSocket and HTTP proxy in front of a flow server",
        description="Listen on 127.0.0.1, relay every WebSocket and HTTP request to --target, "
        "injecting each --fault given; print the proxy's URL, then one line per thing it "
        "does. Stop with Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--target", required=True, help="the server: ws://host:port or http://")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="a fault, as NAME [ARG] [key=value ...]: 'drop category=result count=1', "
        "'delay 3 category=result jitter=0.5', 'cut after=5', 'refuse seconds=10', "
        "'throttle 2000', 'corrupt truncate type=research_result' (repeatable)",
    )
    parser.add_argument("--dialect", default=None, help="flowwright (default), buttermilk, ...")
    parser.add_argument("--seed", type=int, default=0, help="seed of the jitter (default 0)")
    parser.set_defaults(run=_run_proxy)


def _run_proxy(args: argparse.Namespace, extra: list[str]) -> int:
    from flowwright.proxy import FlowProxy

    try:
        faults = [parse_fault(spec) for spec in args.fault]
        proxy = FlowProxy(args.target, port=args.port, dialect=args.dialect, seed=args.seed)
    except (ValueError, TypeError) as exc:
        print(f"flowwright proxy: {exc}", file=sys.stderr)
        return 2

    proxy.collector.subscribe(
        lambda message: (
            print(message.summary(200), flush=True) if message.direction == "note" else None
        )
    )

    async def serve() -> None:
        async with proxy:
            proxy.add(*faults)
            print(f"{proxy.url} (HTTP and UI: {proxy.http_url})", flush=True)
            await _until_signalled()

    return _run_server("proxy", serve)


_NUMBERS = frozenset(
    {
        "seconds",
        "jitter",
        "times",
        "after",
        "count",
        "skip",
        "status",
        "bytes_per_second",
        "frames_per_second",
    }
)
"""The faults' arguments that are numbers (the rest are words: category, type, mode...)."""


def parse_fault(spec: str) -> Any:
    """A fault from its command-line spelling: ``"delay 3 category=result"`` is
    ``delay(3, category="result")``. Values are numbers where they read as numbers."""
    from flowwright import proxy

    names = ["corrupt", "cut", "delay", "drop", "duplicate", "refuse", "reorder", "throttle"]
    makers = {name: getattr(proxy, name) for name in names}
    words = shlex.split(spec)
    if not words or words[0] not in makers:
        raise ValueError(f"unknown fault {spec!r}: use one of {', '.join(sorted(makers))}")
    positional = [_value(word) for word in words[1:] if "=" not in word]
    keywords = {k: _value(v) for k, v in (w.split("=", 1) for w in words[1:] if "=" in w)}
    # Said here: the fault itself would compare the text with a number ("'<' not supported").
    first = next(iter(inspect.signature(makers[words[0]]).parameters))
    named = [first] if words[0] != "corrupt" else []  # corrupt's first argument is a word
    given = [*zip(named, positional, strict=False), *keywords.items()]
    for name, value in given:
        if name in _NUMBERS and isinstance(value, str):
            raise ValueError(f"fault {spec!r}: {name} must be a number, not {value!r}")
    try:
        return makers[words[0]](*positional, **keywords)
    except TypeError as exc:
        raise ValueError(f"fault {spec!r}: {exc}") from None


def _value(text: str) -> Any:
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(text)
    return text


# ---------------------------------------------------------------------- conformance


def _add_conformance(commands: Any) -> None:
    parser = commands.add_parser(
        "conformance",
        help="check a flow server against the protocol's rules",
        description="Run the conformance suite (pytest --pyargs flowwright.conformance) "
        "against URL, or against the embedded reference server when no URL is given. "
        "Arguments it does not know go to pytest (e.g. --flow-report=report.html).",
    )
    parser.add_argument("url", nargs="?", default=None, help="the server: ws://host:port")
    parser.add_argument("--dialect", default=None, help="flowwright (default), buttermilk, ...")
    parser.add_argument(
        "--baseline", default=None, metavar="FILE", help="known deviations (TOML): see the docs"
    )
    parser.add_argument(
        "--flow",
        default=None,
        help="the flow the checks run (default: osb, else the first the server lists)",
    )
    parser.set_defaults(run=_run_conformance, passes_extra=True)


_ALREADY_IMPORTED = "Module already imported so cannot be rewritten; flowwright"


def _run_conformance(args: argparse.Namespace, extra: list[str]) -> int:
    import pytest

    options = ["--pyargs", "flowwright.conformance", "-p", "no:cacheprovider"]
    options += ["-o", "asyncio_default_fixture_loop_scope=function"]  # the checks' own loops
    # This command imported flowwright before pytest could mark the plugins' package for
    # assertion rewriting; its __init__ asserts nothing, so pytest's warning says nothing.
    options += ["-W", f"ignore:{_ALREADY_IMPORTED}:pytest.PytestAssertRewriteWarning"]
    for flag, value in (
        ("--flow-server-url", args.url),
        ("--flow-dialect", args.dialect),
        ("--conformance-baseline", args.baseline),
        ("--conformance-flow", args.flow),
    ):
        if value is not None:
            options += [flag, value]
    return int(pytest.main([*options, *extra]))


# ---------------------------------------------------------------------- replay


def _add_replay(commands: Any) -> None:
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
    parser.set_defaults(run=_run_replay)


def _run_replay(args: argparse.Namespace, extra: list[str]) -> int:
    from flowwright.errors import ProtocolError
    from flowwright.replay import ReplayServer, parse_speed

    try:
        server = ReplayServer(args.recording, speed=parse_speed(args.speed), port=args.port)
    except (ValueError, ProtocolError) as exc:
        print(f"flowwright replay: {exc}", file=sys.stderr)
        return 2

    async def serve() -> None:
        async with server:
            print(server.base_url, flush=True)
            await _until_signalled()

    return _run_server("replay", serve)


# ---------------------------------------------------------------------- servers


async def _until_signalled() -> None:
    """Return on SIGTERM or SIGINT: a server subcommand's clean stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _run_server(name: str, serve: Callable[[], Coroutine[Any, Any, None]]) -> int:
    """Run a server subcommand until signalled: 0; 1 if it cannot listen (named)."""
    try:
        asyncio.run(serve())
    except OSError as exc:
        print(f"flowwright {name}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # python -m flowwright.cli, as the console script does
    sys.exit(main())
