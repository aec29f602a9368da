"""Sessions: which sockets belong to which session, and the one path every frame goes out by.

:meth:`Session.send` is the only way the server writes to a client: it records the frame in
the session's transcript, logs it, and writes it to that session's sockets and no others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from starlette.websockets import WebSocket, WebSocketDisconnect

from flowwright.protocol import Envelope

__all__ = ["Session", "SessionRegistry", "storage_name"]

logger = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def storage_name(session_id: str) -> str:
    """A file-name-safe name for a client-chosen session id (a hash unless already safe).

    The hashed form is longer than any safe id can be, so the two never collide.
    """
    if _SAFE_ID.fullmatch(session_id):
        return session_id
    return "sha256-" + hashlib.sha256(session_id.encode()).hexdigest()


class Session:
    """One session: its sockets and its transcript (``<storage>/session-<name>.jsonl``)."""

    def __init__(self, session_id: str, transcript: Path) -> None:
        self.id = session_id
        self.sockets: set[WebSocket] = set()
        self.transcript_path = transcript
        self._transcript: TextIO = transcript.open("a", encoding="utf-8")

    async def send(self, message: Envelope | str) -> None:
        """Send an envelope (or, for the malformed-frame fault only, raw text) to this session."""
        text = message if isinstance(message, str) else message.to_json()
        self.record(">", text)
        for socket in list(self.sockets):
            # A socket closed under us is dropped here (its handler sees the disconnect too);
            # the session's other sockets still get the frame.
            try:
                await socket.send_text(text)
            except (WebSocketDisconnect, OSError, RuntimeError):
                self.sockets.discard(socket)

    def record(self, direction: str, text: str) -> None:
        """Append one frame to the transcript and the debug log (``>`` sent, ``<`` received)."""
        line = {"t": datetime.now(UTC).isoformat(), "dir": direction, "frame": text}
        self._transcript.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._transcript.flush()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %s", direction, self.id, text)

    def close(self) -> None:
        self._transcript.close()


class SessionRegistry:
    """All live sessions. A session exists while at least one socket is attached to it."""

    def __init__(self, storage: Path) -> None:
        self.storage = storage
        self._sessions: dict[str, Session] = {}

    def attach(self, session_id: str, socket: WebSocket) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            path = self.storage / f"session-{storage_name(session_id)}.jsonl"
            session = self._sessions[session_id] = Session(session_id, path)
            logger.debug("= %s session opened (transcript %s)", session_id, path)
        session.sockets.add(socket)
        return session

    def detach(self, session: Session, socket: WebSocket) -> bool:
        """Remove a socket; True when it was the session's last: the session is then dropped
        from the registry, and the caller stops its flow before :meth:`Session.close`."""
        session.sockets.discard(socket)
        if session.sockets:
            return False
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]
        logger.debug("= %s session closed", session.id)
        return True

    def __len__(self) -> int:
        return len(self._sessions)
