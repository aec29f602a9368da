"""flowwright.conformance: where a flow server departs from the protocol its UI and tests
rely on, rule by rule.

A packaged pytest suite, run against any server::

    pytest --pyargs flowwright.conformance --flow-server-url ws://127.0.0.1:8000 \\
        [--flow-dialect buttermilk] [--conformance-baseline baseline.toml]
    flowwright conformance ws://127.0.0.1:8000        # the same

Each check is a test marked with the id of one :data:`RULES` entry; a violation fails it with
the id on its first line. Known deviations go in a baseline file (:mod:`.baseline`): reported
as expected while they last, failing the run once fixed. A table of every rule's result ends
the run, in the terminal and in the HTML report (``--flow-report``).
"""

# The names are imported on first use (flowwright.lazy): every pytest process loads this
# package with its plugin, and most never use the rest of it.

from types import MappingProxyType
from typing import TYPE_CHECKING

from flowwright.lazy import lazy_attributes

if TYPE_CHECKING:  # ``X as X``: an explicit re-export, to mypy --strict and ruff
    from flowwright.conformance.baseline import load_baseline as load_baseline
    from flowwright.conformance.baseline import write_baseline as write_baseline
    from flowwright.conformance.checker import PROBE_TYPE as PROBE_TYPE
    from flowwright.conformance.checker import Checker as Checker
    from flowwright.conformance.checker import ProbeClient as ProbeClient
    from flowwright.conformance.rules import RULES as RULES
    from flowwright.conformance.rules import Rule as Rule
    from flowwright.conformance.rules import rule as rule


_HOMES = MappingProxyType(
    {
        "Checker": "flowwright.conformance.checker",
        "PROBE_TYPE": "flowwright.conformance.checker",
        "ProbeClient": "flowwright.conformance.checker",
        "RULES": "flowwright.conformance.rules",
        "Rule": "flowwright.conformance.rules",
        "load_baseline": "flowwright.conformance.baseline",
        "rule": "flowwright.conformance.rules",
        "write_baseline": "flowwright.conformance.baseline",
    }
)
"""Public name → the module it is imported from on first use."""
__all__ = sorted(_HOMES)  # the TYPE_CHECKING imports re-export them to type checkers

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES)
