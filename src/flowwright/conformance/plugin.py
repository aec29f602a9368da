"""The conformance suite's pytest plugin (its own ``pytest11`` entry point).

It declares the suite's options (they must exist before the command line is parsed, so they
cannot live in the suite's conftest), applies the baseline — a listed rule becomes a strict
``xfail``: failing is expected, passing fails the run as fixed — and writes the summary
table: in the terminal at the end, and in the HTML report, where each check attaches its row
with ``summary="conformance"`` (the report gathers them into one table at the top). A check's
row also travels on its report (``report.conformance``), so under xdist the controller prints
the whole table. It does nothing in a run that collects no check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from flowwright.context import SCOPE, current
from flowwright.options import add_options, given_as, option
from flowwright.report import attach

if TYPE_CHECKING:  # the rules and the baseline: imported in a run that has checks
    from flowwright.conformance.rules import Rule

__all__ = [
    "SUMMARY",
    "ConformanceOptions",
    "Row",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]

MARKER = "conformance"
SUMMARY = "conformance"
"""The name of the report's run-level table the checks' rows go into."""
Verdict = Literal["pass", "FAIL", "expected", "FIXED", "n/a"]


@dataclass
class ConformanceOptions:
    """The suite's settings, from the command line (then ini)."""

    baseline_path: Path | None = None
    baseline: dict[str, str] = field(default_factory=dict)
    write_baseline: Path | None = None
    flow: str | None = None
    prompt: str = "What is the hate speech policy?"
    answer_time: float = 5.0
    oversize_bytes: int = 256 * 1024


@dataclass
class Row:
    """One line of the summary table."""

    rule: Rule
    verdict: Verdict
    evidence: str
    """One line: what was exchanged, or why the check failed (the frames themselves are the
    transcripts of the check's clients, in the report)."""


