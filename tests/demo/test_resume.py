"""Disconnect and resume: a client whose socket drops reconnects with ``?resume_after=<id>``
and gets every message it missed, once, in order, then the rest live; a run whose session
nobody comes back to is cancelled after the grace period.

"Nothing lost, nothing duplicated" is checked against the server's own account: the session
transcript lists every message the server sent, so what the client's connections received,
put end to end, must be exactly that list.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from starlette.websockets import WebSocket

from flowwright.protocol import Envelope, FlowEvent, MessageType, envelope, text_of
from flowwright.runner import TestFlowRunner
from flowwright_demo.sessions import RESUMED, ResumeError, Session
from flowwright_demo.settings import default_conf_dir
from tests.demo._client import (
    DemoClient,
    Message,
    logged,
    of_type,
    open_client,
    sent_ids,
    start_server,
    timeline,
)

QUESTION = "Is hate speech against migrants allowed?"
STEPWISE: dict[str, Any] = {"prompt": QUESTION, "confirm_each_step": True}
"""An osb run that asks before each step: three prompts, so a run can be resumed at one."""

finished = of_type("system_update", status="finished")


def asks_step_2(message: Message) -> bool:
    return of_type("ui_message")(message) and "Step 2 of 2" in text_of(message)


def ids(messages: list[Message]) -> list[str]:
    """The message ids received, in order (the resume notice, which has none, left out)."""
    return [
        message.message_id
        for message in messages
        if isinstance(message, Envelope) and message.message_id is not None
    ]


def is_resume_notice(frame: str) -> bool:
    return bool(json.loads(frame)["outputs"].get("content") == RESUMED)


def last_id(client: DemoClient) -> str:
    return ids(client.messages)[-1]


def resume(server: TestFlowRunner, dropped: DemoClient) -> AbstractAsyncContextManager[DemoClient]:
    """A socket that resumes ``dropped``'s session after the last message it received,
    with the session's token."""
    return open_client(
        server, dropped.session_id, resume_after=last_id(dropped), token=dropped.token
    )


def sent_by(session_id: str) -> str:
    """A regex for the server's debug log line of a frame it sent to that session."""
    return re.escape(f"> {session_id} ")


async def confirm_all(client: DemoClient) -> None:
    """Confirm every prompt until the run's last message."""
    while not finished((await client.until(lambda m: of_type("ui_message")(m) or finished(m)))[-1]):
        await client.answer(confirm=True)


async def start_stepwise_and_drop_in_the_first_step(client: DemoClient) -> None:
    """Start a stepwise run with a slow researcher; return once it is at work."""
    await client.run_flow("osb", **STEPWISE, fault={"slow_agent": "researcher", "seconds": 1})
    for _ in range(2):  # the plan, then step 1
        await client.prompt()
        await client.answer(confirm=True)
    await client.until(of_type("system_update", status="started", role="researcher"))


# ---------------------------------------------------------------------- against a server


async def test_a_client_dropped_mid_step_resumes_with_nothing_lost_or_duplicated(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as reference:
        await reference.run_flow("osb", **STEPWISE)
        await confirm_all(reference)

    session_id = str(uuid.uuid4())
    async with open_client(demo_server, session_id) as first:
        await start_stepwise_and_drop_in_the_first_step(first)
        await first.drop()
    # The researcher finishes and the host asks about step 2 while no socket is attached.
    await logged(demo_server, sent_by(session_id) + ".*Step 2 of 2")
    async with resume(demo_server, first) as second:
        await second.until(asks_step_2)
        await second.answer(confirm=True)
        await second.until(finished)

    assert ids(first.messages) + ids(second.messages) == sent_ids(demo_server, session_id)
    assert "research_result" in timeline(second.messages)  # sent while nobody was connected
    resumed = [label for label in timeline(second.messages) if label != RESUMED]
    assert timeline(first.messages) + resumed == timeline(reference.messages)


async def test_a_resumed_run_is_the_same_run(demo_server: TestFlowRunner) -> None:
    session_id = str(uuid.uuid4())
    async with open_client(demo_server, session_id) as first:
        await first.run_flow("chat", prompt="What counts as hate speech?")
        await first.until(of_type("system_update", status="waiting"))
        await first.drop()
    async with resume(demo_server, first) as second:
        await second.run_flow("chat", prompt="a second run")
        assert "already running" in await second.error()
        await second.answer(content="done")  # the answer the first socket's prompt awaited
        await second.until(finished)

    assert ids(first.messages) + ids(second.messages) == sent_ids(demo_server, session_id)
    assert timeline(second.messages)[:2] == [RESUMED, "error:server"]  # nothing was missed


async def test_resuming_after_an_unknown_message_is_refused_and_the_socket_stays_live(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server, resume_after="no-such-message") as client:
        assert await client.error() == (
            "cannot resume after message 'no-such-message': it is not among the last 1000 "
            f"messages of session {client.session_id!r}"
        )
        await client.run_flow("chat", prompt="hello")
        await client.prompt()
        await client.answer(content="done")
        await client.until(finished)


async def test_a_replay_to_one_socket_does_not_disturb_the_other(
    demo_server: TestFlowRunner,
) -> None:
    session_id = str(uuid.uuid4())
    async with open_client(demo_server, session_id) as stayer:
        async with open_client(demo_server, session_id, token=stayer.token) as leaver:
            await start_stepwise_and_drop_in_the_first_step(leaver)
            await leaver.drop()
        await stayer.until(asks_step_2)  # asked while the leaver is away
        async with resume(demo_server, leaver) as back:
            await stayer.answer(confirm=True)  # live messages race the replay
            await back.until(finished)
        await stayer.until(finished)

    sent = sent_ids(demo_server, session_id)
    assert ids(stayer.messages) == sent
    assert ids(leaver.messages) + ids(back.messages) == sent


@pytest.fixture(scope="module")
def short_grace_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestFlowRunner]:
    """A server whose runs outlive their last socket by one second only."""
    tmp = tmp_path_factory.mktemp("short-grace")
    conf = tmp / "conf"
    shutil.copytree(default_conf_dir(), conf)
    overlay = conf / "test" / "server.yaml"
    settings = yaml.safe_load(overlay.read_text()) | {"resume_grace_seconds": 1}
    overlay.write_text(yaml.safe_dump(settings))
    runner = start_server(tmp, "--conf-dir", str(conf))
    yield runner
    assert runner.stop() == 0, runner.describe(30)


