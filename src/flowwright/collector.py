"""MessageCollector: the append-only log of every frame a test saw, categorised and numbered.

Every source (the client's socket, a browser page, an MCP session, a proxy) appends here, and
the waiter listens here, so nothing is awaited that was not recorded and nothing is lost: a
bad frame is recorded as ``malformed`` rather than raised.

Long flows are the point, so the log is compact and its cost does not grow with it: it keeps
each frame's text and a few numbers in flat arrays (no per-message objects for the garbage
collector to walk), indexes frame numbers by category, and builds a :class:`Message` only when
one is asked for. Appending costs the same at the millionth message as at the first; a query
by category, and a wait for one, cost what they find, not what the log holds. A query by agent
does too: naming a sender means parsing the frame, so that index is built by the first such
query and brought up to date by each later one (each frame parsed for it once, ever).
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import re
import tempfile
import time
import weakref
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from pydantic_core import from_json

from flowwright.dialect import FLOWWRIGHT, Dialect
from flowwright.match import Match
from flowwright.message import PENDING, Direction, Message
from flowwright.protocol import Category, Envelope, Malformed, parse

__all__ = ["MessageCollector"]

logger = logging.getLogger("flowwright.collector")

Listener = Callable[[Message], None]

_CATEGORIES = tuple(Category)
_CODE = MappingProxyType({category: code for code, category in enumerate(_CATEGORIES)})
_DIRECTIONS: tuple[Direction, ...] = ("received", "sent", "note")


class MessageCollector:
    """Records every frame in arrival order and tells listeners (the waiter) about each."""

    def __init__(
        self,
        *,
        dialect: Dialect = FLOWWRIGHT,
        clock: Callable[[], float] = time.monotonic,
        keep: int | None = None,
        spill: str | Path | None = None,
    ) -> None:
        """``keep``: hold at most this many frames' text in memory, writing older ones to
        ``spill`` (a JSONL file, the transcript format; a temporary file if not given) and
        reading them back from there when asked for — for very long runs."""
        if keep is not None and keep < 1:
            raise ValueError(f"keep must be a positive number of messages, not {keep!r}")
        self.dialect = dialect
        self._clock = clock
        self._start = clock()
        # One entry per message, at index seq - 1: its text, time, category, direction, type.
        self._raw: list[str | None] = []  # None: spilled to disk (see _offsets)
        self._times = array("d")
        self._categories = bytearray()
        self._directions = bytearray()
        self._types = array("I")
        self._type_names: list[str] = []
        self._type_codes: dict[str, int] = {}
        self._errors: dict[int, str] = {}  # seq -> why it is malformed (rare)
        self._built: dict[int, Envelope] = {}  # seq -> an envelope a source built (MCP)
        self._index: dict[Category, array[int]] = {}  # category -> its seqs, ascending
        self._senders: dict[str, array[int]] = {}  # a sender's name (lower case) -> its seqs
        self._senders_upto = 0  # the newest seq _senders covers: it is brought up to date lazily
        self._latest: dict[Category, Message] = {}  # kept built: a reply reads its prompt
        self._listeners: list[Listener] = []
        self._keep = keep
        self._spill_path = Path(spill) if spill is not None else None
        self._batch = max(1, (keep or 0) // 10)  # spilled this many at a time
        self._offsets = array("q")  # seq - 1 -> where its line starts in the spill file
        self._held_from = 1  # the oldest seq whose text is still in memory
        self._remove_spill: weakref.finalize[[Path], MessageCollector] | None = None
        self._reader: BinaryIO | None = None  # the spill file, kept open while reading back
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
        """Categorise, number and record one frame; never raises on a bad frame.

        ``category`` overrides the dialect's category for a received frame whose meaning its
        type alone does not carry: a source that speaks another protocol (MCP's JSON-RPC)
        wraps each message as an envelope of its own type (``mcp_*``) and says what it means,
        so waits and diagnostics treat it like any other message.
        """
        text = frame if isinstance(frame, str) else _as_text(frame)
        try:
            kind, error = _classify(frame)
        except Exception as exc:  # nothing a server sends may stop the recording
            kind, error = None, f"could not be recorded: {exc!r}"
        if kind is None:
            return self._store(text, direction, Category.MALFORMED, "", error=error)
        return self._store(text, direction, category, kind)

    def append_parsed(
        self,
        envelope: Envelope,
        raw: str,
        *,
        direction: Direction = "received",
        category: Category | None = None,
        error: str | None = None,
    ) -> Message:
        """Record a message a source has already parsed (or built: MCP's), with the text it
        stands for, so nothing is serialised only to be parsed back. ``error``: why a
        ``malformed`` one is (what a failure names)."""
        return self._store(raw, direction, category, envelope.type, error=error, envelope=envelope)

    def note(self, kind: str, text: str) -> Message:
        """Record what the test or flowwright did (``kind`` e.g. ``"cut"``), in sequence with
        the frames, so a transcript reads "the test cut the connection" where it happened.
        Waits never match a note unless they ask for ``category="note"``."""
        return self._store(text, "note", Category.NOTE, kind)

    def _store(
        self,
        raw: str,
        direction: Direction,
        category: Category | None,
        type: str,
        *,
        error: str | None = None,
        envelope: Envelope | None = None,
    ) -> Message:
        if direction == "sent":
            category = Category.SENT
        elif direction == "note":
            category = Category.NOTE
        elif category is None:
            category = self.dialect.types.get(type, Category.OTHER)
        seq = len(self._raw) + 1
        at = self._clock() - self._start
        code = self._type_codes.get(type)
        if code is None:
            code = self._type_codes[type] = len(self._type_names)
            self._type_names.append(type)
        self._raw.append(raw)
        self._times.append(at)
        self._categories.append(_CODE[category])
        self._directions.append(_DIRECTIONS.index(direction))
        self._types.append(code)
        index = self._index.get(category)
        if index is None:
            index = self._index[category] = array("I")
        index.append(seq)
        if error is not None:
            self._errors[seq] = error
        if envelope is not None:
            self._built[seq] = envelope
        message = Message(
            seq, at, direction, category, type, raw, error, self.dialect, envelope or PENDING
        )
        self._latest[category] = message
        if direction == "sent":
            self.last_sent_seq = seq
        if self._keep is not None and seq - self._held_from >= self._keep + self._batch:
            self._spill_oldest()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", message.summary())
        for listener in tuple(self._listeners):
            try:
                listener(message)
            except Exception:  # a broken listener must not lose the message for others
                logger.exception("! listener %r failed on message #%d", listener, seq)
        return message

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(message)`` for every message appended from now on."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # ------------------------------------------------------------------ reading

    def _message(self, seq: int) -> Message:
        """Build message ``seq`` from the stored record (valid ``seq`` only)."""
        i = seq - 1
        raw = self._raw[i]
        return Message(
            seq,
            self._times[i],
            _DIRECTIONS[self._directions[i]],
            _CATEGORIES[self._categories[i]],
            self._type_names[self._types[i]],
            raw if raw is not None else self._read_spilled(seq),
            self._errors.get(seq),
            self.dialect,
            self._built.get(seq, PENDING),
        )

    # ------------------------------------------------------------------ spilling

    @property
    def keep(self) -> int | None:
        """How many messages' text it holds in memory at most (``None``: all of them)."""
        return self._keep

    @property
    def spill_path(self) -> Path | None:
        """The file older messages went to (``None`` until one did)."""
        return self._spill_path if self._offsets else None

    def _spill_oldest(self) -> None:
        """Write the oldest messages held in memory to the spill file (a batch at a time, the
        file opened only for it), and let their text go."""
        if self._spill_path is None:
            fd, name = tempfile.mkstemp(prefix="flowwright-transcript-", suffix=".jsonl")
            os.close(fd)
            self._spill_path = Path(name)
            # A file of its own making goes with the collector (or at exit), never left behind.
            self._remove_spill = weakref.finalize(self, _unlink, self._spill_path)
        assert self._keep is not None
        last = len(self._raw) - self._keep  # the newest seq to spill now
        if self._remove_spill is not None and not self._remove_spill.alive:
            # Closed (a client left open past its test): appending would make the deleted
            # file again, for nobody to delete. The text goes; reading it says why.
            for seq in range(self._held_from, last + 1):
                self._offsets.append(-1)
                self._raw[seq - 1] = None
                self._built.pop(seq, None)
            self._held_from = last + 1
            return
        with self._spill_path.open("ab") as spill:
            for seq in range(self._held_from, last + 1):
                line = json.dumps(self._message(seq).to_dict(), ensure_ascii=False) + "\n"
                self._offsets.append(spill.tell())  # spilled in order: index seq - 1
                spill.write(line.encode())
                self._raw[seq - 1] = None
                self._built.pop(seq, None)
        self._held_from = last + 1

    def close(self) -> None:
        """Delete the temporary spill file this collector made (a ``spill=`` file given to it
        is the caller's, and kept). The pytest plugin closes each test's collectors once its
        reports are written; spilled messages cannot be read after this."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._remove_spill is not None:
            self._remove_spill()

    def _read_spilled(self, seq: int) -> str:
        assert self._spill_path is not None
        if self._remove_spill is not None and not self._remove_spill.alive:
            raise ValueError(
                f"message #{seq} was spilled to a temporary file, deleted when the collector "
                "was closed (the pytest plugin closes a test's collectors after its reports)"
            )
        if self._reader is None:  # opened once: reading a transcript back is one seek a line
            self._reader = self._spill_path.open("rb")
            weakref.finalize(self, self._reader.close)  # closed with the collector at the latest
        self._reader.seek(self._offsets[seq - 1])  # also drops what it buffered before a spill
        data: dict[str, Any] = json.loads(self._reader.readline())
        return str(data["raw"])

    def latest(self, category: Category | str) -> Message | None:
        """The newest message of ``category`` (e.g. the prompt a reply answers), in O(1)."""
        return self._latest.get(Category(category))

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self) -> Iterator[Message]:
        return (self._message(seq) for seq in range(1, len(self._raw) + 1))

    def __getitem__(self, seq: int) -> Message:
        """The message numbered ``seq`` (numbers start at 1)."""
        if not 1 <= seq <= len(self._raw):
            raise IndexError(f"no message #{seq}; the collector holds #1..#{len(self._raw)}")
        return self._message(seq)

    @property
    def last_seq(self) -> int:
        """The number of the newest message, 0 when there is none."""
        return len(self._raw)

    @property
    def elapsed(self) -> float:
        """Seconds since the collector started (the clock of every ``Message.time``)."""
        return self._clock() - self._start

    def since(self, seq: int) -> list[Message]:
        """Messages numbered after ``seq``."""
        return [self._message(n) for n in range(max(seq, 0) + 1, len(self._raw) + 1)]

    def candidates(
        self,
        since: int,
        categories: Iterable[Category | str] | None,
        *,
        agent: str | None = None,
    ) -> Iterator[Message]:
        """Messages after ``since`` of ``categories`` (``None``: any) and, if ``agent`` is
        given, that it may have sent — what a wait or a query must look at, in O(what it
        finds). A superset: the caller's matcher still decides."""
        if agent is not None:
            codes = None if categories is None else {_CODE[Category(c)] for c in categories}
            seqs = self._sent_by(agent)
            for seq in seqs[bisect_right(seqs, since) :]:
                if codes is None or self._categories[seq - 1] in codes:
                    yield self._message(seq)
            return
        if categories is None:
            yield from (self._message(n) for n in range(max(since, 0) + 1, len(self._raw) + 1))
            return
        lists = [self._index.get(Category(category), array("I")) for category in categories]
        tails = [values[bisect_right(values, since) :] for values in lists]
        for seq in heapq.merge(*tails):
            yield self._message(seq)

    def _sent_by(self, agent: str) -> array[int]:
        """The seqs of the messages ``agent`` is one of the senders' names of, ascending;
        indexes the messages that arrived since the last call first."""
        for seq in range(self._senders_upto + 1, len(self._raw) + 1):
            if self._directions[seq - 1] != 0:  # only a received message has a sender
                continue
            for name in self._message(seq).sender_names:
                seqs = self._senders.get(name)
                if seqs is None:
                    seqs = self._senders[name] = array("I")
                seqs.append(seq)
        self._senders_upto = len(self._raw)
        return self._senders.get(agent.lower(), array("I"))

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
        found = self.candidates(since, match.categories, agent=agent)
        return [message for message in found if match(message)]

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
        return Counter({str(c): len(seqs) for c, seqs in self._index.items() if len(seqs)})

    def format_tail(self, n: int = 10, *, since: int = 0) -> str:
        """The last ``n`` messages (after ``since``), one summary line each, for diagnostics."""
        total = len(self._raw) - max(since, 0)
        if total <= 0:
            return "  (no messages)"
        first = len(self._raw) - min(n, total) + 1
        head = f"  … {total - n} earlier messages not shown\n" if total > n else ""
        shown = (self._message(seq) for seq in range(first, len(self._raw) + 1))
        return head + "\n".join(f"  {m.summary()}" for m in shown)

    # ------------------------------------------------------------------ export

    def to_jsonl(self, path: str | Path | None = None) -> str:
        """The whole transcript as JSON lines; also written to ``path`` when given."""
        text = "".join(json.dumps(m.to_dict(), ensure_ascii=False) + "\n" for m in self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def _classify(frame: str | bytes) -> tuple[str | None, str | None]:
    """A frame's ``type`` (``None`` if it is malformed) and why it is malformed.

    The common case in one fast pass: a JSON object with a string ``type`` is a message,
    whatever else it holds (the tolerant parse in ``protocol.parse`` promises as much), so
    nothing more is validated until a reader asks for more than the type.
    """
    try:
        data = from_json(frame)
    except ValueError:  # not JSON for this parser (or deeper than it goes): the slow path
        parsed = parse(frame)
        if isinstance(parsed, Malformed):
            return None, parsed.reason
        return parsed.type, None
    if isinstance(data, dict):
        kind = data.get("type")
        if isinstance(kind, str):
            return kind, None
        return None, "no string 'type' field"
    return None, f"not a JSON object but {type(data).__name__}"


def _as_text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else frame.decode(errors="replace")
