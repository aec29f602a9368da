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
from pathlib import Path

from flowwright.dialect import FLOWWRIGHT, Dialect
from flowwright.match import Match
from flowwright.message import Direction, Message
from flowwright.protocol import Category, Envelope, Malformed, parse

__all__ = ["MessageCollector"]

logger = logging.getLogger("flowwright.collector")

Listener = Callable[[Message], None]


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
        except Exception as exc:  # nothing a server sends may stop the recording
            parsed = Malformed(_as_text(frame), f"could not be recorded: {exc!r}")
        if isinstance(parsed, Malformed):
            return self._make(None, _as_text(frame), direction, Category.MALFORMED, parsed.reason)
        return self._make(parsed, _as_text(frame), direction, category)

    def append_parsed(
        self,
        envelope: Envelope,
        raw: str,
        *,
        direction: Direction = "received",
        category: Category | None = None,
    ) -> Message:
        """Record a message a source has already parsed (or built: MCP's), with the text it
        stands for, so nothing is serialised only to be parsed back."""
        return self._make(envelope, raw, direction, category)

    def _make(
        self,
        envelope: Envelope | None,
        raw: str,
        direction: Direction,
        category: Category | None,
        error: str | None = None,
    ) -> Message:
        if direction == "sent":
            category = Category.SENT
        elif direction == "note":
            category = Category.NOTE
        elif category is None:
            category = self.dialect.categorise(envelope) if envelope else Category.MALFORMED
        return self._record(
            Message(
                seq=len(self._messages) + 1,
                time=self._clock() - self._start,
                direction=direction,
                category=category,
                type=envelope.type if envelope is not None else "",
                raw=raw,
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
        """Messages after ``since`` matching every criterion given, as a :class:`Match`
        (``pattern`` searches the content; ``direction=None``: either way)."""
        match = Match(
            category=category,
            type=type,
            agent=agent,
            pattern=pattern,
            direction="any" if direction is None else direction,
        )
        return [message for message in self.since(since) if match(message)]

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
