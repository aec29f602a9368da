"""Faults a :class:`~flowwright.proxy.FlowProxy` injects: what to do to which frames.

Pure decisions, no I/O: a fault matches frames on what they *mean* (the dialect's category,
type, sender, text, or any predicate on the :class:`~flowwright.collector.Message`), takes a
bounded number of them (``skip`` first, then ``count``), and changes what happens to each in
an :class:`Outcome` the proxy then carries out. Several faults compose: each one that takes a
frame changes its outcome in turn (a frame delayed *and* duplicated arrives twice, late).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal, TypeVar

from flowwright.match import Match
from flowwright.message import Message
from flowwright.protocol import Category

__all__ = [
    "Corrupt",
    "CorruptMode",
    "Cut",
    "Delay",
    "Drop",
    "Duplicate",
    "Fault",
    "FrameFault",
    "Outcome",
    "Refuse",
    "Reorder",
    "Side",
    "Throttle",
    "corrupt",
    "cut",
    "delay",
    "drop",
    "duplicate",
    "refuse",
    "reorder",
    "throttle",
]

Side = Literal["server", "client", "both"]
"""Whose frames a fault acts on: the server's (the default), the client's, or both."""
CorruptMode = Literal["not_json", "truncate", "wrong_type"]
"""How :func:`corrupt` spoils a frame (see there)."""
Frame = str | bytes


@dataclass
class Outcome:
    """What becomes of one frame: the faults that take it change these fields in turn."""

    data: Frame
    copies: int = 1
    """How many times it is sent (0: dropped)."""
    delay: float = 0.0
    """Seconds it is held before sending (the frames behind it wait too, as on TCP)."""
    hold: int = 0
    """Sent only after this many later frames of its direction went ahead (reordered)."""
    transfer: float = 0.0
    """Seconds its bytes take on a throttled link (they also hold back the frames behind)."""
    cut: Literal["before", "after"] | None = None
    """Cut the connection instead of sending it (``before``), or right after (``after``)."""
    actions: list[str] = field(default_factory=list)
    """What the faults did, one phrase each, for the transcript."""


@dataclass(eq=False)
class Fault:
    """Anything a proxy can be told to do; see :class:`FrameFault` and :class:`Refuse`."""

    name: ClassVar[str] = "fault"
    hits: list[Any] = field(default_factory=list, init=False, repr=False)
    """What the fault took (frames or request paths; each kind narrows the type)."""
    _label: str | None = field(default=None, init=False, repr=False)

    def __str__(self) -> str:
        if self._label:
            return self._label
        shown = {
            key: value
            for key, value in vars(self).items()
            if not key.startswith("_") and key != "hits" and value != _DEFAULTS.get(key)
        }
        arguments = ", ".join(f"{key}={_show(value)}" for key, value in shown.items())
        return f"{self.name}({arguments})"


_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "category": None,
        "type": None,
        "agent": None,
        "pattern": None,
        "where": None,
        "side": "server",
        "path": None,
        "count": None,
        "skip": 0,
        "jitter": 0.0,
        "times": 1,
        "after": 1,
        "mode": "not_json",
        "using": None,
        "when": "before",
        "seconds": None,
        "status": 503,
        "bytes_per_second": None,
        "frames_per_second": None,
    }
)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(str(value))  # a Category as the string it is
    if isinstance(value, re.Pattern):
        return repr(value.pattern)
    if callable(value):
        return getattr(value, "__name__", "predicate")
    return repr(value)


@dataclass(eq=False)
class FrameFault(Fault):
    """A fault on frames: which frames it takes, and how many.

    ``category``, ``type``, ``agent`` (role, name or id), ``pattern`` (searched in the
    message's text, as a wait's ``pattern`` is: ``Message.content``, not the raw JSON) and
    ``where`` (any ``Message -> bool``) must all hold for a frame to match; ``side`` says
    whose frames are considered, ``path`` (searched in the path and query the client opened,
    e.g. its session id) on which connections. Of the matching frames, the first ``skip``
    pass untouched, then ``count`` are taken (``None``: every one). A client's frames have no
    category (they are ``sent``): match them on ``type``, ``pattern`` or ``where``.
    """

    category: Category | str | None = None
    type: str | None = None
    agent: str | None = None
    pattern: str | re.Pattern[str] | None = None
    where: Callable[[Message], bool] | None = None
    side: Side = "server"
    path: str | None = None
    count: int | None = None
    skip: int = 0
    hits: list[Message] = field(default_factory=list, init=False, repr=False)
    """The frames this fault took, as the proxy recorded them."""
    _seen: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.side not in ("server", "client", "both"):
            raise ValueError(f"side must be 'server', 'client' or 'both', not {self.side!r}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"count must be at least 1 (None: every frame), not {self.count}")
        if self.skip < 0:
            raise ValueError(f"skip must be 0 or more, not {self.skip}")
        if self.category is not None:
            self.category = Category(self.category)
        self._match = Match(
            category=self.category,
            type=self.type,
            agent=self.agent,
            pattern=self.pattern or None,
            where=self.where,
            direction="any",  # ``side`` says whose frames
        )

    @property
    def exhausted(self) -> bool:
        """Whether it has taken all the frames it may (it then lets every frame through)."""
        return self.count is not None and len(self.hits) >= self.count

    def matches(self, message: Message, path: str = "") -> bool:
        """Whether ``message``, on a connection to ``path``, is a frame this fault is about
        (whatever its budget)."""
        from_server = message.direction == "received"
        if self.side != "both" and from_server != (self.side == "server"):
            return False
        if self.path is not None and self.path not in path:
            return False
        return self._match(message)

    def take(self, message: Message, path: str = "") -> bool:
        """Whether this fault acts on ``message`` (it matches and the budget allows); counts."""
        if self.exhausted or not self.matches(message, path):
            return False
        self._seen += 1
        if self._seen <= self.skip:
            return False
        self.hits.append(message)
        return True

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        """Change ``outcome`` as this fault does; add a phrase saying what it did."""
        raise NotImplementedError


@dataclass(eq=False)
class Delay(FrameFault):
    """Hold matching frames back ``seconds`` (plus up to ``jitter`` more, at random)."""

    name: ClassVar[str] = "delay"
    seconds: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.seconds < 0 or self.jitter < 0:
            raise ValueError("delay seconds and jitter must be 0 or more")

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        held = self.seconds + (rng.uniform(0, self.jitter) if self.jitter else 0.0)
        outcome.delay += held
        outcome.actions.append(f"delayed by {held:.3f} s")


@dataclass(eq=False)
class Drop(FrameFault):
    """Lose matching frames: they never reach the other side."""

    name: ClassVar[str] = "drop"

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        outcome.copies = 0
        outcome.actions.append("dropped")


@dataclass(eq=False)
class Duplicate(FrameFault):
    """Send matching frames ``1 + times`` times, back to back."""

    name: ClassVar[str] = "duplicate"
    times: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.times < 1:
            raise ValueError(f"duplicate times must be at least 1, not {self.times}")

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        outcome.copies += self.times
        outcome.actions.append(f"duplicated (sent {outcome.copies} times)")


@dataclass(eq=False)
class Reorder(FrameFault):
    """Let the next ``after`` frames of the same direction overtake each matching frame.

    A frame held when the fault's block ends, or when its connection closes, is sent then.
    """

    name: ClassVar[str] = "reorder"
    after: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.after < 1:
            raise ValueError(f"reorder after must be at least 1, not {self.after}")

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        outcome.hold = max(outcome.hold, self.after)
        later = "frame" if self.after == 1 else "frames"
        outcome.actions.append(f"held back until {self.after} later {later} went ahead")


@dataclass(eq=False)
class Corrupt(FrameFault):
    """Spoil matching frames (see :func:`corrupt` for the modes)."""

    name: ClassVar[str] = "corrupt"
    mode: CorruptMode = "not_json"
    using: Callable[[str], Frame] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in ("not_json", "truncate", "wrong_type"):
            raise ValueError(
                f"corrupt mode must be 'not_json', 'truncate' or 'wrong_type', not {self.mode!r}"
            )

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        text = (
            outcome.data if isinstance(outcome.data, str) else outcome.data.decode(errors="replace")
        )
        if self.using is not None:
            made: object = self.using(text)  # the test's own function: may return anything
            if not isinstance(made, str | bytes):
                what = type(made).__name__
                raise TypeError(f"using= returned {what}, not a str or bytes frame")
            spoiled: Frame = made
            how = f"corrupted ({_show(self.using)})"
        elif self.mode == "truncate":
            half = len(text) // 2
            spoiled, how = text[:half], f"corrupted (truncated to {half} characters)"
        elif self.mode == "wrong_type":
            spoiled, how = _wrong_types(text), "corrupted (fields of the wrong JSON type)"
        else:
            spoiled, how = text[1:] or "<", "corrupted (not JSON: first character removed)"
        if isinstance(outcome.data, bytes) and isinstance(spoiled, str):
            spoiled = spoiled.encode()
        outcome.data = spoiled
        outcome.actions.append(how)


def _wrong_types(text: str) -> str:
    """Every top-level field but ``type`` as another JSON type: object → array of its
    values, array → object, string → number (its length), number or bool → string,
    null → object. Text that is not a JSON object is made not JSON instead."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            return json.dumps({"type": data})
    except (ValueError, RecursionError):  # RecursionError: nested too deep for json
        return text[1:] or "<"

    def other(value: Any) -> Any:
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return {str(index): item for index, item in enumerate(value)}
        if isinstance(value, str):
            return len(value)
        if isinstance(value, bool | int | float):
            return str(value)
        return {}

    try:
        return json.dumps({key: v if key == "type" else other(v) for key, v in data.items()})
    except RecursionError:
        return text[1:] or "<"


