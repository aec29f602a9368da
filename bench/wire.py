"""Wake latency, burst throughput and memory per message: flowwright against bare ``websockets``.

Every measure talks to the benchmark server (``bench/server.py``) in its own process. The
baselines use the same ``connect()`` as :class:`FlowTestClient` (same size limit, same
keepalive, the same offer of compression that the server declines), so the only difference
measured is what flowwright does with a frame: parse, categorise, record, notify the waits,
wake the test. There are two baselines: a raw ``recv()``, and ``recv()`` followed by
``json.loads`` — the least any client that reads the frames must do.

A connection that ends before its burst has arrived is a *disconnect*, reported as such
with who closed it as the server saw it (``GET /closes``): a client whose own keepalive
gave up behind an unread backlog sends close code 1011, which the server records.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import tracemalloc
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.asyncio_client import ReaderTaskClient
from bench.server import FRAME
from bench.timing import median, now_ns, timed
from flowwright import FlowTestClient, FlowwrightError

__all__ = [
    "DESIGN_KINDS",
    "FRAME_BYTES",
    "KINDS",
    "BurstRun",
    "Memory",
    "Throughput",
    "WakeLatency",
    "connection_url",
    "flowwright_burst",
    "held_memory",
    "raw_burst",
    "server_record",
    "throughput",
    "wake_latency",
    "who_closed",
]

Kind = Literal["flowwright", "reader_task", "raw", "raw_json"]
KINDS: tuple[Kind, ...] = ("flowwright", "raw", "raw_json")
DESIGN_KINDS: tuple[Kind, ...] = ("flowwright", "reader_task", "raw", "raw_json")
"""With the client's previous frame path (a reader task: ``bench/asyncio_client.py``), for
the ``design`` group, which measures the one-hop path against it in the same run."""
FRAME_BYTES = len(FRAME % (0, 0))
"""The size of a burst's progress frame (its number's digits aside), in bytes."""

_WARMUP = 20  # round trips per waiter before sampling: connections and caches warm
_BURST_TIMEOUT = 300.0  # a burst that has not arrived by then counts its missing frames as lost
_CLOSE_RECORD_TIMEOUT = 5.0  # how long the server may take to record a connection's end


# --------------------------------------------------------------------- wake latency


@dataclass
class WakeLatency:
    """Server stamp → the waiting code resumes, in microseconds, one list per waiter."""

    flowwright_us: list[float] = field(default_factory=list)
    raw_us: list[float] = field(default_factory=list)
    raw_json_us: list[float] = field(default_factory=list)
    reader_task_us: list[float] = field(default_factory=list)

    def of(self, kind: Kind) -> list[float]:
        return list(getattr(self, f"{kind}_us"))


def _ping(n: int) -> str:
    return json.dumps({"type": "ping", "n": n})


def _since_stamp_us(resumed_ns: int, outputs: Any) -> float:
    return (resumed_ns - int(outputs["sent_ns"])) / 1e3


async def _flowwright_wake(client: FlowTestClient, n: int) -> float:
    """Arm, ask, and time the resumption of the code after the ``expect`` block."""
    async with client.expect(type="system_message") as pong:
        await client.send(_ping(n))
    resumed = now_ns()
    return _since_stamp_us(resumed, pong.value.outputs)


async def _raw_wake(ws: ClientConnection, n: int) -> float:
    await ws.send(_ping(n))
    frame = await ws.recv()
    resumed = now_ns()
    return _since_stamp_us(resumed, json.loads(frame)["outputs"])


async def _raw_json_wake(ws: ClientConnection, n: int) -> float:
    await ws.send(_ping(n))
    message = json.loads(await ws.recv())
    resumed = now_ns()
    return _since_stamp_us(resumed, message["outputs"])


async def _waiter(
    stack: contextlib.AsyncExitStack, url: str, kind: Kind, result: WakeLatency
) -> tuple[list[float], Callable[[int], Awaitable[float]]]:
    """A connection of ``kind`` (closed with ``stack``), and how it waits for a pong."""
    samples: list[float] = getattr(result, f"{kind}_us")
    if kind in ("flowwright", "reader_task"):
        client_class = ReaderTaskClient if kind == "reader_task" else FlowTestClient
        client = await stack.enter_async_context(client_class(url, timeout=10))
        return samples, lambda n: _flowwright_wake(client, n)
    ws = await stack.enter_async_context(connect(connection_url(url)))
    return samples, lambda n: (_raw_json_wake if kind == "raw_json" else _raw_wake)(ws, n)


async def wake_latency(url: str, samples: int, kinds: tuple[Kind, ...] = KINDS) -> WakeLatency:
    """Ping-pong on one connection per kind, the waiters taking turns in rotating order so
    that drift and load hit each alike."""
    result = WakeLatency()
    async with contextlib.AsyncExitStack() as stack:
        waiters: list[tuple[list[float], Callable[[int], Awaitable[float]]]] = []
        for kind in kinds:
            waiters.append(await _waiter(stack, url, kind, result))
        for n in range(_WARMUP + samples):
            turn = n % len(waiters)
            for samples_of, wake in waiters[turn:] + waiters[:turn]:
                us = await wake(n)
                if n >= _WARMUP:
                    samples_of.append(us)
    return result


# --------------------------------------------------------------------- bursts


@dataclass
class BurstRun:
    """One burst as one client saw it.

    ``disconnect`` says, when the connection ended before the burst had arrived, after how
    many frames, what the client said, and who closed it as the server saw it.
    """

    kind: Kind
    count: int
    seconds: float
    received: int
    lost: int
    duplicates: int = 0
    in_order: bool = True
    error: str | None = None
    disconnect: str | None = None
    server_saw: dict[str, Any] | None = None
    rss_growth: int | None = None  # bytes the process grew by while receiving (Linux)

    @property
    def rate(self) -> float:
        return self.received / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Throughput:
    """Bursts of ``count`` envelopes to a flowwright client and the two raw loops, in turns."""

    count: int
    runs: list[BurstRun] = field(default_factory=list)

    def of(self, kind: Kind) -> list[BurstRun]:
        return [run for run in self.runs if run.kind == kind]

    def rate(self, kind: Kind) -> float:
        return median([run.rate for run in self.of(kind)])

    @property
    def lost(self) -> int:
        return sum(run.lost for run in self.runs)

    @property
    def disconnects(self) -> list[str]:
        return [f"{run.kind}: {run.disconnect}" for run in self.runs if run.disconnect]


def connection_url(url: str) -> str:
    """``url`` with a fresh path, by which the server's record of the connection is found."""
    return f"{url.rstrip('/')}/ws/{uuid.uuid4().hex}"


