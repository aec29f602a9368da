"""Dialects: what a flow server's messages *mean* — the one place that knows type names.

Two servers can share an envelope format and still disagree on meaning: which types carry an
agent's work, what ends a flow, how an agent is named, whether an error ends the flow or is a
notice it goes on after. A :class:`Dialect` answers those questions for one kind of server;
the collector, the waits, the simulator, conversations, metrics and reports ask it and
hard-code nothing. Built in: :data:`FLOWWRIGHT` (the reference server, the default) and
:data:`BUTTERMILK` (a real Buttermilk server, as recorded). A dialect of your own is a
:class:`Dialect` (or ``FLOWWRIGHT.replace(...)``), chosen with ``--flow-dialect
package.module:NAME`` or ``FlowTestClient.create(dialect=...)``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Self

from flowwright.category import Category

if TYPE_CHECKING:  # the models (pydantic) load when a message arrives, not with the plugin
    from flowwright.protocol import Envelope

__all__ = [
    "BUTTERMILK",
    "DIALECTS",
    "FLOWWRIGHT",
    "Dialect",
    "TaskEvent",
    "resolve_dialect",
]

TaskStatus = Literal["started", "complete"]


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """An agent's task starting or completing, whatever the server's update looks like."""

    agent: str  # the agent's id, else its role
    status: TaskStatus
    is_error: bool = False


_ROLE_WORD = re.compile(r"[A-Z][A-Z0-9_]*")
"""An upper-case role word: ``JUDGE`` of ``JUDGE-AycGab`` or "JUDGE agent for ..."."""

_STANDARD_TYPES: Mapping[str, Category] = MappingProxyType(
    {
        "system_message": Category.LIFECYCLE,
        "system_update": Category.PROGRESS,
        "system_error": Category.ERROR,
        "ui_message": Category.PROMPT,
        "chat_message": Category.CHAT,
        "research_result": Category.RESULT,
        "record": Category.RESULT,
        "judge_reasons": Category.RESULT,
        "assessments": Category.RESULT,
        "differences": Category.RESULT,
    }
)
"""Buttermilk's wire types and their meaning; the reference server speaks the same ones.
Spelled out rather than read from ``protocol.MessageType``: this module is loaded at pytest's
configure time, in every process, and must not pull in pydantic."""


def _flow_completed(envelope: Envelope) -> bool:
    """The end of a flow: a ``system_message`` whose content is ``flow_completed``."""
    from flowwright.protocol import FLOW_COMPLETED, text_of  # loaded by now: a message came

    return envelope.type == "system_message" and text_of(envelope) == FLOW_COMPLETED


def _every_error(envelope: Envelope) -> bool:
    """Every error is fatal: the reference server reports only what ends or breaks a run."""
    return True


def _no_error(envelope: Envelope) -> bool:
    """No error is fatal: the flow reports an agent's failure and goes on."""
    return False


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """How one kind of flow server speaks: the meaning of its messages and what it can do.

    Every field has the reference server's answer as its default, so a dialect of your own
    names only where your server differs: ``Dialect(name="mine", types={...})``.
    """

    name: str
    types: Mapping[str, Category] = field(default_factory=lambda: dict(_STANDARD_TYPES))
    """Message ``type`` → :class:`Category`; a type not listed is :attr:`Category.OTHER`."""
    ends_flow: Callable[[Envelope], bool] | None = _flow_completed
    """Whether a message marks the end of a flow; ``None``: this server's flows never end by
    themselves (waits for the end then only time out)."""
    end_categories: frozenset[Category] = frozenset({Category.LIFECYCLE})
    """The categories whose messages may end a flow: only those are checked with
    :attr:`ends_flow` as they arrive (the check parses the message)."""
    fatal: Callable[[Envelope], bool] = _every_error
    """Which :attr:`Category.ERROR` messages fail pending waits at once; the others are
    notices, recorded and shown, that the flow goes on after."""
    sender_fields: tuple[str, ...] = ("role", "agent_id", "source")
    """Payload keys that name the sender of a message with no ``agent_info`` (task updates,
    errors), tried in order."""
    confirm_options: tuple[str, ...] = ("confirm", "reject")
    """What ``options: true`` on a prompt offers."""
    resumable: bool = True
    """Whether a reconnecting client gets what it missed (``?resume_after=<message_id>``)."""
    reply_ids: bool = True
    """Whether replies may carry a ``message_id`` the server acknowledges on resume, so a
    reply cut in flight is sent again and never applied twice (a flowwright extension)."""
    flows_path: str | None = "/api/flows"
    """``GET`` path answering ``{"flow_choices": [...]}``: a flow it does not list fails at
    once. ``None``: the server cannot say."""
    session_path: str = "/ws/{session_id}"
    """The WebSocket path of one session."""
    one_flow_per_socket: bool = False
    """Whether a second ``run_flow`` on the same socket is unsafe (use a new client)."""
    halt_on_close: bool = False
    """Whether closing a client mid-flow first sends ``halt`` (for servers whose flows keep
    running after their socket closed, and that offer no other way to end them)."""

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed: ``BUTTERMILK.replace(fatal=lambda e: True)``."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ meaning

    def categorise(self, envelope: Envelope) -> Category:
        """The one category of a well-formed message."""
        return self.types.get(envelope.type, Category.OTHER)

    def is_end(self, envelope: Envelope) -> bool:
        """Whether ``envelope`` ends the flow (never, for a dialect without an end)."""
        return self.ends_flow is not None and self.ends_flow(envelope)

    def is_fatal(self, envelope: Envelope) -> bool:
        """Whether an error message fails pending waits (else it is a notice)."""
        return self.fatal(envelope)

    def options(self, envelope: Envelope) -> list[str] | None:
        """A prompt's options; ``None`` for a free-text prompt."""
        outputs = envelope.outputs
        options = outputs.get("options") if isinstance(outputs, dict) else None
        if options is True:
            return list(self.confirm_options)
        if isinstance(options, list):
            return [str(option) for option in options]
        return None

    def sender(self, envelope: Envelope) -> tuple[str | None, frozenset[str]]:
        """Who sent ``envelope``: a display role, and every name it answers to (lower case).

        The names are the role, the agent name, the agent id and the upper-case role word of
        an id (``JUDGE-AycGab``) or of a description ("JUDGE agent for ..."). A message with
        no ``agent_info`` is named by its payload's :attr:`sender_fields`, so task updates
        and errors are attributed too.
        """
        info = envelope.agent_info
        role: str | None = None
        names: list[str] = []
        if info is not None:
            role = info.role
            names += [n for n in (info.role, info.agent_name, info.agent_id) if n]
            words = [_role_word(info.description, whole=False), _role_word(info.agent_id)]
            names += [word for word in words if word]
            role = role or next((word for word in words if word), None)
        else:
            outputs = envelope.outputs if isinstance(envelope.outputs, dict) else {}
            fields = [outputs.get(key) for key in self.sender_fields]
            names += [value for value in fields if isinstance(value, str) and value]
            role = next(iter(names), None)
            names += [word for word in map(_role_word, list(names)) if word]
        return role, frozenset(name.lower() for name in names)

    def task(self, envelope: Envelope) -> TaskEvent | None:
        """An agent's task (or step) starting or completing, if ``envelope`` reports one.

        Reads ``{agent_id, role, status: started|complete}`` (the reference server), the
        status-less task form (Buttermilk: started is ``{agent_id, role, task_index}``,
        complete adds ``more_tasks_remain`` and ``is_error``) and an agent's step progress
        (``{source: "JUDGE", step_name, status: started|completed|error}``).
        """
        outputs = envelope.outputs
        if self.categorise(envelope) is not Category.PROGRESS or not isinstance(outputs, dict):
            return None
        agent = outputs.get("agent_id") or outputs.get("role") or outputs.get("source")
        if not isinstance(agent, str) or not agent:
            return None
        status = outputs.get("status")
        if status is None and "task_index" in outputs:
            status = "complete" if "more_tasks_remain" in outputs else "started"
        is_error = bool(outputs.get("is_error")) or status == "error"
        if status == "started":
            return TaskEvent(agent, "started", is_error)
        if status in ("complete", "completed", "error"):
            return TaskEvent(agent, "complete", is_error)
        return None


