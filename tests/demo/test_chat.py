"""The chat flow: one assistant, free-text turns until the human says done."""

from __future__ import annotations

import pytest

from flowwright.protocol import Envelope, text_of
from tests.demo._client import DemoClient, of_type, timeline

TURN = ["started:assistant", "chat:assistant", "complete:assistant"]


async def test_chat_loops_on_free_text_until_done(client: DemoClient) -> None:
    await client.run_flow("chat", prompt="What counts as hate speech?")
    prompt = await client.prompt()
    assert isinstance(prompt.outputs, dict)
    assert "options" not in prompt.outputs, "a free-text prompt has no options"
    assert "done" in prompt.outputs["content"]
    await client.answer(content="And what about harassment and bullying?")
    await client.prompt()
    await client.answer(content="Done")
    await client.until(of_type("system_update", status="finished"))

    events = timeline(client.messages)
    assert events == [
        "flow_started",
        "joined:assistant",
        *TURN,
        "prompt",
        "progress:waiting",
        *TURN,
        "prompt",
        "progress:waiting",
        "chat:host",
        "flow_completed",
        "progress:finished",
    ]
    answers = [
        text_of(m)
        for m in client.messages
        if isinstance(m, Envelope) and m.type == "chat_message" and m.agent_info
        if m.agent_info.role == "assistant"
    ]
    assert "hate speech" in answers[0].lower()
    assert "harass" in answers[1].lower()


@pytest.mark.parametrize("word", ["done", "bye", "exit"])
async def test_each_done_word_ends_the_chat(client: DemoClient, word: str) -> None:
    await client.run_flow("chat", prompt="What is misinformation?")
    await client.prompt()
    await client.answer(content=word)
    await client.until_completed()


async def test_an_empty_reply_asks_again(client: DemoClient) -> None:
    await client.run_flow("chat", prompt="What is misinformation?")
    await client.prompt()
    await client.answer(confirm=True)
    await client.prompt()
    await client.answer(content="bye")
    await client.until_completed()
    assert timeline(client.messages).count("started:assistant") == 1


async def test_max_turns_ends_the_chat(client: DemoClient) -> None:
    await client.run_flow("chat", prompt="What is misinformation?", max_turns=2)
    await client.prompt()
    await client.answer(content="And violent speech?")
    await client.until_completed()
    events = timeline(client.messages)
    assert events.count("started:assistant") == 2
    assert events.count("prompt") == 1
    assert "max_turns" in text_of(client.messages[events.index("flow_completed") - 1])
