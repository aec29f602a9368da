"""Wake latency and collector throughput: flowwright against bare ``websockets`` on one stream.

Both measures talk to the benchmark server (``bench/server.py``) in its own process. The
baselines use the same ``connect()`` as :class:`FlowTestClient` (same size limit, the same
offer of compression that the server declines), so the only difference measured is what
flowwright does with a frame: parse, categorise, record, notify the waits, wake the test.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

from bench.timing import median, now_ns, timed
from flowwright import FlowTestClient, FlowwrightError

__all__ = ["POLL_INTERVAL", "BurstRun", "Throughput", "WakeLatency", "throughput", "wake_latency"]

POLL_INTERVAL = 0.1
"""The polling baseline checks its list this often (seconds), as a sleep-and-check test would."""

_WARMUP = 20  # round trips per waiter before sampling: connections, caches and JIT-free paths warm
_BURST_TIMEOUT = 120.0  # a burst that has not arrived by then counts its missing frames as lost


@dataclass
class WakeLatency:
    """Server stamp → the waiting code resumes, in microseconds, one list per waiter."""

    flowwright_us: list[float] = field(default_factory=list)
    raw_us: list[float] = field(default_factory=list)
    polling_us: list[float] = field(default_factory=list)


@dataclass
class BurstRun:
    """One burst as one client saw it."""

    seconds: float
    received: int
    lost: int
    duplicates: int = 0
    in_order: bool = True
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.received / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Throughput:
    """Alternating bursts of ``count`` envelopes to a flowwright client and two raw loops.

    ``raw`` only counts frames (the baseline of the target); ``raw_decoded`` also runs
    ``json.loads`` on each, the least any client that reads the frames must do.
    """

    count: int
    flowwright: list[BurstRun] = field(default_factory=list)
    raw: list[BurstRun] = field(default_factory=list)
    raw_decoded: list[BurstRun] = field(default_factory=list)

    @property
    def flowwright_rate(self) -> float:
        return median([run.rate for run in self.flowwright])

    @property
    def raw_rate(self) -> float:
        return median([run.rate for run in self.raw])

    @property
    def raw_decoded_rate(self) -> float:
        return median([run.rate for run in self.raw_decoded])

    @property
    def runs(self) -> list[BurstRun]:
        return self.flowwright + self.raw + self.raw_decoded

    @property
    def lost(self) -> int:
        return sum(run.lost for run in self.runs)


def _ping(n: int) -> str:
    return json.dumps({"type": "ping", "n": n})


def _stamp_us(resumed_ns: int, frame: str | bytes) -> float:
    return (resumed_ns - json.loads(frame)["outputs"]["sent_ns"]) / 1e3


async def _flowwright_wake(client: FlowTestClient, n: int) -> float:
    """Arm, ask, and time the resumption of the code after the ``expect`` block."""
    async with client.expect(type="system_message") as pong:
        await client.send(_ping(n))
    resumed = now_ns()
    return _stamp_us(resumed, pong.value.raw)


async def _raw_wake(ws: ClientConnection, n: int) -> float:
    await ws.send(_ping(n))
    frame = await ws.recv()
    resumed = now_ns()
    return _stamp_us(resumed, frame)


async def _polling_wake(ws: ClientConnection, inbox: list[str | bytes], n: int) -> float:
    """Act, then check a list every ``POLL_INTERVAL`` until the answer is in it."""
    expected = len(inbox) + 1
    await ws.send(_ping(n))
    # The sleep-and-check loop is the baseline being measured, not a stand-in for an event.
    while len(inbox) < expected:  # noqa: ASYNC110
        await asyncio.sleep(POLL_INTERVAL)
    resumed = now_ns()
    return _stamp_us(resumed, inbox[-1])


async def _fill(ws: ClientConnection, inbox: list[str | bytes]) -> None:
    async for frame in ws:
        inbox.append(frame)


async def wake_latency(url: str, samples: int, polling_samples: int) -> WakeLatency:
    """Ping-pong on three connections; flowwright and raw alternate so drift hits both."""
    result = WakeLatency()
    async with FlowTestClient(url, timeout=10) as client, connect(client.url) as raw:
        for n in range(_WARMUP + samples):
            if n % 2:
                fw, rw = await _flowwright_wake(client, n), await _raw_wake(raw, n)
            else:
                rw, fw = await _raw_wake(raw, n), await _flowwright_wake(client, n)
            if n >= _WARMUP:
                result.flowwright_us.append(fw)
                result.raw_us.append(rw)
    async with connect(client.url) as polled:
        inbox: list[str | bytes] = []
        reader = asyncio.create_task(_fill(polled, inbox))
        try:
            for n in range(polling_samples):
                result.polling_us.append(await _polling_wake(polled, inbox, n))
        finally:
            reader.cancel()
    return result


async def _raw_burst(url: str, count: int, *, decode: bool = False) -> BurstRun:
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "prepare", "count": count}))
        await ws.recv()
        received, error = 0, None
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
    return BurstRun(span.seconds, received, count - received, error=error)


async def _flowwright_burst(url: str, count: int) -> BurstRun:
    async with FlowTestClient(url, timeout=_BURST_TIMEOUT) as client:
        await client.send(json.dumps({"type": "prepare", "count": count}))
        await client.wait_for(pattern="^ready$")
        error = None
        with timed() as span:
            burst = await client.send('{"type": "burst"}')
            try:
                await client.wait_for_completion()
            except FlowwrightError as exc:
                error = str(exc).splitlines()[0]
    numbers = [m.outputs["n"] for m in client.collector.filter(since=burst.seq)]
    unique = len(set(numbers))
    return BurstRun(
        span.seconds,
        len(numbers),
        lost=count - unique,
        duplicates=len(numbers) - unique,
        in_order=numbers == sorted(numbers),
        error=error,
    )


async def _raw_decoded_burst(url: str, count: int) -> BurstRun:
    return await _raw_burst(url, count, decode=True)


async def throughput(url: str, count: int, rounds: int) -> Throughput:
    """``rounds`` bursts each way, alternating the order; fresh connections each time."""
    result = Throughput(count)
    order = (
        (result.raw, _raw_burst),
        (result.raw_decoded, _raw_decoded_burst),
        (result.flowwright, _flowwright_burst),
    )
    for n in range(rounds):
        for runs, burst in order if n % 2 == 0 else order[::-1]:
            runs.append(await burst(url, count))
    return result
