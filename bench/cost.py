"""What one reply and one wait cost as the history grows: flat, or growing with the work?

A long-running flow holds ever more messages; the cost of the test's next step must not
grow with them, or a conversation of T turns costs O(T²). One client per level ``n`` is
filled with a conversation's history from the benchmark server (a prompt first, ``n``
progress updates, an agent result, ``flow_completed``), then, the levels taking turns so
that load and drift hit each alike:

- **wait cost**: ``wait_for(category="result", agent="analyst")`` with those ``n`` messages
  since the last action — the result has arrived, so the wait is the time to find it;
- **reply cost**: ``send_manager_response("Yes, please proceed")`` with ``n`` messages held
  — read against the prompt it answers, which is ``n`` messages back;
- **query cost**: ``collector.filter(agent="analyst")`` — the one message the agent sent, among
  ``n`` it did not (a query by agent costs what it finds once the log is indexed).

All waits and queries are measured before any reply, since a reply is an action and would
reset what a wait looks at. The figure per level is the median; the growth is the last
level's ÷ the first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bench.timing import median, timed
from bench.wire import connection_url
from flowwright import FlowTestClient

__all__ = ["QUERY", "REPLY", "WAIT", "Costs", "costs"]

WAIT = 'wait_for(category="result", agent="analyst")'
REPLY = 'send_manager_response("Yes, please proceed")'
QUERY = 'collector.filter(agent="analyst")'
_FILL_TIMEOUT = 300.0
_ROUNDS = 3


@dataclass
class Costs:
    """Microseconds per wait, reply and query, ``samples`` of each per level."""

    levels: list[int]
    wait_us: dict[int, list[float]] = field(default_factory=dict)
    reply_us: dict[int, list[float]] = field(default_factory=dict)
    query_us: dict[int, list[float]] = field(default_factory=dict)

    def wait(self, level: int) -> float:
        return median(self.wait_us[level])

    def reply(self, level: int) -> float:
        return median(self.reply_us[level])

    def query(self, level: int) -> float:
        return median(self.query_us[level])


async def _filled(url: str, n: int) -> FlowTestClient:
    """A connected client holding a conversation of ``n`` progress updates since its last
    action (the burst request)."""
    client = FlowTestClient(connection_url(url), timeout=_FILL_TIMEOUT)
    await client.connect()
    await client.send(json.dumps({"type": "prepare", "count": n, "fill": True}))
    await client.wait_for(pattern="^ready$")
    await client.send('{"type": "burst"}')
    await client.wait_for_completion()
    return client


async def _wait_us(client: FlowTestClient) -> float:
    with timed() as span:
        await client.wait_for(category="result", agent="analyst")
    return span.seconds * 1e6


async def _query_us(client: FlowTestClient) -> float:
    with timed() as span:
        found = client.collector.filter(agent="analyst")
    assert len(found) == 1, f"{QUERY} found {len(found)} messages, not the one result"
    return span.seconds * 1e6


async def _reply_us(client: FlowTestClient) -> float:
    with timed() as span:
        await client.send_manager_response("Yes, please proceed")
    return span.seconds * 1e6


async def costs(url: str, levels: list[int], samples: int) -> Costs:
    """Fill one client per level, then sample every wait, every query, then every reply.

    The levels take turns in blocks (``_ROUNDS`` rounds, the order rotating), each block
    a warm-up call then consecutive samples: the steady cost of a level, not the cost of
    coming back to it with caches that another level's work has just evicted.
    """
    result = Costs(levels)
    for figures in (result.wait_us, result.query_us, result.reply_us):
        figures.update({n: [] for n in levels})
    clients: dict[int, FlowTestClient] = {}
    block = max(samples // _ROUNDS, 1)
    try:
        for n in levels:
            clients[n] = await _filled(url, n)
        for figures, measure in (
            (result.wait_us, _wait_us),
            (result.query_us, _query_us),
            (result.reply_us, _reply_us),
        ):
            for turn in range(_ROUNDS):
                for n in levels[turn % len(levels) :] + levels[: turn % len(levels)]:
                    await measure(clients[n])  # warm-up, not recorded
                    figures[n] += [await measure(clients[n]) for _ in range(block)]
    finally:
        for client in clients.values():
            await client.close()
    return result
