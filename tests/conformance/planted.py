"""A small flow server with deviations planted on demand, for the conformance suite's tests.

It keeps every rule of the suite (an osb-like flow: a confirm prompt, then two agents; errors
for bad input; resume with a replay buffer) unless told to break one:

    python -m tests.conformance.planted --port 0 [--deviation NAME ...]

``silent-unknown-flow`` sends nothing for a flow it does not have, ``drop-second-run`` drops
the socket on a second run_flow, ``ignore-halt`` accepts halt and does nothing — three things
a real Buttermilk server was seen to do. Besides ``osb`` it has ``endless``, a flow that
never ends by itself (as Buttermilk's ``mock``): its agent reports until the session's last
socket closes. It prints its URL once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from flowwright.protocol import AgentInfo, envelope

DEVIATIONS = ("silent-unknown-flow", "drop-second-run", "ignore-halt")
FLOWS = ("osb", "endless")
MAX_FRAME = 64 * 1024
HOST = AgentInfo(agent_id="host", role="host")


@dataclass
class Session:
    id: str
    sockets: set[ServerConnection] = field(default_factory=set)
    sent: list[tuple[str | None, str]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    answers: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    run: asyncio.Task[None] | None = None
    waiting: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, type: str, outputs: Any, agent: AgentInfo | None = None) -> None:
        message = envelope(type, outputs, agent=agent)
        await self.broadcast(message.message_id, message.to_json())

    async def broadcast(self, message_id: str | None, frame: str) -> None:
        async with self.lock:
            self.sent.append((message_id, frame))
            for socket in list(self.sockets):
                try:
                    await socket.send(frame)
                except ConnectionClosed:
                    self.sockets.discard(socket)

    async def error(self, text: str) -> None:
        await self.send("system_error", {"source": "server", "content": text})


class PlantedServer:
    def __init__(self, deviations: set[str]) -> None:
        self.deviations = deviations
        self.sessions: dict[str, Session] = {}

    def http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path.startswith("/ws/"):
            return None
        if path == "/health":
            return _json(200, {"status": "ok"})
        if path == "/api/flows":
            return _json(200, {"flow_choices": list(FLOWS)})
        return _json(404, {"error": f"no such page {path}"})

    async def handle(self, socket: ServerConnection) -> None:
        assert socket.request is not None
        parts = urlsplit(socket.request.path)
        session_id = parts.path.removeprefix("/ws/")
        session = self.sessions.setdefault(session_id, Session(session_id))
        resume_after = parse_qs(parts.query).get("resume_after", [""])[0]
        async with session.lock:  # no live frame between the replay and this socket joining
            session.sockets.add(socket)
            ids = [message_id for message_id, _ in session.sent]
            replay = (
                [frame for _, frame in session.sent[ids.index(resume_after) + 1 :]]
                if resume_after in ids
                else None
            )
            if replay is not None:
                for frame in replay:
                    await socket.send(frame)
                notice = {
                    "source": "server",
                    "content": "session_resumed",
                    "replayed": len(replay),
                    "last_reply_id": session.replies[-1] if session.replies else None,
                }
                await socket.send(json.dumps({"type": "system_message", "outputs": notice}))
        if resume_after and replay is None:
            await session.error(f"cannot resume after message {resume_after!r}")
        runs = 0
        try:
            async for incoming in socket:
                runs += await self.receive(session, socket, incoming, runs)
        finally:
            session.sockets.discard(socket)

    async def receive(
        self, session: Session, socket: ServerConnection, frame: str | bytes, runs: int
    ) -> int:
        """Act on one frame; returns 1 for a run started on this socket."""
        if isinstance(frame, bytes):
            await session.error("binary frames are not accepted")
            return 0
        if len(frame.encode()) > MAX_FRAME:
            await session.error(f"frame too large: {len(frame.encode())} bytes")
            return 0
        try:
            message = json.loads(frame)
        except ValueError as exc:
            await session.error(f"invalid JSON: {exc}")
            return 0
        if not isinstance(message, dict):
            await session.error(f"expected a JSON object, got {type(message).__name__}")
            return 0
        kind = message.get("type") or ("run_flow" if "flow" in message else None)
        if kind == "run_flow":
            return await self.run_flow(session, socket, message, runs)
        if kind == "manager_response":
            await self.answer(session, message)
            return 0
        await session.error(f"unknown message type {kind!r}")
        return 0

    async def run_flow(
        self, session: Session, socket: ServerConnection, message: dict[str, Any], runs: int
    ) -> int:
        flow = message.get("flow")
        if not flow:
            await session.error("invalid run_flow: flow: Field required")
            return 0
        if flow not in FLOWS:
            if "silent-unknown-flow" not in self.deviations:
                await session.error(f"unknown flow {flow!r} (available: {', '.join(FLOWS)})")
            return 0
        if runs and "drop-second-run" in self.deviations:
            socket.transport.abort()
            return 0
        if session.run is not None and not session.run.done():
            await session.error("a flow is already running in this session")
            return 0
        session.answers = asyncio.Queue()
        run = self.osb if flow == "osb" else self.endless
        session.run = asyncio.create_task(run(session, str(message.get("prompt", ""))))
        return 1

    async def answer(self, session: Session, message: dict[str, Any]) -> None:
        reply_id = message.get("message_id")
        if reply_id in session.replies:
            return  # received again after a resume: applied once
        if reply_id:
            session.replies.append(reply_id)
        if session.run is None or session.run.done():
            await session.error("no flow is running in this session: start one with run_flow")
            return
        if message.get("halt") and "ignore-halt" in self.deviations:
            return
        if not session.waiting and not message.get("halt"):
            await session.error("nothing is awaiting an answer right now")
            return
        session.answers.put_nowait(message)

    async def endless(self, session: Session, prompt: str) -> None:
        agent = AgentInfo(agent_id="judge-1", role="judge")
        await session.send("system_message", {"source": "orchestrator", "content": "started"})
        report = 0
        while session.sockets:  # no end of its own: it stops when nobody listens
            report += 1
            await session.send("chat_message", {"content": f"report {report} on {prompt!r}"}, agent)
            await asyncio.sleep(0.005)

    async def osb(self, session: Session, prompt: str) -> None:
        await session.send(
            "system_message", {"source": "orchestrator", "content": "flow_started: osb"}
        )
        session.waiting = True  # before the prompt: a quick answer finds it waiting
        await session.send(
            "ui_message",
            {
                "content": f"I will research {prompt!r}. Shall I proceed?",
                "options": ["confirm", "reject"],
            },
            HOST,
        )
        await session.send("system_update", {"source": "orchestrator", "status": "waiting"})
        answer = await session.answers.get()
        session.waiting = False
        if answer.get("halt"):
            await session.send(
                "system_message", {"source": "orchestrator", "content": "flow_halted"}
            )
        elif answer.get("selection") == "reject" or not answer.get("confirm"):
            await session.send(
                "chat_message", {"content": "Stopping here: no agent was run."}, HOST
            )
        else:
            for role, kind in (
                ("researcher", "research_result"),
                ("policy_analyst", "chat_message"),
            ):
                agent = AgentInfo(agent_id=f"{role}-1", role=role)
                await session.send(
                    "system_update", {"agent_id": agent.agent_id, "role": role, "status": "started"}
                )
                await session.send(
                    kind, {"content": f"{role} on {prompt!r}", "response": "done"}, agent
                )
                await session.send(
                    "system_update",
                    {"agent_id": agent.agent_id, "role": role, "status": "complete"},
                )
        await session.send(
            "system_message", {"source": "orchestrator", "content": "flow_completed"}
        )
        await session.send("system_update", {"source": "orchestrator", "status": "finished"})


def _json(status: int, data: object) -> Response:
    body = json.dumps(data).encode()
    headers = Headers({"Content-Type": "application/json", "Content-Length": str(len(body))})
    return Response(status, "OK" if status == 200 else "Not Found", headers, body)


async def main(port: int, deviations: set[str]) -> None:
    planted = PlantedServer(deviations)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(
        planted.handle, "127.0.0.1", port, process_request=planted.http, max_size=2**20
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"http://127.0.0.1:{bound}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--deviation", action="append", default=[], choices=DEVIATIONS)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.port, set(arguments.deviation)))
