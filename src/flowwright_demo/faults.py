"""Fault injection: the failures the framework's error handling is tested against.

Off unless asked for, per run (``run_flow`` parameter ``fault``) or per flow (YAML
``faults:``). They are real failures, not flags a client could read: an agent raises, the
process dies with ``os._exit``, a non-JSON frame goes out, an agent takes its time.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MALFORMED_FRAME", "Faults", "InjectedFault"]

logger = logging.getLogger(__name__)

MALFORMED_FRAME = "<<injected malformed frame: this is not JSON>>"
"""The text frame sent by the ``malformed_frame`` fault."""


class InjectedFault(RuntimeError):
    """The error an agent raises under the ``agent_error`` fault."""


class Faults(BaseModel):
    """The faults of one run. Unknown keys are refused so a typo never disables a fault."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_error: str | None = None
    """Role of the agent that raises instead of answering."""
    exit_after: int | None = Field(default=None, gt=0)
    """The process exits abruptly after the run has sent this many messages."""
    exit_code: int = Field(default=70, ge=0, le=255)
    malformed_frame: bool = False
    """Send one non-JSON text frame right after ``flow_started``."""
    slow_agent: str | None = None
    """Role of the agent whose step takes ``seconds`` longer."""
    seconds: float = Field(default=3.0, ge=0, le=600)

    def merged(self, override: Mapping[str, Any] | None) -> Faults:
        """These faults with a run's ``fault`` parameter on top (validated: raises ValueError)."""
        if not override:
            return self
        return Faults.model_validate({**self.model_dump(exclude_unset=True), **override})

    async def before_agent(self, role: str) -> None:
        """Called as an agent's step begins: the slow and failing agent faults act here."""
        if self.slow_agent == role:
            # The sleep IS the simulated slowness; a halt cancels it like any agent work.
            await asyncio.sleep(self.seconds)
        if self.agent_error == role:
            raise InjectedFault(f"injected agent_error: {role} raised on purpose")

    def exit_if_due(self, sent: int) -> None:
        """Called after each message a run sends: ends the process at the ``exit_after`` count."""
        if self.exit_after is not None and sent >= self.exit_after:
            logger.error("! injected exit_after=%d: exiting with code %d", sent, self.exit_code)
            os._exit(self.exit_code)