options_key = pytest.StashKey[ConformanceOptions]()
_rows_key = pytest.StashKey[list[Row]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowwright-conformance", "flowwright: protocol conformance")
    options = [
        (
            "--conformance-baseline",
            "conformance_baseline",
            'a TOML file of known deviations ([expected-failures] rule-id = "why"): they '
            "are reported as expected; a listed rule that passes fails the run",
        ),
        (
            "--conformance-write-baseline",
            "conformance_write_baseline",
            "write the rules that failed as a baseline file to this path",
        ),
        (
            "--conformance-flow",
            "conformance_flow",
            "the flow the checks run; it must end when its prompts are confirmed "
            "(default: osb, else the first the server lists)",
        ),
        ("--conformance-prompt", "conformance_prompt", "the question the checks' runs ask"),
        (
            "--conformance-answer-time",
            "conformance_answer_time",
            "seconds within which the server must answer (default 5; scaled by "
            "--flow-timeout-factor)",
        ),
        (
            "--conformance-oversize-bytes",
            "conformance_oversize_bytes",
            "size of the oversize-frame probe in bytes (default 262144)",
        ),
    ]
    add_options(parser, group, options)


def _read(config: pytest.Config) -> ConformanceOptions:
    def get(name: str) -> str | None:
        return option(config, name)

    options = ConformanceOptions()
    if path := get("conformance_baseline"):
        from flowwright.conformance.baseline import load_baseline

        options.baseline_path = Path(path)
        try:
            options.baseline = load_baseline(options.baseline_path)
        except ValueError as exc:
            said = given_as(config, "conformance_baseline")
            raise pytest.UsageError(f"{said}: {exc}") from None
    if path := get("conformance_write_baseline"):
        options.write_baseline = Path(path)
    options.flow = get("conformance_flow")
    options.prompt = get("conformance_prompt") or options.prompt
    for name, attribute, kind in (
        ("conformance_answer_time", "answer_time", float),
        ("conformance_oversize_bytes", "oversize_bytes", int),
    ):
        value = get(name)
        if value is None:
            continue
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if not number > 0:
            said = given_as(config, name)
            raise pytest.UsageError(f"{said} must be a positive number, not {value!r}")
        setattr(options, attribute, number)
    return options


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rule_id): a check of the flowwright conformance suite, for one rule",
    )
    config.stash[options_key] = _read(config)
    rows: list[Row] = []
    config.stash[_rows_key] = rows
    if not hasattr(config, "workerinput"):  # an xdist worker's rows go to the controller
        config.pluginmanager.register(_RowCollector(rows), _COLLECTOR_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin(_COLLECTOR_NAME)
    if collector is not None:
        config.pluginmanager.unregister(collector)


_COLLECTOR_NAME = "flowwright-conformance-rows"


class _RowCollector:
    """Gathers the table's rows from the reports as they arrive, from this process or from
    xdist workers (a report's plain attributes cross with it)."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if not isinstance(data, dict):
            return
        from flowwright.conformance.rules import RULES

        rule = RULES.get(data.get("rule", ""))
        if rule is not None:
            self.rows.append(Row(rule, data["result"], str(data.get("evidence", ""))))


def rule_of(item: pytest.Item) -> Rule | None:
    """The rule a collected check is about (``None`` for any other test)."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    from flowwright.conformance.rules import RULES

    rule_id = marker.args[0] if marker.args else marker.kwargs.get("rule_id")
    if not isinstance(rule_id, str) or rule_id not in RULES:
        raise pytest.UsageError(f"{item.nodeid}: no conformance rule {rule_id!r}")
    return RULES[rule_id]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A rule the baseline excuses becomes a strict xfail: expected to fail, and a pass
    fails the run (the deviation is fixed: trim the baseline)."""
    baseline = config.stash[options_key].baseline
    for item in items:
        rule = rule_of(item)
        if rule is not None and rule.id in baseline:
            item.add_marker(pytest.mark.xfail(reason=f"baseline: {baseline[rule.id]}", strict=True))


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the xfail verdict
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    rule = rule_of(item)
    if rule is None:
        return report
    decided = report.when == "call" or (report.when == "setup" and not report.passed)
    if not decided:
        return report
    options = item.config.stash[options_key]
    excused = rule.id in options.baseline
    if report.passed and excused:
        verdict: Verdict = "FIXED"
    elif report.passed:
        verdict = "pass"
    elif report.skipped and hasattr(report, "wasxfail"):
        verdict = "expected"
    elif report.skipped:
        verdict = "n/a"
    elif excused and "[XPASS(strict)]" in str(report.longrepr):
        verdict = "FIXED"
    else:
        verdict = "FAIL"
    if verdict == "FIXED":
        where = options.baseline_path or "the baseline"
        report.outcome = "failed"
        report.longrepr = (
            f"{rule.id}: fixed — the server now keeps this rule; remove it from {where}"
        )
    checker = getattr(item, "funcargs", {}).get("conformance")
    evidence = _evidence(item, report, verdict, getattr(checker, "evidence", ""))
    report.conformance = {  # type: ignore[attr-defined]  # for the terminal's table
        "rule": rule.id,
        "result": verdict,
        "evidence": evidence,
    }
    from flowwright.conformance.rules import RULES

    attach(
        f"conformance: {rule.id}",
        [
            {
                # The rule's place in the suite first: the report orders a run-level table by
                # its first column, so the page lists the rules as the terminal does.
                "#": f"{list(RULES).index(rule.id) + 1:02d}",
                "rule": rule.id,
                "statement": rule.statement,
                "result": verdict,
                "evidence": evidence,
            }
        ],
        "violations",
        summary=SUMMARY,
    )
    return report


def _evidence(item: pytest.Item, report: pytest.TestReport, verdict: Verdict, seen: str) -> str:
    """One line for the table: why it failed, what excused it, or what was exchanged."""
    if verdict in ("FAIL", "FIXED"):
        text = str(report.longrepr).strip().splitlines()
        return next((line for line in text if line.strip()), "")
    if verdict == "expected":
        return str(getattr(report, "wasxfail", ""))
    if verdict == "n/a":
        longrepr = report.longrepr
        return str(longrepr[2]).removeprefix("Skipped: ") if isinstance(longrepr, tuple) else ""
    if seen:
        return seen
    sent = received = 0
    scope = item.stash.get(SCOPE, None)
    for stream in scope.streams or [] if scope else []:
        for message in stream.collector:
            sent += message.direction == "sent"
            received += message.direction == "received"
    return f"{sent} frame(s) sent, {received} received"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The summary table, and the baseline file when asked for one."""
    rows: list[Row] = config.stash.get(_rows_key, [])
    if not rows:
        return
    settings = current().settings  # the session's: the run's server and dialect
    server = settings.server
    where = ""
    if server is not None and getattr(config.option, "flow_server_url", None):
        where = f" at {config.option.flow_server_url}"
    terminalreporter.write_sep(
        "=", f"flowwright conformance{where} (dialect {settings.dialect.name})"
    )
    from flowwright.conformance.baseline import write_baseline
    from flowwright.conformance.rules import RULES

    width = max(len(row.rule.id) for row in rows)
    order = list(RULES)
    for row in sorted(rows, key=lambda row: order.index(row.rule.id)):
        markup = {"pass": {"green": True}, "expected": {"yellow": True}, "n/a": {}}.get(
            row.verdict, {"red": True, "bold": True}
        )
        terminalreporter.write(f"{row.rule.id:<{width}}  ")
        terminalreporter.write(f"{row.verdict:<8}", **markup)
        terminalreporter.write_line(f"  {_clip(row.evidence, 100)}")
    counts = {verdict: sum(row.verdict == verdict for row in rows) for verdict in _ORDER}
    terminalreporter.write_line(
        ", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count)
    )
    options = config.stash[options_key]
    if options.write_baseline is not None:
        failed = {
            row.rule.id: options.baseline.get(row.rule.id) or row.evidence
            for row in rows
            if row.verdict in ("FAIL", "expected")
        }
        write_baseline(options.write_baseline, failed, server=where.removeprefix(" at "))
        terminalreporter.write_line(
            f"baseline of {len(failed)} deviation(s) written to {options.write_baseline}"
        )


_ORDER: tuple[Verdict, ...] = ("pass", "FAIL", "expected", "FIXED", "n/a")


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
