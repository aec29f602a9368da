"""FlowEventWaiter on its own: futures fed by the collector, backlog, fail fast, close."""

from __future__ import annotations

import asyncio

import pytest

from flowwright import (
    Category,
    ConnectionLostError,
    FlowErrorEvent,
    FlowEventWaiter,
    FlowTimeoutError,
    Match,
    MessageCollector,
)
from tests.framework.scripted import error, prompt, result


def make() -> tuple[MessageCollector, FlowEventWaiter]:
    collector = MessageCollector()
    return collector, FlowEventWaiter(collector, describe_state=lambda: "server: test double")


async def test_a_wait_resolves_when_the_message_is_appended() -> None:
    collector, waiter = make()
    wait = waiter.arm(Match(category=Category.PROMPT), since=0)
    assert not wait.future.done()
    collector.append(result("researcher", "r"))
    assert not wait.future.done()
    collector.append(prompt("Go?"))
    assert wait.future.done()  # resolved synchronously by the append: no polling
    assert (await wait.result(1)).content == "Go?"


async def test_backlog_after_since_counts_and_before_does_not() -> None:
    collector, waiter = make()
    collector.append(prompt("old"))
    collector.append(result("researcher", "r"))
    collector.append(prompt("new"))
    found = await waiter.wait_for(Match(category="prompt"), since=1, timeout=1)
    assert found.content == "new"
    with pytest.raises(FlowTimeoutError):
        await waiter.wait_for(Match(category="prompt"), since=3, timeout=0.05)


async def test_timeout_message_has_the_story() -> None:
    collector, waiter = make()
    collector.append(result("researcher", "early"))
    with pytest.raises(FlowTimeoutError) as caught:
        async with waiter.expect(Match(category="prompt", pattern="proceed"), timeout=0.05):
            collector.append(result("policy_analyst", "late"))
            collector.append("junk")
    text = str(caught.value)
    assert "waiting for prompt matching /proceed/" in text
    assert "while waiting: 2 new message(s) (chat 1, malformed 1)" in text
    assert "[policy_analyst] late" in text
    assert "server: test double" in text
    assert caught.value.timeout == 0.05


async def test_system_error_rejects_unless_the_wait_wants_errors() -> None:
    collector, waiter = make()
    failing = waiter.arm(Match(category="prompt"), since=0)
    wanting = waiter.arm(Match(category="error"), since=0)
    tolerant = waiter.arm(Match(category="prompt"), since=0, fail_on_error=False)
    collector.append(error("agent crashed"))
    with pytest.raises(FlowErrorEvent, match=r"\[server\] agent crashed"):
        await failing.result(1)
    assert (await wanting.result(1)).content == "agent crashed"
    assert not tolerant.future.done()
    tolerant.cancel()


async def test_close_fails_pending_and_later_waits_but_backlog_still_matches() -> None:
    collector, waiter = make()
    collector.append(prompt("arrived"))
    pending = waiter.arm(Match(category="result"), since=0)
    waiter.close(ConnectionLostError("the server closed the connection"))
    with pytest.raises(ConnectionLostError, match="while waiting for result"):
        await pending.result(5)
    with pytest.raises(ConnectionLostError):
        await waiter.wait_for(Match(category="result"), since=0, timeout=5)
    assert (await waiter.wait_for(Match(category="prompt"), since=0, timeout=5)).seq == 1


async def test_expect_value_only_after_the_block() -> None:
    collector, waiter = make()
    async with waiter.expect(Match(category="prompt"), timeout=1) as event:
        with pytest.raises(RuntimeError, match="after the 'async with' block"):
            _ = event.value
        collector.append(prompt("now"))
    assert event.value.content == "now"


async def test_cancelled_wait_leaves_nothing_pending() -> None:
    _, waiter = make()
    task = asyncio.create_task(waiter.wait_for(Match(category="prompt"), since=0, timeout=None))
    await asyncio.sleep(0)  # a scheduling yield so the task arms its wait
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not waiter._pending


def test_match_describes_itself() -> None:
    def long_enough(m: object) -> bool:
        return True

    match = Match(
        category="result",
        type="research_result",
        agent="researcher",
        pattern="hate",
        where=long_enough,
    )
    assert str(match) == (
        "result of type 'research_result' from 'researcher' matching /hate/ where long_enough"
    )