@dataclass(eq=False)
class Cut(FrameFault):
    """Drop the connection, both ways, as a network failure would (no closing handshake).

    ``when="before"``: instead of delivering the matching frame (it is lost with the cut);
    ``"after"``: right after delivering it.
    """

    name: ClassVar[str] = "cut"
    when: Literal["before", "after"] = "before"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.when not in ("before", "after"):
            raise ValueError(f"cut when must be 'before' or 'after', not {self.when!r}")

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        outcome.cut = self.when
        outcome.actions.append(
            "cut the connection instead of delivering"
            if self.when == "before"
            else "delivered, then cut the connection after"
        )


@dataclass(eq=False)
class Throttle(FrameFault):
    """A slow link: matching frames take ``len / bytes_per_second`` (or ``1 /
    frames_per_second``) seconds each to pass, and hold back the frames behind them."""

    name: ClassVar[str] = "throttle"
    bytes_per_second: float | None = None
    frames_per_second: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        rates = [r for r in (self.bytes_per_second, self.frames_per_second) if r is not None]
        if len(rates) != 1 or rates[0] <= 0:
            raise ValueError(
                "throttle needs one positive rate: bytes_per_second= or frames_per_second="
            )

    def apply(self, outcome: Outcome, rng: random.Random) -> None:
        if self.bytes_per_second is not None:
            size = len(outcome.data.encode() if isinstance(outcome.data, str) else outcome.data)
            seconds = size / self.bytes_per_second
        else:
            assert self.frames_per_second is not None
            seconds = 1 / self.frames_per_second
        outcome.transfer += seconds
        outcome.actions.append(f"throttled ({seconds:.3f} s on the link)")


