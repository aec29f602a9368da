"""MessageCollector: the append-only log of every frame a test saw, categorised and numbered.

Every source (the client's socket, later a browser page or an MCP session) appends here, and
the waiter listens here, so nothing is awaited that was not recorded and nothing is lost: a
bad frame is recorded as ``malformed`` rather than raised.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from flowwright.dialect import FLOWWRIGHT, Dialect, TaskEvent
from flowwright.errors import ProtocolError
from flowwright.protocol import Category, Envelope, Malformed, parse, text_of

__all__ = ["Direction", "Message", "MessageCollector"]

logger = logging.getLogger("flowwright.collector")

Direction = Literal["received", "sent", "note"]
"""``received`` from the server, ``sent`` by the test, or a ``note`` of what the test or
flowwright did (a cut connection, a reconnect's gap, a proxy's fault)."""
M = TypeVar("M", bound=BaseModel)
Listener = Callable[["Message"], None]


@dataclass(slots=True)
class Message:
    """One frame as a test sees it: numbered, timed, categorised; read-only by convention.

    What the frame *means* (its sender, options, whether it ends the flow) is read through
    the collector's :class:`~flowwright.dialect.Dialect`, on first use: the collector's hot
    path builds one per frame, and most are never read.
    """

    seq: int
    time: float  # seconds since the collector started
    direction: Direction
    category: Category
    type: str
    raw: str
    envelope: Envelope | None = None
    error: str | None = None  # why a malformed frame is malformed
    dialect: Dialect = field(default=FLOWWRIGHT, repr=False, compare=False)
    _content: str | None = field(default=None, repr=False, compare=False)
    _sender: tuple[str | None, frozenset[str]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def content(self) -> str:
        """The human-readable text, whatever the payload's shape (see ``protocol.text_of``)."""
        if self._content is None:
            self._content = text_of(self.envelope) if self.envelope is not None else self.raw
        return self._content

    def _who(self) -> tuple[str | None, frozenset[str]]:
        if self._sender is None:
            self._sender = (
                self.dialect.sender(self.envelope)
                if self.envelope is not None and self.direction == "received"
                else (None, frozenset())
            )
        return self._sender

    @property
    def agent(self) -> str | None:
        """The sender's agent name (else id, else role); ``None`` when the frame names none."""
        info = self.envelope.agent_info if self.envelope else None
        if info is not None and (info.agent_name or info.agent_id):
            return info.agent_name or info.agent_id
        return self._who()[0]

    @property
    def role(self) -> str | None:
        """The sender's role as the dialect reads it (``agent_info.role``, or the role word of
        its id or description), if the frame names a sender."""
        return self._who()[0]

    @property
    def notes(self) -> tuple[str, ...]:
        """What tolerant parsing left out of this frame (see ``protocol.parse``)."""
        return self.envelope.notes if self.envelope is not None else ()

    @property
    def outputs(self) -> Any:
        """The envelope's payload as received (a dict, a string, ...); ``None`` if malformed."""
        return self.envelope.outputs if self.envelope else None

    @property
    def options(self) -> list[str] | None:
        """A prompt's options (``["confirm", "reject"]``); ``None`` means a free-text prompt."""
        return self.dialect.options(self.envelope) if self.envelope is not None else None

    @property
    def is_flow_completed(self) -> bool:
        """Whether this message ends the flow (the dialect says what does: ``flow_completed``)."""
        return (
            self.envelope is not None
            and self.direction == "received"
            and self.dialect.is_end(self.envelope)
        )

    @property
    def is_fatal(self) -> bool:
        """Whether this is an error the dialect says ends the flow (else a notice, if any)."""
        return (
            self.category is Category.ERROR
            and self.envelope is not None
            and self.dialect.is_fatal(self.envelope)
        )

    @property
    def task(self) -> TaskEvent | None:
        """The agent task this progress update starts or completes, if any."""
        if self.envelope is None or self.direction != "received":
            return None
        return self.dialect.task(self.envelope)

    def from_agent(self, name: str) -> bool:
        """True when ``name`` is one of the sender's names: role, agent name, agent id, or
        the role word of its id or description; case-insensitive (``judge`` finds ``JUDGE``)."""
        return name.lower() in self._who()[1]

    def payload(self, model: type[M]) -> M:
        """The ``outputs`` validated as ``model`` (e.g. ``ResearchResult``); raises on mismatch."""
        try:
            return model.model_validate(self.outputs)
        except ValidationError as exc:
            raise ProtocolError(
                f"message #{self.seq} ({self.type}) is not a {model.__name__}: {exc}"
            ) from None

    def summary(self, width: int = 120) -> str:
        """One line for diagnostics: ``#7 +0.120s result research_result [researcher] ...``."""
        sender = f" [{self.role}]" if self.role else ""
        arrow = {"sent": ">", "note": "!"}.get(self.direction, " ")
        if self.category is Category.MALFORMED:
            text = f"{self.error}: {self.raw}"
        else:
            # A sent frame reads as what was sent, unless its source wrote it a text (MCP).
            text = (self.content or self.raw) if self.direction == "sent" else self.content
        line = f"{arrow}#{self.seq} +{self.time:.3f}s {self.category} {self.type}{sender} "
        text = " ".join((text or "").split())
        room = max(width - len(line), 20)
        return line + (text if len(text) <= room else text[: room - 1] + "…")

    def in_full(self, limit: int = 2000) -> str:
        """``#5 +0.045s ui_message [host]: the whole text`` on one line (whitespace folded; cut
        only past ``limit``): how failures show a message whose text is the point."""
        text = " ".join(self.content.split())
        text = text if len(text) <= limit else text[: limit - 1] + "…"
        sender = f" [{self.role}]" if self.role else ""
        return f"#{self.seq} +{self.time:.3f}s {self.type}{sender}: {text}"

    def to_dict(self) -> dict[str, Any]:
        """The transcript form of this message (one JSONL line)."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "time": round(self.time, 6),
            "direction": self.direction,
            "category": str(self.category),
            "type": self.type,
            "agent": self.agent,
            "role": self.role,
            "content": self.content,
        }
        if self.error:
            data["error"] = self.error
        if self.notes:
            data["notes"] = list(self.notes)
        data["raw"] = self.raw
        return data


class MessageCollector:
    """Records every frame in arrival order and tells listeners (the waiter) about each."""

    def __init__(
        self, *, dialect: Dialect = FLOWWRIGHT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.dialect = dialect
        self._clock = clock
        self._start = clock()
        self._messages: list[Message] = []
        self._listeners: list[Listener] = []
        self._latest: dict[Category, Message] = {}
        self.last_sent_seq = 0
        """The number of the newest frame the test sent (0 before any): its last action."""

    # ------------------------------------------------------------------ recording

    def append(
        self,
        frame: str | bytes,
        *,
        direction: Direction = "received",
        category: Category | None = None,
    ) -> Message:
        """Parse, categorise, number and record one frame; never raises on a bad frame.

        ``category`` overrides the dialect's category for a received frame whose meaning its
        type alone does not carry: a source that speaks another protocol (MCP's JSON-RPC)
        wraps each message as an envelope of its own type (``mcp_*``) and says what it means,
        so waits and diagnostics treat it like any other message.
        """
        try:
            parsed = parse(frame)
            if isinstance(parsed, Malformed):
                kind, envelope, error = Category.MALFORMED, None, parsed.reason
            else:
                kind, envelope, error = category or self.dialect.categorise(parsed), parsed, None
        except Exception as exc:  # nothing a server sends may stop the recording
            kind, envelope, error = Category.MALFORMED, None, f"could not be recorded: {exc!r}"
        if direction == "sent":
            kind = Category.SENT
        elif direction == "note":
            kind = Category.NOTE
        return self._record(
            Message(
                seq=len(self._messages) + 1,
                time=self._clock() - self._start,
                direction=direction,
                category=kind,
                type=envelope.type if envelope is not None else "",
                raw=_as_text(frame),
                envelope=envelope,
                error=error,
                dialect=self.dialect,
            )
        )

    def note(self, kind: str, text: str) -> Message:
        """Record what the test or flowwright did (``kind`` e.g. ``"cut"``), in sequence with
        the frames, so a transcript reads "the test cut the connection" where it happened.
        Waits never match a note unless they ask for ``category="note"``."""
        return self._record(
            Message(
                seq=len(self._messages) + 1,
                time=self._clock() - self._start,
                direction="note",
                category=Category.NOTE,
                type=kind,
                raw=text,
                dialect=self.dialect,
            )
        )

    def _record(self, message: Message) -> Message:
        self._messages.append(message)
        self._latest[message.category] = message
        if message.direction == "sent":
            self.last_sent_seq = message.seq
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", message.summary())
        for listener in tuple(self._listeners):
            try:
                listener(message)
            except Exception:  # a broken listener must not lose the message for others
                logger.exception("! listener %r failed on message #%d", listener, message.seq)
        return message

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(message)`` for every message appended from now on."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def latest(self, category: Category | str) -> Message | None:
        """The newest message of ``category`` (e.g. the prompt a reply answers), in O(1)."""
        return self._latest.get(Category(category))

    # ------------------------------------------------------------------ queries

    def __len__(self) -> int:
        return len(self._messages)

    def __iter__(self) -> Iterator[Message]:
        return iter(tuple(self._messages))

    def __getitem__(self, seq: int) -> Message:
        """The message numbered ``seq`` (numbers start at 1)."""
        if not 1 <= seq <= len(self._messages):
            raise IndexError(f"no message #{seq}; the collector holds #1..#{len(self._messages)}")
        return self._messages[seq - 1]

    @property
    def last_seq(self) -> int:
        """The number of the newest message, 0 when there is none."""
        return len(self._messages)

    @property
    def elapsed(self) -> float:
        """Seconds since the collector started (the clock of every ``Message.time``)."""
        return self._clock() - self._start

    def since(self, seq: int) -> list[Message]:
        """Messages numbered after ``seq``."""
        return self._messages[max(seq, 0) :]

    def filter(
        self,
        *,
        category: Category | str | None = None,
        type: str | None = None,
        agent: str | None = None,
        pattern: str | re.Pattern[str] | None = None,
        since: int = 0,
        direction: Direction | None = "received",
    ) -> list[Message]:
        """Messages matching every criterion given (``pattern`` searches the content)."""
        regex = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
        return [
            m
            for m in self.since(since)
            if (category is None or m.category == category)
            and (type is None or m.type == type)
            and (agent is None or m.from_agent(agent))
            and (regex is None or regex.search(m.content))
            and (direction is None or m.direction == direction)
        ]

    def by_category(self, category: Category | str) -> list[Message]:
        """Every message of ``category``, received or sent."""
        return self.filter(category=category, direction=None)

    def by_agent(self, agent: str) -> list[Message]:
        """Every message from ``agent`` (role, name or id)."""
        return self.filter(agent=agent)

    def matching(self, pattern: str | re.Pattern[str]) -> list[Message]:
        """Every received message whose text matches ``pattern``."""
        return self.filter(pattern=pattern)

    def counts(self) -> Counter[str]:
        """How many messages of each category."""
        return Counter(str(m.category) for m in self._messages)

    def format_tail(self, n: int = 10, *, since: int = 0) -> str:
        """The last ``n`` messages (after ``since``), one summary line each, for diagnostics."""
        window = self.since(since)
        if not window:
            return "  (no messages)"
        shown = window[-n:]
        head = (
            f"  … {len(window) - len(shown)} earlier messages not shown\n"
            if len(window) > n
            else ""
        )
        return head + "\n".join(f"  {m.summary()}" for m in shown)

    # ------------------------------------------------------------------ export

    def to_jsonl(self, path: str | Path | None = None) -> str:
        """The whole transcript as JSON lines; also written to ``path`` when given."""
        text = "".join(json.dumps(m.to_dict(), ensure_ascii=False) + "\n" for m in self._messages)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _as_text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else frame.decode(errors="replace")
