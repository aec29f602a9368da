"""flowwright.report: what a test run leaves behind for people and for CI.

- :func:`attach` — add a screenshot, a visual diff, a list of accessibility violations or a
  text to the running test's report entry (see :mod:`flowwright.report.record`)::

      from flowwright.report import attach
      attach("checkout page", Path("shot.png"))        # kind inferred: "image"
      attach("axe", violations, "violations")          # a list of dicts, shown as a table

- ``--flow-report=report.html``: one self-contained HTML dashboard (:mod:`.html`);
  ``--flow-report-json=results.json``: the raw per-test records (:mod:`.results`).
- ``--shard=i/n`` and ``python -m flowwright.report merge OUT.html shard-*.json``
  (:mod:`.shard`, :mod:`.__main__`).
- With ``--junitxml``, failing tests carry their flow transcripts in ``<system-out>``.
"""

# The names are imported on first use (flowwright.lazy): every pytest process loads this
# package with its plugin, and most never use the rest of it.

from types import MappingProxyType
from typing import TYPE_CHECKING

from flowwright.lazy import lazy_attributes

if TYPE_CHECKING:  # ``X as X``: an explicit re-export, to mypy --strict and ruff
    from flowwright.report.html import render as render
    from flowwright.report.html import write_html as write_html
    from flowwright.report.record import AttachmentKind as AttachmentKind
    from flowwright.report.record import TestRecord as TestRecord
    from flowwright.report.record import attach as attach
    from flowwright.report.results import ResultsError as ResultsError
    from flowwright.report.results import load as load
    from flowwright.report.results import merge as merge


_HOMES = MappingProxyType(
    {
        "AttachmentKind": "flowwright.report.record",
        "ResultsError": "flowwright.report.results",
        "TestRecord": "flowwright.report.record",
        "attach": "flowwright.report.record",
        "load": "flowwright.report.results",
        "merge": "flowwright.report.results",
        "render": "flowwright.report.html",
        "write_html": "flowwright.report.html",
    }
)
"""Public name → the module it is imported from on first use."""
__all__ = sorted(_HOMES)  # the TYPE_CHECKING imports re-export them to type checkers

if not TYPE_CHECKING:  # to a type checker, an unknown name stays an error
    __getattr__ = lazy_attributes(__name__, _HOMES)
