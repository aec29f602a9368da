"""The flowwright reporting plugin (its own ``pytest11`` entry point, ``flowwright-report``).

- ``--flow-report=PATH`` / ``--flow-report-json=PATH`` (ini ``flow_report``,
  ``flow_report_json``): at session end, the HTML dashboard and/or the raw per-test records.
- ``--shard=i/n``: run one deterministic n-th of the collected tests (see
  :mod:`flowwright.report.shard`); merge the shards' JSON with
  ``python -m flowwright.report merge OUT.html shard-*.json``.
- With pytest's ``--junitxml``, a failing test's flow transcripts go into its ``<system-out>``.

Records are made where the test runs (an xdist worker, or the only process) and travel to
the controller on the teardown report, so ``-n auto`` and sharding give the same report.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import bin_xml_escape, xml_key

from flowwright.context import SCOPE, TestScope
from flowwright.diagnostics import TRANSCRIPT_SECTION
from flowwright.report.record import (
    ReportRecords,
    flow_data,
)

# The HTML writer (jinja2), the results file and sharding are imported where a run asks for
# them: every pytest process loads this plugin, few write a report.

__all__ = ["FlowReport", "pytest_addoption", "pytest_configure", "pytest_unconfigure"]


@pytest.fixture(autouse=True)
def _flowwright_report_test(
    request: pytest.FixtureRequest, _flowwright_test: TestScope
) -> TestScope:
    """Keep the test's attachments (``attach``) while a report is being written."""
    plugin = request.config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if isinstance(plugin, FlowReport) and plugin.recording:
        _flowwright_test.attachments = []
    return _flowwright_test


_PLUGIN_NAME = "flowwright-report-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowwright-report", "flowwright: reports and CI")
    for flag, name, help_text in (
        (
            "--flow-report",
            "flow_report",
            "write a self-contained HTML report of every test's flows to this path",
        ),
        (
            "--flow-report-json",
            "flow_report_json",
            "write the per-test records as JSON to this path (merge shards with "
            "'python -m flowwright.report merge OUT.html FILE...')",
        ),
    ):
        group.addoption(flag, dest=name, metavar="PATH", default=None, help=help_text)
        parser.addini(name, help=help_text + " (relative to the ini file)", default=None)
    group.addoption(
        "--shard",
        dest="flow_shard",
        metavar="i/n",
        default=None,
        help="run only shard i of n (1-based): every n-th test by sorted node id",
    )


def pytest_configure(config: pytest.Config) -> None:
    shard: tuple[int, int] | None = None
    if option := config.getoption("flow_shard"):
        from flowwright.report.shard import parse_shard

        shard = parse_shard(option)
    plugin = FlowReport(
        config,
        html=_path(config, "flow_report"),
        json=_path(config, "flow_report_json"),
        shard=shard,
    )
    config.pluginmanager.register(plugin, _PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if plugin is not None:
        config.pluginmanager.unregister(plugin)


def _path(config: pytest.Config, name: str) -> Path | None:
    """A CLI path is relative to where pytest was started; an ini path to the ini file."""
    value = config.getoption(name)
    if value is not None:
        return config.invocation_params.dir / str(value)
    value = config.getini(name)
    if not value:
        return None
    base = config.inipath.parent if config.inipath else config.rootpath
    return base / str(value)


class FlowReport:
    """The session's reporting: sharding, the records, the files, the JUnit transcripts."""

    def __init__(
        self,
        config: pytest.Config,
        *,
        html: Path | None,
        json: Path | None,
        shard: tuple[int, int] | None,
    ) -> None:
        self.config = config
        self.html = html
        self.json = json
        self.shard = shard
        self.recording = html is not None or json is not None
        # An xdist worker records its tests; only the controller collects and writes.
        self.writing = self.recording and not hasattr(config, "workerinput")
        self.recorder = ReportRecords()
        self.started = time.time()

    @pytest.hookimpl(trylast=True)  # shard what -k / -m left, so shards stay even
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.shard is None:
            return
        from flowwright.report.shard import select_shard

        kept, dropped = select_shard(items, [item.nodeid for item in items], *self.shard)
        if dropped:
            self.config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        scope = item.stash.get(SCOPE, None)  # the test's own: its streams and attachments
        if self.recording and report.when == "teardown" and scope is not None:
            # An attribute of our own on pytest's report: xdist carries it to the controller.
            report.flowwright = flow_data(scope)  # type: ignore[attr-defined]
        return report

    @pytest.hookimpl(trylast=True)  # after junitxml has opened the test case and its failure
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._junit_transcripts(report)
        if self.writing:
            self.recorder.add(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if self.writing and report.failed:
            self.recorder.add_collect_error(report)

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        if not self.writing:
            return
        from flowwright.report.results import build, write_json

        results = build(
            self.recorder.records,
            shard="{}/{}".format(*self.shard) if self.shard else None,
            started=self.started,
            duration=time.time() - self.started,
            exitstatus=int(exitstatus),
        )
        if self.json is not None:
            write_json(results, self.json)
        if self.html is not None:
            from flowwright.report.html import write_html

            write_html(results, self.html)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.writing:
            for path in (self.html, self.json):
                if path is not None:
                    terminalreporter.write_sep("-", f"flowwright report: {path}")

    def _junit_transcripts(self, report: pytest.TestReport) -> None:
        """Add a failing test's flow transcripts to its JUnit ``<system-out>``.

        pytest's junitxml writes report sections only as captured output, and only under
        ``junit_logging`` (default ``no``), so each transcript section goes in through the
        junitxml plugin's own per-test reporter — the route ``record_xml_attribute`` takes.
        Teardown failures are left out: junitxml has closed the test case by then.
        """
        xml = self.config.stash.get(xml_key, None)
        if xml is None or not report.failed or report.when == "teardown":
            return
        transcripts = [
            f"{name}\n{text}"
            for name, text in report.sections
            if name.startswith(TRANSCRIPT_SECTION)
        ]
        if transcripts:
            node = ET.Element("system-out")
            node.text = bin_xml_escape("\n\n".join(transcripts))
            xml.node_reporter(report).append(node)