def _rss() -> int | None:
    """This process's resident set size in bytes (Linux ``/proc``), else ``None``."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def server_record(url: str, path: str) -> dict[str, Any]:
    """How the server recorded the end of the connection at ``path`` (``GET /closes``);
    waits a moment for the record, since the server writes it once its handler has ended."""
    base = url.replace("ws://", "http://", 1).rstrip("/")
    async with asyncio.timeout(_CLOSE_RECORD_TIMEOUT):
        while True:
            closes = await asyncio.to_thread(_get_json, f"{base}/closes")
            if path in closes:
                return dict(closes[path])
            await asyncio.sleep(0.01)  # polls the server: no event to wait on across processes


def who_closed(saw: dict[str, Any]) -> str:
    """Who ended a connection, from the server's record of it (:func:`server_record`)."""
    if "error" in saw:
        return f"unknown: the server's record could not be read ({saw['error']})"
    received, sent = saw.get("received"), saw.get("sent")
    if saw.get("server_closed_first") and sent is not None:
        return f"the server closed it (code {sent['code']} {sent['reason']!r})"
    if received is not None:
        return f"the client closed it (code {received['code']} {received['reason']!r})"
    return f"dropped without a close frame from either side (code {saw.get('code')})"


async def _finish(run: BurstRun, url: str, used: str) -> BurstRun:
    """Ask the server how the connection to ``used`` ended; a burst cut short is a disconnect."""
    try:
        run.server_saw = await server_record(url, urlsplit(used).path)
    except (TimeoutError, OSError) as exc:
        run.server_saw = {"error": repr(exc)}
    if run.received < run.count:
        run.disconnect = (
            f"the connection ended after {run.received:,} of {run.count:,} frames: "
            f"{who_closed(run.server_saw)}; the client said: {run.error or 'nothing'}"
        )
    return run


def _prepare(count: int, cut_after: int | None) -> str:
    request: dict[str, Any] = {"type": "prepare", "count": count}
    if cut_after is not None:
        request["cut_after"] = cut_after  # the server drops the connection after so many
    return json.dumps(request)


