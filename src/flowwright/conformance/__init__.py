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

from flowwright.conformance.baseline import load_baseline, write_baseline
from flowwright.conformance.checker import PROBE_TYPE, Checker, ProbeClient
from flowwright.conformance.rules import RULES, Rule, rule

__all__ = [
    "PROBE_TYPE",
    "RULES",
    "Checker",
    "ProbeClient",
    "Rule",
    "load_baseline",
    "rule",
    "write_baseline",
]
