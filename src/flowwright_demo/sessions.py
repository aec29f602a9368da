"""Sessions: which sockets belong to which session, and the one path every frame goes out by.

:meth:`Session.send` is the only way the server writes to a client: it records the frame in
the session's transcript, keeps it in the session's resume buffer, logs it, and writes it to
that session's sockets and no others. A client whose socket dropped reconnects with the last
message id it saw and gets the rest from that buffer (:meth:`Session.join`), which is why a
session outlives its last socket by a grace period (:class:`SessionRegistry`) — unless the
client closed it cleanly, which says it is not coming back.

A session belongs to whoever created it: its secret token goes to the first socket (and to
``GET /api/session``), and any later socket must present it (:meth:`SessionRegistry.admit`).
Limits bound what one client can hold: ``max_sessions`` sessions, ``max_sockets_per_session``
sockets each.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from flowwright.protocol import Envelope, MessageType, SessionResumed
from flowwright_demo.access import shown

__all__ = [
    "CLEAN_CLOSE_CODES",
    "FORBIDDEN",
    "REPLACED",
    "RESUMED",
    "TOKEN_HEADER",
    "TOKEN_PARAM",
    "AdmissionError",
    "ResumeError",
    "Session",
    "SessionForbidden",
    "SessionRegistry",
    "SessionsFull",
    "SocketsFull",
    "fit_to_file_limit",
    "storage_name",
]

logger = logging.getLogger(__name__)

RESUMED = "session_resumed"
"""``outputs.content`` of the notice a resumed socket gets after its replay."""

TOKEN_HEADER = "x-flowwright-session-token"
"""The handshake response header that gives an admitted socket its session's token."""

TOKEN_PARAM = "token"
"""The query parameter a socket joining an existing session presents the token in."""

FORBIDDEN = 4403
"""The close code of a socket refused a session it has no (or the wrong) token for."""

REPLACED = 1008
"""The close code of a session's oldest socket, closed to make room for a resume when the
session has ``max_sockets_per_session`` sockets (policy violation, RFC 6455)."""

CLEAN_CLOSE_CODES = frozenset({1000, 1001})
"""Close codes by which a client says goodbye: its session ends at once, with no grace."""

RESERVATION_SECONDS = 600.0
"""How long an id handed out by ``GET /api/session`` waits for its first socket."""

MAX_RESERVATIONS = 10_000
"""Ids handed out and not yet connected to, at most (the oldest are forgotten first)."""

FILE_RESERVE = 128
"""Open files kept for everything but the sessions' sockets (listening socket, logs, HTTP
requests, transcripts being written, a session's extra sockets) when fitting
``max_sessions`` to the process's open-file limit."""

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


class AdmissionError(Exception):
    """A socket may not join the session it asked for; the text says why."""


class SessionForbidden(AdmissionError):
    """The session exists and the socket did not present its token (close code 4403)."""


class SessionsFull(AdmissionError):
    """``max_sessions`` sessions are live: no new one now (HTTP 503 at the handshake)."""


class SocketsFull(AdmissionError):
    """The session has ``max_sockets_per_session`` sockets: no other now (HTTP 503 at the
    handshake). A resume is never refused for it: it replaces the session's oldest socket."""


