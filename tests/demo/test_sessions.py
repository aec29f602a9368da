"""Sessions are isolated: each sees only its own messages, and transcripts stay apart."""

from __future__ import annotations

import asyncio

from flowwright.protocol import Envelope, text_of
from flowwright.runner import TestFlowRunner
from flowwright_demo.sessions import storage_name
from tests.demo._client import DemoClient, of_type, open_client, sent_ids, transcript_path

SESSIONS = 20


async def run_one(server: TestFlowRunner, index: int) -> DemoClient:
    async with open_client(server) as client:
        await client.run_flow(
            "osb", prompt=f"[q{index:02d}] Is hate speech against group {index} allowed?"
        )
        prompt = await client.prompt()
        assert f"[q{index:02d}]" in text_of(prompt)
        await client.answer(confirm=True)
        await client.until(of_type("system_update", status="finished"), timeout=30)
        return client


async def test_concurrent_sessions_each_see_only_their_own_messages(
    demo_server: TestFlowRunner,
) -> None:
    clients = await asyncio.gather(*(run_one(demo_server, i) for i in range(SESSIONS)))

    ids_per_client = []
    for index, client in enumerate(clients):
        texts = " ".join(text_of(m) for m in client.messages)
        markers = {f"[q{other:02d}]" for other in range(SESSIONS)}
        assert {m for m in markers if m in texts} == {f"[q{index:02d}]"}
        assert all(isinstance(m, Envelope) for m in client.messages)
        ids_per_client.append({m.message_id for m in client.messages if isinstance(m, Envelope)})
    all_ids = set().union(*ids_per_client)
    assert len(all_ids) == sum(len(ids) for ids in ids_per_client), (
        "no message reached two sessions"
    )

    for index, client in enumerate(clients):
        assert set(sent_ids(demo_server, client.session_id)) == ids_per_client[index]
        assert '"dir": "<"' in transcript_path(demo_server, client.session_id).read_text()


async def test_two_sockets_of_one_session_both_receive(demo_server: TestFlowRunner) -> None:
    async with (
        open_client(demo_server, "shared-session") as first,
        open_client(demo_server, "shared-session", token=first.token) as second,
    ):
        await first.run_flow("osb", prompt="Is hate speech allowed?")
        await second.prompt()
        await second.answer(confirm=True)
        await first.until_completed()
        await second.until_completed()
        assert [m.message_id for m in first.messages if isinstance(m, Envelope)] == [
            m.message_id for m in second.messages if isinstance(m, Envelope)
        ]


async def test_unsafe_session_ids_are_hashed_for_storage(demo_server: TestFlowRunner) -> None:
    unsafe = "..weird id*"
    async with open_client(demo_server, unsafe) as client:
        await client.run_flow("chat", prompt="hello")
        await client.prompt()
    stored = transcript_path(demo_server, unsafe)
    assert stored.name.startswith("session-sha256-")
    assert stored.exists()


def test_storage_names() -> None:
    assert storage_name("abc-DEF_123") == "abc-DEF_123"
    for unsafe in ["../etc/passwd", "a b", "", "x" * 65, "café"]:
        name = storage_name(unsafe)
        assert name.startswith("sha256-")
        assert len(name) == 71
    assert storage_name("a b") != storage_name("a  b")


async def test_leaving_mid_step_disturbs_nothing(demo_server: TestFlowRunner) -> None:
    async with open_client(demo_server) as leaver:
        await leaver.run_flow(
            "osb",
            prompt="Is hate speech allowed?",
            fault={"slow_agent": "researcher", "seconds": 60},
        )
        await leaver.prompt()
        await leaver.answer(confirm=True)
        await leaver.until(of_type("system_update", status="started", role="researcher"))
    async with open_client(demo_server) as client:
        await client.run_flow("chat", prompt="What is hate speech?")
        await client.prompt()
        await client.answer(content="done")
        await client.until_completed()
