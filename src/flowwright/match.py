"""Match: the one predicate language for messages — what a wait awaits and what a query finds.

Waits (``wait_for(category="prompt", pattern="proceed")``) and queries
(``collector.filter(category="result", agent="researcher")``) say the same things the same
way; a :class:`Match` also describes itself, so a failed wait can say what it awaited, and
names its near misses, so it can say what almost matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from flowwright.message import Direction, Message
from flowwright.protocol import Category

__all__ = ["Match", "Matcher", "as_regex"]


def as_regex(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """A pattern as every ``pattern=`` in flowwright reads it: text is a case-insensitive
    regex (what a person means by "mentions proceed"); a compiled one keeps its own flags."""
    return re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern


class Matcher(Protocol):
    """Anything that says yes or no to a message; ``str(matcher)`` should describe it.

    A matcher may also carry the two hints :class:`Match` has, read by the waiter when
    present: ``categories`` (a ``frozenset`` of the categories it can accept, so a wait looks
    at no other message) and ``near`` (a ``Message -> bool`` naming the near misses a failed
    wait shows in full). Optional, so any plain function is a matcher.
    """

    def __call__(self, message: Message, /) -> bool: ...


@dataclass(frozen=True)
class Match:
    """A declarative matcher: every given criterion must hold. Describes itself for errors."""

    category: Category | str | None = None
    type: str | None = None
    agent: str | None = None
    pattern: str | re.Pattern[str] | None = None
    where: Callable[[Message], bool] | None = None
    direction: Direction | Literal["any"] | None = None
    """Which way the message went; ``None``: received, unless ``category`` is ``sent`` or
    ``note`` (messages that only go the other way)."""

    def __post_init__(self) -> None:
        if isinstance(self.pattern, str):
            object.__setattr__(self, "pattern", as_regex(self.pattern))

    def __call__(self, message: Message, /) -> bool:
        return (
            (self.category is None or message.category == self.category)
            and self._direction_holds(message)
            and (self.type is None or message.type == self.type)
            and (self.agent is None or message.from_agent(self.agent))
            and (
                not isinstance(self.pattern, re.Pattern)
                or bool(self.pattern.search(message.content))
            )
            and (self.where is None or self.where(message))
        )

    @property
    def categories(self) -> frozenset[Category] | None:
        """The categories a match can be of (``None``: any), so a wait or a query looks
        only at those."""
        return None if self.category is None else frozenset({Category(self.category)})

    def _direction_holds(self, message: Message) -> bool:
        if self.direction is None:
            return message.direction == "received" or self.category in (
                Category.SENT,
                Category.NOTE,
            )
        return self.direction == "any" or message.direction == self.direction

    def near(self, message: Message, /) -> bool:
        """A near miss: of the awaited category, type and agent, but not matching the rest
        (the pattern, the predicate) — what a failed wait shows in full."""
        return (
            self.category is not None
            and message.category == self.category
            and (self.type is None or message.type == self.type)
            and (self.agent is None or message.from_agent(self.agent))
            and not self(message)
        )

    def __str__(self) -> str:
        parts = [str(self.category) if self.category else "a message"]
        if self.type:
            parts.append(f"of type {self.type!r}")
        if self.agent:
            parts.append(f"from {self.agent!r}")
        if isinstance(self.pattern, re.Pattern):
            parts.append(f"matching /{self.pattern.pattern}/")
        if self.where is not None:
            parts.append(f"where {getattr(self.where, '__name__', repr(self.where))}")
        return " ".join(parts)