@dataclass(eq=False)
class Refuse(Fault):
    """Refuse new WebSocket connections (an HTTP ``status`` answer to the handshake): the
    next ``count`` attempts, or every attempt for ``seconds`` from when the fault is added,
    or, with neither, every attempt while the fault is active. Open connections and plain
    HTTP requests are not affected."""

    name: ClassVar[str] = "refuse"
    seconds: float | None = None
    count: int | None = None
    status: int = 503
    hits: list[str] = field(default_factory=list, init=False, repr=False)
    """The request paths it refused."""
    _until: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"refuse status must be an HTTP error (400-599), not {self.status}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"refuse count must be at least 1, not {self.count}")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"refuse seconds must be 0 or more, not {self.seconds}")

    def arm(self, now: float) -> None:
        """Start the clock of ``seconds`` (the proxy calls it when the fault is added)."""
        if self.seconds is not None:
            self._until = now + self.seconds

    def take(self, path: str, now: float) -> bool:
        """Whether a connection to ``path`` at ``now`` is refused; counts it."""
        if self._until is not None and now >= self._until:
            return False
        if self.count is not None and len(self.hits) >= self.count:
            return False
        self.hits.append(path)
        return True


# ---------------------------------------------------------------------- the public spelling


F = TypeVar("F", bound="Fault")


