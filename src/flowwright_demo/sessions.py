"""Sessions: which sockets belong to which session, and the one path every frame goes out by.

:meth:`Session.send` is the only way the server writes to a client: it records the frame in
the session's transcript, keeps it in the session's resume buffer, logs it, and writes it to
that session's sockets and no others. A client whose socket dropped reconnects with the last
message id it saw and gets the rest from that buffer (:meth:`Session.join`), which is why a
session outlives its last socket by a grace period (:class:`SessionRegistry`).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from starlette.websockets import WebSocket, WebSocketDisconnect

from flowwright.protocol import Envelope, MessageType, SessionResumed

__all__ = ["RESUMED", "ResumeError", "Session", "SessionRegistry", "storage_name"]

logger = logging.getLogger(__name__)

RESUMED = "session_resumed"
"""``outputs.content`` of the notice a resumed socket gets after its replay."""

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_SEND_ERRORS = (WebSocketDisconnect, OSError, RuntimeError)
"""What writing to a socket that closed under us raises (Starlette, uvicorn, the OS)."""


def storage_name(session_id: str) -> str:
    """A file-name-safe name for a client-chosen session id (a hash unless already safe).

    The hashed form is longer than any safe id can be, so the two never collide.
    """
    if _SAFE_ID.fullmatch(session_id):
        return session_id
    return "sha256-" + hashlib.sha256(session_id.encode()).hexdigest()


class ResumeError(LookupError):
    """A reconnect named a message the session's buffer does not hold; the text says which."""


class Session:
    """One session: its sockets, its transcript (``<storage>/session-<name>.jsonl``) and the
    last ``buffer_size`` frames it sent, for clients that reconnect."""

    def __init__(self, session_id: str, transcript: Path, buffer_size: int) -> None:
        self.id = session_id
        self.sockets: set[WebSocket] = set()
        self.transcript_path = transcript
        self._transcript: TextIO = transcript.open("a", encoding="utf-8")
        self._recent: collections.deque[tuple[str | None, str]] = collections.deque(
            maxlen=buffer_size
        )
        """``(message_id, frame)`` of the frames sent, oldest first (raw text has no id)."""
        self.replies: collections.OrderedDict[str, None] = collections.OrderedDict()
        """Ids of the replies received (``manager_response.message_id``), newest last, at most
        ``buffer_size``: a reply sent again after a cut is recognised and applied once."""
        self._send_lock = asyncio.Lock()
        """Held while a frame goes out and while a reconnecting socket is replayed to, so
        each frame reaches each socket once, in order: never both replayed and sent live."""

    async def send(self, message: Envelope | str) -> None:
        """Send an envelope (or, for the malformed-frame fault only, raw text) to this session."""
        text = message if isinstance(message, str) else message.to_json()
        async with self._send_lock:
            self.record(">", text)
            self._recent.append((None if isinstance(message, str) else message.message_id, text))
            for socket in list(self.sockets):
                # A socket closed under us is dropped here (its handler sees the disconnect
                # too); the session's other sockets still get the frame.
                if not await _write(socket, text):
                    self.sockets.discard(socket)

    def seen_reply(self, reply_id: str) -> bool:
        """Note a reply's id; True if it was received before (a resend after a cut)."""
        if reply_id in self.replies:
            return True
        self.replies[reply_id] = None
        if len(self.replies) > (self._recent.maxlen or 0):
            self.replies.popitem(last=False)
        return False

    async def join(self, socket: WebSocket, resume_after: str | None = None) -> None:
        """Attach a socket; with ``resume_after``, first replay every buffered frame sent
        after that message id, byte for byte, then go live.

        A resumed socket then gets a ``session_resumed`` notice (to it alone, outside the
        buffer, with no message id) naming the last reply the session received, so the
        client sends again only the replies its cut lost.

        Raises :class:`ResumeError` (the socket is attached, live, without a replay) when
        the buffer does not hold that id. A socket that closes during its replay is not
        attached: its handler sees the disconnect.
        """
        async with self._send_lock:
            backlog = [] if resume_after is None else self._sent_after(resume_after)
            for text in backlog or []:
                if not await _write(socket, text):
                    return
            if backlog is not None and resume_after is not None:
                notice = SessionResumed(
                    replayed=len(backlog), last_reply_id=next(reversed(self.replies), None)
                )
                frame = Envelope(type=MessageType.SYSTEM_MESSAGE, outputs=notice.model_dump())
                if not await _write(socket, frame.to_json()):
                    return
            self.sockets.add(socket)
        if backlog is None:
            raise ResumeError(
                f"cannot resume after message {resume_after!r}: it is not among the last "
                f"{self._recent.maxlen} messages of session {self.id!r}"
            )
        if resume_after is not None:
            logger.debug("= %s resumed after %s: %d replayed", self.id, resume_after, len(backlog))

    def record(self, direction: str, text: str) -> None:
        """Append one frame to the transcript and the debug log (``>`` sent, ``<`` received)."""
        line = {"t": datetime.now(UTC).isoformat(), "dir": direction, "frame": text}
        self._transcript.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._transcript.flush()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %s", direction, self.id, text)

    def close(self) -> None:
        self._transcript.close()

    def _sent_after(self, message_id: str) -> list[str] | None:
        """The buffered frames sent after ``message_id``; None if the buffer lacks it."""
        frames = list(self._recent)
        for index, (sent_id, _) in enumerate(frames):
            if sent_id == message_id:
                return [text for _, text in frames[index + 1 :]]
        return None


