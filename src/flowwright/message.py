"""Message: one frame as a test sees it — numbered, timed, categorised, and read through the
dialect that says what it means.

The collector makes one per frame on its hot path, so a message holds the raw frame and its
parsed envelope, and works out its text and sender only when asked.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from flowwright.dialect import FLOWWRIGHT, Dialect, TaskEvent
from flowwright.errors import ProtocolError
from flowwright.protocol import Category, Envelope, parse, text_of

__all__ = ["PENDING", "Direction", "Message"]

Direction = Literal["received", "sent", "note"]
"""``received`` from the server, ``sent`` by the test, or a ``note`` of what the test or
flowwright did (a cut connection, a reconnect's gap, a proxy's fault)."""
M = TypeVar("M", bound=BaseModel)


class _Pending:
    """The envelope of a message not parsed yet."""


PENDING = _Pending()
"""What a message holds in place of its envelope until it is first asked for."""


@dataclass(slots=True)
class Message:
    """One frame as a test sees it: numbered, timed, categorised; read-only by convention.

    What the frame *means* (its sender, options, whether it ends the flow) is read through
    the collector's :class:`~flowwright.dialect.Dialect`, on first use. The collector stores
    only a frame's text and a few numbers; a message is built when asked for, and parses its
    frame only when a wait or a test reads more than its category and type. Two reads of one
    message are equal (``==``; they share a ``seq``), not necessarily the same object.
    """

    seq: int
    time: float  # seconds since the collector started
    direction: Direction
    category: Category
    type: str
    raw: str
    error: str | None = None  # why a malformed frame is malformed
    dialect: Dialect = field(default=FLOWWRIGHT, repr=False, compare=False)
    _parsed: Envelope | _Pending | None = field(default=None, repr=False, compare=False)
    _content: str | None = field(default=None, repr=False, compare=False)
    _sender: tuple[str | None, frozenset[str]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def envelope(self) -> Envelope | None:
        """The parsed frame (``None`` for a malformed frame or a note), parsed on first use:
        the collector keeps only the frame's text."""
        parsed = self._parsed
        if isinstance(parsed, _Pending):
            parsed = None
            if self.error is None and self.direction != "note":
                found = parse(self.raw)
                parsed = found if isinstance(found, Envelope) else None
            self._parsed = parsed
        return parsed

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
        if self.dialect.ends_flow is None or self.direction != "received":
            return False
        envelope = self.envelope
        return envelope is not None and self.dialect.is_end(envelope)

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

    @property
    def sender_names(self) -> frozenset[str]:
        """Every name the sender answers to, lower case (what :meth:`from_agent` looks in)."""
        return self._who()[1]

    def from_agent(self, name: str) -> bool:
        """True when ``name`` is one of the sender's names: role, agent name, agent id, or
        the role word of its id or description; case-insensitive (``judge`` finds ``JUDGE``)."""
        return name.lower() in self._who()[1]

    def payload(self, model: builtins.type[M]) -> M:
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