def _written(fault: F, name: str, *args: Any, **kwargs: Any) -> F:
    """``fault``, describing itself as the test wrote it: ``delay(3, category='result')``."""
    shown = [_show(arg) for arg in args] + [
        f"{key}={_show(value)}" for key, value in kwargs.items() if value is not None
    ]
    fault._label = f"{name}({', '.join(shown)})"
    return fault


def delay(seconds: float, *, jitter: float = 0.0, **match: Any) -> Delay:
    """Hold matching frames back ``seconds`` (+ up to ``jitter``): ``delay(3, category="result")``.

    The proxy keeps a socket's order, as TCP does: the frames behind a delayed one wait too.
    ``match``: ``category``, ``type``, ``agent``, ``pattern``, ``where``, ``side``, ``path``,
    ``count``, ``skip`` (see :class:`FrameFault`).
    """
    fault = Delay(seconds=seconds, jitter=jitter, **match)
    return _written(fault, "delay", seconds, jitter=jitter or None, **match)


def drop(**match: Any) -> Drop:
    """Lose matching frames: ``drop(category="result", count=1)`` loses the first result."""
    return _written(Drop(**match), "drop", **match)


def duplicate(times: int = 1, **match: Any) -> Duplicate:
    """Send matching frames again, ``times`` more times: ``duplicate(type="research_result")``."""
    shown = (times,) if times != 1 else ()
    return _written(Duplicate(times=times, **match), "duplicate", *shown, **match)


def reorder(after: int = 1, **match: Any) -> Reorder:
    """Let the next ``after`` frames overtake each matching one: ``reorder(category="result")``."""
    shown = (after,) if after != 1 else ()
    return _written(Reorder(after=after, **match), "reorder", *shown, **match)


def corrupt(
    mode: CorruptMode = "not_json", *, using: Callable[[str], Frame] | None = None, **match: Any
) -> Corrupt:
    """Spoil matching frames: ``"not_json"`` (the first character removed), ``"truncate"``
    (the first half kept), ``"wrong_type"`` (valid JSON, ``type`` kept, every other field of
    another JSON type: object → array, string → number, ...), or ``using=`` your own
    ``text -> frame`` function."""
    fault = Corrupt(mode=mode, using=using, **match)
    shown = () if using is not None else (mode,)
    return _written(fault, "corrupt", *shown, using=using, **match)


def cut(after: int | None = None, **match: Any) -> Cut:
    """Cut the connection: ``cut(after=5)`` right after the 5th matching frame went through;
    ``cut(category="result")`` instead of delivering the first result (lost in the cut)."""
    if after is None:
        fault = Cut(when="before", count=1, **match)
    elif after < 1:
        raise ValueError(f"cut after must be at least 1 frame, not {after}")
    else:
        skip = after - 1 + match.pop("skip", 0)
        fault = Cut(when="after", skip=skip, count=1, **match)
    return _written(fault, "cut", after=after, **match)


def refuse(seconds: float | None = None, *, count: int | None = None, status: int = 503) -> Refuse:
    """Refuse reconnects: ``refuse(seconds=2)``, ``refuse(count=3)`` (see :class:`Refuse`)."""
    fault = Refuse(seconds=seconds, count=count, status=status)
    shown_status = status if status != 503 else None
    return _written(fault, "refuse", seconds=seconds, count=count, status=shown_status)


def throttle(
    bytes_per_second: float | None = None,
    *,
    frames_per_second: float | None = None,
    **match: Any,
) -> Throttle:
    """A slow link for matching frames: ``throttle(2000)`` passes 2000 bytes a second."""
    fault = Throttle(
        bytes_per_second=bytes_per_second, frames_per_second=frames_per_second, **match
    )
    shown = (bytes_per_second,) if bytes_per_second is not None else ()
    return _written(fault, "throttle", *shown, frames_per_second=frames_per_second, **match)
