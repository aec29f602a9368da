"""What a received frame means to a test: its one :class:`Category`.

Its own module, free of pydantic, because the pytest plugin needs it at configure time
(through :mod:`flowwright.dialect`) in every process, xdist's controller and runs with no
flow test included, while the message models of :mod:`flowwright.protocol` (which
re-exports it) are needed only once a message arrives.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Category"]


class Category(StrEnum):
    """What a received frame means to a test; every frame gets exactly one."""

    LIFECYCLE = "lifecycle"  # flow events, announcements, flow_completed
    PROMPT = "prompt"  # the flow asks the human (ui_message)
    RESULT = "result"  # an agent's work product
    PROGRESS = "progress"  # progress and task started/complete updates
    ERROR = "error"  # system_error
    CHAT = "chat"  # free text from an agent
    OTHER = "other"  # a well-formed envelope of a type this protocol does not define
    MALFORMED = "malformed"  # not a JSON object with a string "type"
    SENT = "sent"  # a frame the test itself sent, kept so the transcript reads as a dialogue
    NOTE = "note"  # what the test or flowwright did (a cut, a reconnect gap, a proxy fault)