class Session:
    """One session: its sockets, its transcript (``<storage>/session-<name>.jsonl``) and the
    last ``buffer_size`` frames it sent, for clients that reconnect.

    The transcript is opened for each line only, so that a session costs no open file but
    its sockets' (``max_sessions`` sessions fit in the process's open-file limit).
    """

    def __init__(
        self, session_id: str, transcript: Path, buffer_size: int, *, token: str | None = None
    ) -> None:
        self.id = session_id
        self.token = token or secrets.token_urlsafe(32)
        """The secret a socket presents to join this session once it exists."""
        self.sockets: set[WebSocket] = set()
        self.transcript_path = transcript
        self._transcript_failed = False
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
                f"cannot resume after message {shown(resume_after)}: it is not among the last "
                f"{self._recent.maxlen} messages of session {self.id!r}"
            )
        if resume_after is not None:
            logger.debug("= %s resumed after %s: %d replayed", self.id, resume_after, len(backlog))

    def record(self, direction: str, text: str) -> None:
        """Append one frame to the transcript and the debug log (``>`` sent, ``<`` received)."""
        line = {"t": datetime.now(UTC).isoformat(), "dir": direction, "frame": text}
        try:
            # Lone surrogates (from JSON escapes) cannot be UTF-8: written escaped, not lost.
            with self.transcript_path.open("a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            if not self._transcript_failed:  # once per session: the log must stay readable
                logger.error("! %s cannot write its transcript: %s", self.id, exc)
            self._transcript_failed = True
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %s", direction, self.id, text)

    def close(self) -> None:
        """Nothing to release (the transcript is not held open); kept for the callers that
        mark a session's end."""

    def _sent_after(self, message_id: str) -> list[str] | None:
        """The buffered frames sent after ``message_id``; None if the buffer lacks it."""
        frames = list(self._recent)
        for index, (sent_id, _) in enumerate(frames):
            if sent_id == message_id:
                return [text for _, text in frames[index + 1 :]]
        return None


async def _close(socket: WebSocket, code: int, reason: str) -> None:
    """Close a socket, which may have closed under us meanwhile."""
    with contextlib.suppress(*_SEND_ERRORS):
        await socket.close(code, reason)


async def _write(socket: WebSocket, text: str) -> bool:
    """Write one frame; False if the socket has closed."""
    try:
        await socket.send_text(text)
    except _SEND_ERRORS:
        return False
    return True


class SessionRegistry:
    """All live sessions. A session lives while a socket is attached to it and for
    ``grace_seconds`` after its last socket dropped, so that its client can reconnect and
    resume; if none does, ``on_end`` is called (it stops the session's flow and closes the
    session) and a later connection to that id starts a new session. A last socket closed
    cleanly (:data:`CLEAN_CLOSE_CODES`) ends its session at once.

    Admission (:meth:`admit`): the first socket of a session creates it and may learn its
    token; every later one — a second socket, a resume — must present that token. At most
    ``max_sessions`` sessions live at once, with at most ``max_sockets_per_session`` sockets
    each: a socket over that is refused, but a resume (whose old socket the server may not
    have seen drop yet) takes the place of the session's oldest socket instead."""

    def __init__(
        self,
        storage: Path,
        *,
        buffer_size: int,
        grace_seconds: float,
        on_end: Callable[[Session, str], None],
        max_sessions: int = 1000,
        max_sockets_per_session: int = 8,
    ) -> None:
        self.storage = storage
        self.buffer_size = buffer_size
        self.grace_seconds = grace_seconds
        self.max_sessions = max_sessions
        self.max_sockets_per_session = max_sockets_per_session
        self._on_end = on_end
        self._sessions: dict[str, Session] = {}
        self._expiries: dict[str, asyncio.TimerHandle] = {}
        self._members: dict[str, dict[WebSocket, None]] = {}
        """Sockets admitted to each session and not yet left (attached or about to be), in
        the order they were admitted."""
        self._closing: set[asyncio.Task[None]] = set()
        """Closes of sockets replaced by a resume, under way (a half-open peer can hold one
        for the close timeout: nobody waits for it)."""
        self._reserved: collections.OrderedDict[str, tuple[str, float]] = collections.OrderedDict()
        """Ids from :meth:`reserve` no socket has used yet: ``id -> (token, deadline)``."""

    def reserve(self) -> tuple[str, str]:
        """A fresh session id (uuid4) and the token its session will have: the first socket
        to that id needs no token (a browser cannot read the handshake's headers), any
        later one does."""
        now = asyncio.get_running_loop().time()
        while self._reserved and (
            len(self._reserved) >= MAX_RESERVATIONS or next(iter(self._reserved.values()))[1] < now
        ):
            self._reserved.popitem(last=False)
        session_id, token = str(uuid.uuid4()), secrets.token_urlsafe(32)
        self._reserved[session_id] = (token, now + RESERVATION_SECONDS)
        return session_id, token

    def admit(
        self, session_id: str, token: str | None, socket: WebSocket, *, resume: bool = False
    ) -> Session:
        """The session ``socket`` joins, created if it does not exist (or expired); a
        pending expiry is called off, since its client is back.

        Raises :class:`SessionForbidden` if the session exists (or its id was reserved) and
        ``token`` is missing or wrong, :class:`SessionsFull` if a new session would be one
        too many, :class:`SocketsFull` if the session has as many sockets as it may and this
        is no ``resume``. Nothing changes when it raises. A ``resume`` to a full session
        closes the session's oldest open socket (code :data:`REPLACED`) to make room.
        """
        session = self._sessions.get(session_id)
        if session is not None:
            _check_token(session_id, token, session.token)
            members = self._members.setdefault(session_id, {})
            if len(members) >= self.max_sockets_per_session:
                self._make_room(session, members, resume=resume)
            if (expiry := self._expiries.pop(session_id, None)) is not None:
                expiry.cancel()
                logger.debug("= %s reconnected within the grace period", session_id)
            members[socket] = None
            return session
        reserved = self._reserved.get(session_id)
        if reserved is not None and token is not None:
            _check_token(session_id, token, reserved[0])
        if len(self._sessions) >= self.max_sessions:
            raise SessionsFull(
                f"the server is at its limit of {self.max_sessions} live sessions "
                "(server.max_sessions): try again when one has ended"
            )
        self._reserved.pop(session_id, None)
        path = self.storage / f"session-{storage_name(session_id)}.jsonl"
        session = Session(
            session_id, path, self.buffer_size, token=reserved[0] if reserved else None
        )
        self._sessions[session_id] = session
        self._members[session_id] = {socket: None}
        logger.debug("= %s session opened (transcript %s)", session_id, path)
        return session

    def leave(self, session: Session, socket: WebSocket, *, clean: bool = False) -> None:
        """The handler of a socket :meth:`admit` let in is done. After the session's last
        socket the grace period starts (the flow goes on meanwhile, its messages go to the
        buffer) — or, if that socket was closed cleanly by its client (``clean``), the
        session ends now."""
        session.sockets.discard(socket)
        if self._sessions.get(session.id) is not session:
            return
        members = self._members.get(session.id, {})
        if socket not in members:  # replaced by a resume: its slot is already free
            return
        del members[socket]
        if members:
            return
        del self._members[session.id]
        if clean:
            if (expiry := self._expiries.pop(session.id, None)) is not None:
                expiry.cancel()
            self._end(session, "its client closed the connection")
            return
        if session.id in self._expiries:
            return
        logger.debug("= %s last socket left: %gs to reconnect", session.id, self.grace_seconds)
        self._expiries[session.id] = asyncio.get_running_loop().call_later(
            self.grace_seconds,
            self._expire,
            session,
        )

    def shutdown(self) -> None:
        """Server shutdown: call off every pending expiry and close every session."""
        for expiry in self._expiries.values():
            expiry.cancel()
        self._expiries.clear()
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
        self._members.clear()

    def _make_room(self, session: Session, members: dict[WebSocket, None], *, resume: bool) -> None:
        """A full session: refuse a new socket; for a resume, close the oldest open one."""
        limit = self.max_sockets_per_session
        oldest = next((s for s in members if s.application_state == WebSocketState.CONNECTED), None)
        if not resume or oldest is None:
            raise SocketsFull(
                f"session {session.id!r} is at its limit of {limit} open sockets "
                "(server.max_sockets_per_session): close one first"
            )
        del members[oldest]
        session.sockets.discard(oldest)
        logger.warning("! %s at %d sockets: its oldest replaced by a resume", session.id, limit)
        reason = f"replaced by a resumed connection (server.max_sockets_per_session: {limit})"
        closing = asyncio.get_running_loop().create_task(_close(oldest, REPLACED, reason))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _expire(self, session: Session) -> None:
        del self._expiries[session.id]
        self._end(session, f"no socket reconnected within {self.grace_seconds:g}s")

    def _end(self, session: Session, why: str) -> None:
        # Synchronous on purpose: a reconnect can never see the session half gone.
        del self._sessions[session.id]
        logger.debug("= %s session closed: %s", session.id, why)
        self._on_end(session, why)

    def __len__(self) -> int:
        return len(self._sessions)


def _check_token(session_id: str, given: str | None, token: str) -> None:
    if given is None:
        raise SessionForbidden(
            f"session {session_id!r} exists: join it with its token (?{TOKEN_PARAM}=)"
        )
    if not secrets.compare_digest(given.encode(), token.encode()):
        raise SessionForbidden(f"wrong token for session {session_id!r}")


def fit_to_file_limit(max_sessions: int) -> int:
    """``max_sessions``, lowered if need be so that that many sockets fit, with
    :data:`FILE_RESERVE` to spare, in the process's open-file limit (``RLIMIT_NOFILE``).

    The soft limit is first raised towards the hard one, as far as needed. A session over
    the limit is then refused with a clear answer instead of failing on ``Too many open
    files`` once accepted.
    """
    try:
        import resource  # POSIX only
    except ImportError:  # pragma: no cover - no such limit to fit
        return max_sessions
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_sessions + FILE_RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (OSError, ValueError):
            pass
    if soft == resource.RLIM_INFINITY:
        return max_sessions
    return max(1, min(max_sessions, soft - FILE_RESERVE))