def _role_word(text: str | None, *, whole: bool = True) -> str | None:
    """``JUDGE`` of an id ``JUDGE-AycGab`` (``whole``: the part before ``-``), or of a
    description "JUDGE agent for ..." (its first word)."""
    if not text or (whole and "-" not in text):  # a bare id such as "LSWPDS" is random
        return None
    head = text.split("-", 1)[0] if whole else text.split(None, 1)[0]
    return head if _ROLE_WORD.fullmatch(head) and len(head) > 1 else None


FLOWWRIGHT = Dialect(name="flowwright")
"""The reference server (``flowwright_demo``): every error is fatal, sessions resume,
``flow_completed`` ends a flow, replies are acknowledged."""

BUTTERMILK = Dialect(
    name="buttermilk",
    fatal=_no_error,
    resumable=False,
    reply_ids=False,  # Buttermilk drops a manager message with a field it does not know
    one_flow_per_socket=True,  # a second run_flow crashes the connection's handler
    halt_on_close=True,  # its flows outlive their socket by an hour otherwise
)
"""A real Buttermilk server, as recorded (``docs/buttermilk.md``): an agent's error is a notice
the flow goes on after; no resume; one run per socket; ``flow_completed`` ends a flow (its
``mock`` flow never sends it)."""

DIALECTS: Mapping[str, Dialect] = MappingProxyType(
    {dialect.name: dialect for dialect in (FLOWWRIGHT, BUTTERMILK)}
)
"""The built-in dialects by name."""


def resolve_dialect(spec: Dialect | str | None) -> Dialect:
    """A dialect from a name (``"buttermilk"``), an import path (``"pkg.mod:NAME"``) or itself.

    Raises ``ValueError`` naming the choices when ``spec`` names nothing known.
    """
    if spec is None:
        return FLOWWRIGHT
    if isinstance(spec, Dialect):
        return spec
    if spec in DIALECTS:
        return DIALECTS[spec]
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(
            f"unknown dialect {spec!r}: use one of {sorted(DIALECTS)} or 'package.module:NAME'"
        )
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        hint = ""
        if isinstance(exc, ModuleNotFoundError) and f"{module_name}.".startswith(f"{exc.name}."):
            # The usual case: a module beside the tests, which the `pytest` command (unlike
            # `python -m pytest`) does not put on sys.path.
            hint = (
                f" ({module_name!r} is not on sys.path: for a module of your project, add "
                "'pythonpath = .' to pytest's configuration, or install it)"
            )
        raise ValueError(f"cannot load dialect {spec!r}: {exc}{hint}") from None
    if not isinstance(found, Dialect):
        raise ValueError(f"{spec!r} is a {type(found).__name__}, not a flowwright Dialect")
    return found
