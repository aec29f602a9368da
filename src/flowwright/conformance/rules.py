"""The rules the conformance suite checks: one id and one sentence each.

The id names a rule everywhere — the check's marker, the summary table, a failure's first
line, the baseline file — so a rule can be argued about, and excused, by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["RULES", "Rule", "rule"]


@dataclass(frozen=True)
class Rule:
    """One protocol rule a flow server should keep."""

    id: str
    statement: str


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        rule.id: rule
        for rule in (
            Rule(
                "bad-json",
                "A frame that is not JSON is answered with an error; the socket stays open.",
            ),
            Rule(
                "unknown-type",
                "A message of a type the server does not know is answered with an error; the "
                "socket stays open.",
            ),
            Rule(
                "unknown-flow",
                "A run_flow naming a flow the server does not have is answered with an error; the "
                "socket stays open.",
            ),
            Rule(
                "missing-fields",
                "A run_flow without its flow is answered with an error; the socket stays open.",
            ),
            Rule(
                "oversize-frame",
                "A large frame (256 KiB by default) is answered with an error, not with silence "
                "or a dropped socket; the socket stays open.",
            ),
            Rule("ends-once", "A flow run to its end sends its end-of-flow message exactly once."),
            Rule(
                "halt-ends", "halt ends a running flow: its end-of-flow message follows promptly."
            ),
            Rule(
                "reject-runs-no-agent",
                "A reject at a confirm prompt ({confirm: false, selection: reject}) runs no agent.",
            ),
            Rule(
                "reject-by-selection",
                "A reject sent as Buttermilk's UI sends it ({confirm: true, selection: reject}) "
                "runs no agent: the selection is what counts.",
            ),
            Rule("sessions-isolated", "A session's messages reach that session's sockets only."),
            Rule("unique-ids", "No two messages of a session share a message_id."),
            Rule(
                "second-run",
                "A second run_flow on a socket, after the first flow ended, is run or refused "
                "with an error; the socket stays open.",
            ),
            Rule(
                "reconnect",
                "A reconnect behaves as the dialect declares: with resume, what the client missed "
                "is replayed once and the run goes on; without, the reconnect is accepted.",
            ),
            Rule(
                "answer-time",
                "run_flow, and each reply to a prompt, is answered within the answer time "
                "(--conformance-answer-time, 5 s by default).",
            ),
        )
    }
)
"""Every rule, by id, in the order the summary lists them."""


def rule(rule_id: str) -> Rule:
    """The rule ``rule_id``; a ``KeyError`` names the known ones."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"no conformance rule {rule_id!r}; rules: {', '.join(RULES)}") from None
