"""Turning pydantic validation errors into one line a person can act on."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["describe"]


def describe(exc: ValidationError) -> str:
    """``options.step_delay: Input should be a valid number; fault: unknown field 'x'``."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "top level"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown field {where!r}")
        else:
            problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
