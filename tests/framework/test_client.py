"""FlowTestClient against a scripted real WebSocket server: lifecycle, waits, failures."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.protocol import State

from flowwright import (
    Category,
    ConnectError,
    ConnectionLostError,
    FlowErrorEvent,
    FlowTestClient,
    FlowTimeoutError,
    MessageCollector,
    ProtocolError,
    ResponseSimulator,
)
from flowwright.context import TestScope, current, entered
from flowwright.protocol import ChatPayload, ResearchResult, SessionResumed, envelope
from tests.framework.scripted import ScriptedServer, completed, error, prompt, result
from tests.timing import scaled


async def test_prompt_answered_before_the_wait_is_not_missed(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [prompt("Shall I proceed?")] if m["type"] == "run_flow" else []
    async with FlowTestClient.create(scripted.url) as client:
        async with client.expect(category="prompt"):
            await client.start_flow("osb", "q")  # the prompt is in before we ask for it
        found = await client.wait_for_ui_message(pattern="proceed", timeout=5)
    assert found.category is Category.PROMPT
    assert found.options == ["confirm", "reject"]


async def test_start_flow_sends_parameters_and_records_the_frame(scripted: ScriptedServer) -> None:
    async with FlowTestClient.create(scripted.url) as client:
        sent = await client.start_flow("osb", "What?", record_id="r1", criteria="hate")
        assert sent.direction == "sent"
        assert client.last_action_seq == sent.seq
        async with client.expect(category="prompt", timeout=5):
            await scripted.send(prompt())
    assert scripted.received == [
        {
            "type": "run_flow",
            "flow": "osb",
            "record_id": "r1",
            "criteria": "hate",
            "prompt": "What?",
        }
    ]


async def test_natural_language_confirmation_sets_confirm(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [prompt()] if m["type"] == "run_flow" else []
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        await client.wait_for_ui_message(timeout=5)
        await client.send_manager_response("Yes, please proceed")
        await client.send_manager_response("No thanks")
        await client.send_manager_response("What about satire instead?")
        await client.send_manager_response(confirm=True, content="raw")
    replies = scripted.received[1:]
    assert [(r["confirm"], r.get("selection"), r["content"]) for r in replies] == [
        (True, None, "Yes, please proceed"),
        (False, "reject", "No thanks"),
        (False, None, "What about satire instead?"),
        (True, None, "raw"),
    ]


async def test_expect_ignores_messages_from_before_it_was_armed(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [prompt("second")] if m["type"] == "manager_response" else []
    async with FlowTestClient.create(scripted.url) as client:
        async with client.expect(category="prompt", timeout=5):
            await scripted.send(prompt("first"))
        async with client.expect(category="prompt", timeout=5) as event:
            await client.send_manager_response("yes")
    assert event.value.content == "second"


async def test_wait_for_agent_results_returns_when_every_agent_reported(
    scripted: ScriptedServer,
) -> None:
    scripted.handler = lambda m: [
        result("researcher", "about hate speech"),
        result("host", "not an expected agent"),
        result("policy_analyst", "conclusion"),
        completed(),
    ]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        results = await client.wait_for_agent_results(["researcher", "policy_analyst"], timeout=5)
        done = await client.wait_for_completion(timeout=5)
    assert [(r.role, r.content) for r in results] == [
        ("researcher", "about hate speech"),
        ("policy_analyst", "conclusion"),
    ]
    assert done.is_flow_completed


async def test_timeout_names_what_was_awaited_and_what_arrived(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [result("researcher", "partial work")]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        with pytest.raises(FlowTimeoutError) as caught:
            await client.wait_for_agent_results(["researcher", "policy_analyst"], timeout=0.3)
    text = str(caught.value)
    assert isinstance(caught.value, TimeoutError)
    assert "timed out after 0." in text
    assert "timed out after 0.3s waiting for" in text
    assert "got: ['researcher']" in text
    assert "missing: ['policy_analyst']" in text
    assert "chat chat_message [researcher] partial work" in text
    assert "run_flow" in text  # the frame the test sent is part of the story
    assert f"client: session {client.session_id}" in text


async def test_system_error_fails_a_pending_wait_fast(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [error("unknown flow 'nope'")]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("nope", "q")
        started = time.monotonic()
        with pytest.raises(FlowErrorEvent) as caught:
            await client.wait_for_ui_message(timeout=30)
    assert time.monotonic() - started < scaled(1)
    assert caught.value.content == "unknown flow 'nope'"
    assert "while waiting for prompt" in str(caught.value)


async def test_waiting_for_the_error_itself_is_allowed(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [error("bad input")]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("x")
        found = await client.wait_for(category="error", timeout=5)
    assert found.content == "bad input"


async def test_fail_on_error_false_waits_past_errors(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [error("transient"), prompt()]
    async with FlowTestClient.create(scripted.url, fail_on_error=False) as client:
        await client.start_flow("osb", "q")
        found = await client.wait_for_ui_message(timeout=5)
    assert found.category is Category.PROMPT


@pytest.mark.flow(allow_malformed=True)  # malformed frames are the point
async def test_malformed_frames_are_recorded_not_fatal(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: ["{not json", '{"no": "type"}', prompt()]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        await client.wait_for_ui_message(timeout=5)
        malformed = client.collector.by_category(Category.MALFORMED)
    assert [m.raw for m in malformed] == ["{not json", '{"no": "type"}']
    assert "not JSON" in (malformed[0].error or "")


async def test_a_dropped_connection_fails_pending_waits_at_once(scripted: ScriptedServer) -> None:
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        started = time.monotonic()
        with pytest.raises(ConnectionLostError) as caught:
            async with client.expect(category="prompt", timeout=30):
                scripted.drop()
        assert time.monotonic() - started < scaled(1)
        assert "the server closed the connection" in str(caught.value)
        assert "while waiting for prompt" in str(caught.value)
        with pytest.raises(ConnectionLostError):  # later waits fail at once too
            await client.wait_for_completion(timeout=30)
        with pytest.raises(ConnectionLostError, match="cannot send"):
            await client.send_manager_response("yes")


async def test_connect_refused_is_a_clear_error() -> None:
    with pytest.raises(ConnectError, match=r"could not connect to ws://127\.0\.0\.1:9/ws/"):
        async with FlowTestClient.create("ws://127.0.0.1:9", open_timeout=2):
            pass


def test_session_url_from_base_url_or_full_url() -> None:
    assert FlowTestClient("http://h:1", session_id="s").url == "ws://h:1/ws/s"
    assert FlowTestClient("ws://h:1/ws", session_id="s").url == "ws://h:1/ws/s"
    assert FlowTestClient("wss://h/custom/path").url == "wss://h/custom/path"


async def test_an_invalid_run_flow_is_refused_before_sending(scripted: ScriptedServer) -> None:
    async with FlowTestClient.create(scripted.url) as client:
        with pytest.raises(ProtocolError, match="invalid run_flow for flow ''"):
            await client.start_flow("")
    assert scripted.received == []


def test_typed_payload_views() -> None:
    message = MessageCollector().append(result("researcher", "text"))
    assert message.payload(ChatPayload).content == "text"
    with pytest.raises(ProtocolError, match=r"message #1 \(chat_message\) is not a ResearchResult"):
        message.payload(ResearchResult)


async def test_reconnect_after_a_cut_resumes_after_the_last_message(
    scripted: ScriptedServer,
) -> None:
    scripted.handler = lambda m: [prompt("first")] if m["type"] == "run_flow" else [completed()]
    async with FlowTestClient.create(scripted.url, session_id="s1") as client:
        await client.start_flow("osb", "q")
        first = await client.wait_for_ui_message(timeout=5)
        with pytest.raises(ConnectionLostError):
            async with client.expect(category="prompt", timeout=30):
                client.cut_connection()
        await client.reconnect()
        await client.send_manager_response("yes")
        await client.wait_for_completion(timeout=5)
    assert first.envelope is not None
    assert scripted.paths == ["/ws/s1", f"/ws/s1?resume_after={first.envelope.message_id}"]


async def test_after_a_resume_only_the_replies_the_server_missed_are_sent_again(
    scripted: ScriptedServer,
) -> None:
    prompts = iter([prompt("two"), prompt("three")])
    scripted.handler = lambda m: [prompt("one")] if m["type"] == "run_flow" else [next(prompts)]
    async with FlowTestClient.create(scripted.url, session_id="s1") as client:
        await client.start_flow("osb", "q")
        await client.wait_for_ui_message(pattern="one", timeout=5)
        await client.send_manager_response("yes")
        await client.wait_for_ui_message(pattern="two", timeout=5)
        await client.send_manager_response("yes")
        await client.wait_for_ui_message(pattern="three", timeout=5)
        first, second = (json.loads(m.raw) for m in client.collector.filter(direction="sent")[1:])
        # The server says it got the first reply only: the second was lost in the cut.
        notice = SessionResumed(last_reply_id=first["message_id"])
        scripted.greeting = lambda path: [envelope("system_message", notice).to_json()]
        scripted.received.clear()
        client.cut_connection()
        await client.reconnect()

    assert scripted.received == [second]  # sent again, same id; the first was not
    assert [m.type for m in client.collector.filter(category="note", direction="note")] == [
        "cut",
        "reconnect",
        "resend",
    ]


async def test_no_task_or_socket_outlives_a_failed_wait(scripted: ScriptedServer) -> None:
    scripted.handler = lambda m: [prompt()]
    simulator = ResponseSimulator(default="What about satire?")
    with pytest.raises(FlowTimeoutError):
        async with FlowTestClient.create(scripted.url) as client, simulator.attached(client):
            await client.start_flow("osb", "q")
            await client.wait_for_completion(timeout=0.2)
    assert simulator.history  # the background answering did run
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("flowwright")] == []
    assert client._ws is not None
    assert client._ws.state is State.CLOSED
    assert not client.waiter._pending


async def test_streams_are_remembered_only_while_the_plugin_tracks_them(
    scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FlowTestClient.create(scripted.url) as tracked:
        pass
    streams = current().streams
    assert streams is not None
    assert streams[-1] is tracked  # for this test's failure report
    assert tracked.title == f"client ({tracked.url})"
    with entered(TestScope("outside pytest")):  # streams=None: nothing is remembered
        async with FlowTestClient.create(scripted.url) as untracked:
            pass
    assert untracked not in streams