async def test_a_run_nobody_returns_to_is_cancelled_after_the_grace_period(
    short_grace_server: TestFlowRunner,
) -> None:
    async with open_client(short_grace_server) as client:
        await client.run_flow("osb", prompt=QUESTION)
        await client.until(of_type("system_update", status="waiting"))
        await client.drop()
    session_id = client.session_id
    await logged(
        short_grace_server,
        re.escape(f"= {session_id} no socket reconnected within 1s: run of osb cancelled"),
    )

    assert sent_ids(short_grace_server, session_id) == ids(client.messages)  # nothing more
    async with resume(short_grace_server, client) as late:
        assert "cannot resume after message" in await late.error()  # the session is gone


async def test_a_reconnect_within_the_grace_period_keeps_the_run(
    short_grace_server: TestFlowRunner,
) -> None:
    session_id = str(uuid.uuid4())
    async with open_client(short_grace_server, session_id) as first:
        await first.run_flow(
            "osb", prompt=QUESTION, fault={"slow_agent": "researcher", "seconds": 2}
        )
        await first.prompt()
        await first.answer(confirm=True)
        await first.until(of_type("system_update", status="started", role="researcher"))
        await first.drop()
    # The researcher works for longer than the grace period: the run must survive it.
    async with resume(short_grace_server, first) as back:
        await back.until(finished)
    assert ids(first.messages) + ids(back.messages) == sent_ids(short_grace_server, session_id)


# ---------------------------------------------------------------------- the buffer itself


class _Socket:
    """Stands in for a Starlette WebSocket: records frames; ``gate`` can hold a send."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.writing = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_text(self, text: str) -> None:
        self.frames.append(text)
        self.writing.set()
        await self.gate.wait()


def _session(tmp_path: Path, buffer_size: int) -> Session:
    return Session("s-1", tmp_path / "session-s-1.jsonl", buffer_size)


def _event(text: str) -> Envelope:
    return envelope(MessageType.SYSTEM_MESSAGE, FlowEvent(content=text, source="test"))


async def test_the_buffer_holds_the_last_messages_byte_for_byte(tmp_path: Path) -> None:
    session = _session(tmp_path, buffer_size=3)
    sent = [_event(f"m{index}") for index in range(5)]
    for message in sent:
        await session.send(message)

    socket = _Socket()
    await session.join(cast(WebSocket, socket), resume_after=sent[2].message_id)
    *replayed, notice = socket.frames
    assert replayed == [message.to_json() for message in sent[3:]]
    assert is_resume_notice(notice)

    with pytest.raises(ResumeError) as caught:
        await session.join(cast(WebSocket, _Socket()), resume_after=sent[1].message_id)
    assert str(caught.value) == (
        f"cannot resume after message {sent[1].message_id!r}: it is not among the last 3 "
        "messages of session 's-1'"
    )
    session.close()


async def test_a_message_sent_during_a_replay_follows_it_once(tmp_path: Path) -> None:
    session = _session(tmp_path, buffer_size=10)
    first, second, during = _event("first"), _event("second"), _event("during")
    for message in (first, second):
        await session.send(message)

    socket = _Socket()
    socket.gate.clear()  # the replay stalls on its first frame
    joining = asyncio.create_task(session.join(cast(WebSocket, socket), first.message_id))
    await socket.writing.wait()
    sending = asyncio.create_task(session.send(during))
    await asyncio.sleep(0)  # let the send run as far as it can: to the session's lock
    assert not sending.done()
    socket.gate.set()
    await asyncio.gather(joining, sending)

    assert socket.frames[0] == second.to_json()
    assert is_resume_notice(socket.frames[1])  # the replay ends with the notice...
    assert socket.frames[2:] == [during.to_json()]  # ...and what was sent meanwhile follows
    session.close()


async def test_the_resume_notice_names_the_last_reply_received(tmp_path: Path) -> None:
    session = _session(tmp_path, buffer_size=10)
    first = _event("first")
    await session.send(first)
    assert not session.seen_reply("r-1")
    assert not session.seen_reply("r-2")
    assert session.seen_reply("r-1")  # a resend is recognised

    socket = _Socket()
    await session.join(cast(WebSocket, socket), resume_after=first.message_id)
    notice = json.loads(socket.frames[-1])
    assert notice["outputs"] == {
        "source": "server",
        "content": RESUMED,
        "replayed": 0,
        "last_reply_id": "r-2",
    }
    assert "message_id" not in notice  # never a resume cursor itself
    session.close()