async def _write(socket: WebSocket, text: str) -> bool:
    """Write one frame; False if the socket has closed."""
    try:
        await socket.send_text(text)
    except _SEND_ERRORS:
        return False
    return True


class SessionRegistry:
    """All live sessions. A session lives while a socket is attached to it and for
    ``grace_seconds`` after its last socket left, so that its client can reconnect and
    resume; if none does, ``on_expire`` is called (it stops the session's flow and closes
    the session) and a later connection to that id starts a new session."""

    def __init__(
        self,
        storage: Path,
        *,
        buffer_size: int,
        grace_seconds: float,
        on_expire: Callable[[Session], None],
    ) -> None:
        self.storage = storage
        self.buffer_size = buffer_size
        self.grace_seconds = grace_seconds
        self._on_expire = on_expire
        self._sessions: dict[str, Session] = {}
        self._expiries: dict[str, asyncio.TimerHandle] = {}

    def open(self, session_id: str) -> Session:
        """The session of that id, created if it does not exist (or expired); a pending
        expiry is called off, since a client is (re)connecting."""
        if (expiry := self._expiries.pop(session_id, None)) is not None:
            expiry.cancel()
            logger.debug("= %s reconnected within the grace period", session_id)
        session = self._sessions.get(session_id)
        if session is None:
            path = self.storage / f"session-{storage_name(session_id)}.jsonl"
            session = self._sessions[session_id] = Session(session_id, path, self.buffer_size)
            logger.debug("= %s session opened (transcript %s)", session_id, path)
        return session

    def leave(self, session: Session, socket: WebSocket) -> None:
        """A socket's handler is done; after the session's last socket, the grace period
        starts (the flow goes on meanwhile, its messages go to the buffer)."""
        session.sockets.discard(socket)
        if session.sockets or session.id in self._expiries:
            return
        logger.debug("= %s last socket left: %gs to reconnect", session.id, self.grace_seconds)
        self._expiries[session.id] = asyncio.get_running_loop().call_later(
            self.grace_seconds, self._expire, session
        )

    def shutdown(self) -> None:
        """Server shutdown: call off every pending expiry and close every session."""
        for expiry in self._expiries.values():
            expiry.cancel()
        self._expiries.clear()
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()

    def _expire(self, session: Session) -> None:
        # Synchronous on purpose: a reconnect can never see the session half gone.
        del self._expiries[session.id]
        del self._sessions[session.id]
        logger.debug("= %s session closed", session.id)
        self._on_expire(session)

    def __len__(self) -> int:
        return len(self._sessions)
