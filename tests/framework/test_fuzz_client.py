"""A hostile server: thousands of seeded bad frames, and the client records every one, keeps
reading, and runs a normal flow beside them as if nothing happened."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest

from flowwright import Category, ConnectionLostError, FlowTestClient
from tests.framework.scripted import ScriptedServer, completed, prompt, result

SEED = 20261130
FRAMES = 3000

Maker = Callable[[random.Random], str | bytes]


def deep_object(rng: random.Random) -> str:
    depth = rng.choice([250, 1000, 20_000])
    inner = "[" * depth + "]" * depth
    return f'{{"type": "chat_message", "message_id": "deep", "outputs": {inner}}}'


def deep_array(rng: random.Random) -> str:
    depth = rng.choice([1000, 50_000])
    return "[" * depth + "]" * depth


def bad_type(rng: random.Random) -> str:
    return json.dumps({"type": rng.choice([[], {}, 5, None, True, 1.5]), "outputs": {}})


def odd_fields(rng: random.Random) -> str:
    return json.dumps(
        {
            "type": rng.choice(["judge_reasons", "system_update", "brand_new"]),
            "message_id": rng.choice([7, 1.5, [1], None]),
            "agent_info": rng.choice([[1, 2], "JUDGE", {"role": 5, "parameters": "x"}, None]),
            "timestamp": rng.choice([{"t": 1}, [1], "today", None]),
            "outputs": rng.choice(["text", 5, [1, 2], {"content": "c"}, None]),
        }
    )


def binary(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))


def garbage_text(rng: random.Random) -> str:
    alphabet = '{}[]":,\\ abc\u00e9\u2603\U0001f600'
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))


def truncated(rng: random.Random) -> str:
    whole = json.dumps({"type": "chat_message", "outputs": {"content": "x" * 40}})
    return whole[: rng.randrange(1, len(whole) - 1)]


def huge(rng: random.Random) -> str:
    return json.dumps({"type": "chat_message", "outputs": "y" * rng.choice([10**5, 10**6])})


MAKERS: list[Maker] = [
    deep_object,
    deep_array,
    bad_type,
    odd_fields,
    binary,
    garbage_text,
    truncated,
    huge,
]


def expected_type(frame: str | bytes) -> str:
    """What an independent reading says the frame's type is ("" when it has none)."""
    try:
        text = frame.decode() if isinstance(frame, bytes) else frame
        data = json.loads(text)
    except RecursionError:  # too deep for json: only deep_object() frames have a type
        return "chat_message" if text.startswith('{"type": "chat_message"') else ""
    except ValueError:
        return ""
    kind = data.get("type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else ""


@pytest.mark.flow(allow_malformed=True)  # malformed frames are the point
async def test_no_frame_stops_the_reader_and_every_frame_is_recorded(
    scripted: ScriptedServer,
) -> None:
    rng = random.Random(SEED)
    hostile = [rng.choice(MAKERS)(rng) for _ in range(FRAMES)]
    flow = [prompt("Shall I proceed?"), result("researcher", "found it"), completed()]

    def answer(message: dict[str, object]) -> list[str]:
        return flow[1:] if message.get("type") == "manager_response" else []

    scripted.handler = answer
    async with FlowTestClient.create(scripted.url, timeout=30) as client:
        await client.start_flow("osb", "q")
        await scripted.send(*hostile)  # type: ignore[arg-type]
        await scripted.send(flow[0])
        await client.wait_for_ui_message(pattern="proceed")
        await client.send_manager_response("yes")
        await client.wait_for_agent_results(["researcher"])
        await client.wait_for_completion()
        assert client.is_connected

    received = client.collector.filter(direction="received")
    assert len(received) == FRAMES + len(flow)  # nothing lost
    for frame, message in zip(hostile, received, strict=False):
        assert message.type == expected_type(frame), message.summary()
        assert (message.category is Category.MALFORMED) == (message.type == "")
    counts = client.collector.counts()
    assert 0 < counts["malformed"] < FRAMES  # both kinds were in the mix


async def test_a_reader_that_fails_anyway_fails_every_wait_at_once(
    scripted: ScriptedServer,
) -> None:
    async with FlowTestClient.create(scripted.url, timeout=30) as client:

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("recording is broken")

        client.collector.append = broken  # type: ignore[method-assign,assignment]
        await scripted.send(prompt())
        with pytest.raises(ConnectionLostError, match=r"^flowwright failed to take in a frame \(R"):
            await client.wait_for_ui_message()
        assert not client.is_connected
        with pytest.raises(ConnectionLostError, match="failed to take in a frame"):
            await client.wait_for_completion()  # a later wait fails at once too
