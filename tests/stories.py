"""A flow's story: what happened, comparable between two runs of the same flow (recovery
tests compare a run that was cut, dropped or proxied with one that was not)."""

from __future__ import annotations

from flowwright import Message

__all__ = ["story"]


def story(messages: list[Message]) -> list[tuple[str, str | None, str]]:
    """What happened up to the flow's end, without ids and times (the resume notice left out;
    the progress update sent after the end may or may not arrive before a client closes)."""
    told = []
    for m in messages:
        if m.direction == "received" and m.content != "session_resumed":
            told.append((m.type, m.role, m.content))
            if m.is_flow_completed:
                break
    return told