async def raw_burst(url: str, count: int, kind: Kind, *, cut_after: int | None = None) -> BurstRun:
    """One burst of ``count`` to a raw loop (``raw``, or ``raw_json``, which decodes)."""
    used = connection_url(url)
    decode = kind == "raw_json"
    received, error = 0, None
    rss = _rss()
    async with connect(used) as ws:
        await ws.send(_prepare(count, cut_after))
        await ws.recv()
        with timed() as span:
            await ws.send('{"type": "burst"}')
            try:
                async with asyncio.timeout(_BURST_TIMEOUT):
                    async for frame in ws:
                        if decode:
                            json.loads(frame)
                        received += 1
                        if received == count:
                            break
            except TimeoutError:
                error = f"timed out after {_BURST_TIMEOUT:g}s"
            except ConnectionClosed as exc:
                error = f"{type(exc).__name__}: {exc}"
        grown = None if rss is None or (after := _rss()) is None else after - rss
    run = BurstRun(kind, count, span.seconds, received, count - received, error=error)
    run.rss_growth = grown
    return await _finish(run, url, used)


async def flowwright_burst(
    url: str, count: int, *, cut_after: int | None = None, kind: Kind = "flowwright"
) -> BurstRun:
    """One burst of ``count`` to a flowwright client, awaited with ``wait_for_completion``
    (``kind="reader_task"``: the client on its previous frame path)."""
    used = connection_url(url)
    rss = _rss()
    client_class = ReaderTaskClient if kind == "reader_task" else FlowTestClient
    async with client_class(used, timeout=_BURST_TIMEOUT) as client:
        await client.send(_prepare(count, cut_after))
        await client.wait_for(pattern="^ready$")
        error = None
        with timed() as span:
            burst = await client.send('{"type": "burst"}')
            try:
                await client.wait_for_completion()
            except FlowwrightError as exc:
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        grown = None if rss is None or (after := _rss()) is None else after - rss
    numbers = [m.outputs["n"] for m in client.collector.filter(since=burst.seq)]
    unique = len(set(numbers))
    run = BurstRun(
        kind,
        count,
        span.seconds,
        unique,
        lost=count - unique,
        duplicates=len(numbers) - unique,
        in_order=numbers == sorted(numbers),
        error=error,
        rss_growth=grown,
    )
    del client, numbers
    gc.collect()
    return await _finish(run, url, used)


async def throughput(
    url: str, count: int, rounds: int, kinds: tuple[Kind, ...] = KINDS
) -> Throughput:
    """``rounds`` bursts per client kind, in rotating order; a fresh connection each time."""
    result = Throughput(count)
    for n in range(rounds):
        turn = n % len(kinds)
        for kind in kinds[turn:] + kinds[:turn]:
            if kind in ("flowwright", "reader_task"):
                run = await flowwright_burst(url, count, kind=kind)
            else:
                run = await raw_burst(url, count, kind)
            result.runs.append(run)
    return result


# --------------------------------------------------------------------- memory


@dataclass
class Memory:
    """Bytes held per message once ``count`` frames were received and the socket closed:
    by a flowwright client (its whole transcript), and by a list of the frames as ``str``
    (what a raw ``recv()`` returns) or as ``json.loads`` dicts. Measured with tracemalloc."""

    count: int
    frame_bytes: int
    flowwright: float
    as_str: float
    as_dict: float


async def _hold_flowwright(url: str, count: int) -> object:
    async with FlowTestClient(connection_url(url), timeout=_BURST_TIMEOUT) as client:
        await client.send(json.dumps({"type": "prepare", "count": count}))
        await client.wait_for(pattern="^ready$")
        await client.send('{"type": "burst"}')
        await client.wait_for_completion()
    return client


async def _hold_raw(url: str, count: int, decode: bool) -> object:
    held: list[Any] = []
    async with connect(connection_url(url)) as ws:
        await ws.send(json.dumps({"type": "prepare", "count": count}))
        await ws.recv()
        await ws.send('{"type": "burst"}')
        async for frame in ws:
            held.append(json.loads(frame) if decode else frame)
            if len(held) == count:
                break
    return held


async def _traced(hold: Callable[[], Awaitable[object]], count: int) -> float:
    """Bytes per message still allocated, after the connection closed, by what ``hold`` keeps."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = await hold()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del kept
    return held / count


async def held_memory(url: str, count: int) -> Memory:
    """Memory per message held by each of the three, one after the other."""
    return Memory(
        count=count,
        frame_bytes=FRAME_BYTES,
        flowwright=await _traced(lambda: _hold_flowwright(url, count), count),
        as_str=await _traced(lambda: _hold_raw(url, count, decode=False), count),
        as_dict=await _traced(lambda: _hold_raw(url, count, decode=True), count),
    )
