"""The per-test record: waits as they ended, attachments, and what a run's JSON and HTML hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import markupsafe
import pytest

from flowwright import FlowEventWaiter, FlowTimeoutError, Match, MessageCollector
from flowwright.context import current
from flowwright.errors import ConnectionLostError, FlowErrorEvent
from flowwright.report import attach
from tests.framework.scripted import error, prompt
from tests.report.planted import PLANT, png


async def test_every_wait_is_recorded_with_how_it_ended() -> None:
    collector = MessageCollector()
    waiter = FlowEventWaiter(collector)
    matched = waiter.arm(Match(category="prompt"), since=0)
    collector.append(prompt("Shall I?"))
    await matched.result(5)
    with pytest.raises(FlowTimeoutError):
        await waiter.wait_for(Match(category="result"), timeout=0.01, since=1)
    errored = waiter.arm(Match(category="result"), since=1)
    collector.append(error("boom"))
    with pytest.raises(FlowErrorEvent):
        await errored.result(5)
    waiter.close(ConnectionLostError("the test closed the connection"))
    with pytest.raises(ConnectionLostError):
        await waiter.wait_for(Match(category="result"), timeout=5, since=2)

    history = waiter.history
    assert [w.outcome for w in history] == ["matched", "timeout", "error", "aborted"]
    assert history[0].matched_seq == 1
    assert history[0].description == "prompt"
    assert history[1].timeout == 0.01
    assert history[1].duration is not None
    assert history[1].duration >= 0.0
    assert history[1].detail is not None
    assert history[1].detail.startswith("timed out after")
    assert history[2].detail is not None
    assert "boom" in history[2].detail
    assert all(w.ended is not None and w.ended >= w.started for w in history)


def test_attach_infers_the_kind_and_inlines_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = current()  # the test's own, as the plugin opened it
    shot = tmp_path / "shot.png"
    shot.write_bytes(png())
    axe = tmp_path / "axe.json"
    axe.write_text(json.dumps({"violations": [{"id": "label", "impact": "critical"}]}))
    scope.attachments = items = list[dict[str, Any]]()  # as under --flow-report, for this test
    attach("shot", shot)
    attach("diff", png(), "image")
    attach("axe", axe)
    attach("rows", [{"id": "region"}])
    attach("log", "plain text")
    trace = tmp_path / "trace.zip"
    trace.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    monkeypatch.chdir(tmp_path)
    attach("trace", Path("trace.zip"))
    with pytest.raises(ValueError, match="kind must be"):
        attach("bad", "x", "video")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a file path"):
        attach("bad", "not a path", "file")
    attach("rule", [{"rule": "r", "result": "pass"}], summary="conformance")
    with pytest.raises(ValueError, match=r"summary=\.\.\.\) takes a table .*not 'text'"):
        attach("bad", "x", "text", summary="conformance")
    with pytest.raises(ValueError, match=r"summary must be a short name .* not 'a b'"):
        attach("bad", [{"a": 1}], summary="a b")
    assert [(a["name"], a["kind"]) for a in items] == [
        ("shot", "image"),
        ("diff", "image"),
        ("axe", "violations"),
        ("rows", "violations"),
        ("log", "text"),
        ("trace", "file"),
        ("rule", "violations"),
    ]
    assert items[0]["mime"] == "image/png"
    assert items[0]["path"] == str(shot)
    assert items[2]["data"] == [{"id": "label", "impact": "critical"}]
    # A linked file is not read: its absolute path (linkable from anywhere) and size are kept.
    assert items[5] == {"name": "trace", "kind": "file", "path": str(trace), "size": 22}
    assert items[6]["summary"] == "conformance"  # also in the run-level table of that name
    assert "summary" not in items[3]
    scope.attachments = None  # no report is being written
    attach("ignored", "nothing is kept")
    with pytest.raises(ValueError, match="takes a table"):
        attach("bad", "x", "text", summary="conformance")  # checked even then
    assert len(items) == 7


def test_the_json_records_each_test_and_its_flows(reported: pytest.Pytester) -> None:
    results = json.loads((reported.path / "out/results.json").read_text())
    assert results["format"] == "flowwright-report"
    assert results["version"] == 1
    assert results["runs"][0]["tests"] == 3
    assert results["runs"][0]["exitstatus"] == 1
    tests = {t["nodeid"].split("::")[1]: t for t in results["tests"]}
    assert {name: t["outcome"] for name, t in tests.items()} == {
        "test_planted_markup_in_every_message": "passed",
        "test_waits_for_what_never_comes": "failed",
        "test_skipped": "skipped",
    }
    assert tests["test_skipped"]["skip_reason"] == "not today"
    assert all(t["worker"] in ("gw0", "gw1") for t in tests.values())  # made on the workers

    planted = tests["test_planted_markup_in_every_message"]
    (stream,) = planted["streams"]
    assert stream["label"].startswith("1: client (ws://127.0.0.1:")
    categories = [m["category"] for m in stream["messages"]]
    assert categories[0] == "sent"
    assert "prompt" in categories
    assert "result" in categories
    assert [w["outcome"] for w in stream["waits"]] == ["matched", "matched"]
    assert [w["description"] for w in stream["waits"]] == ["prompt", "the end of the flow"]
    (turn,) = stream["turns"]
    assert PLANT in turn["prompt"]["content"]
    assert turn["reply"] is not None
    assert set(stream["metrics"]["steps"]) == {"researcher-1", "policy_analyst-1"}
    assert [a["kind"] for a in planted["attachments"]] == ["image", "violations"]

    failed = tests["test_waits_for_what_never_comes"]
    assert "FlowTimeoutError: timed out after" in failed["errors"][0]
    (wait,) = failed["streams"][0]["waits"]
    assert wait["outcome"] == "timeout"
    assert wait["timeout"] == 0.5


def test_the_html_escapes_agent_output(reported: pytest.Pytester) -> None:
    page = (reported.path / "out/report.html").read_text()
    assert PLANT not in page
    assert "<img src=x" not in page
    assert 'onerror="' not in page
    assert str(markupsafe.escape(PLANT)) in page  # shown, as text
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert len(scripts) == 1
    assert "nonce=" in scripts[0]
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert "http://" not in page.split("<main>")[0]  # nothing loaded from the network
    assert 'src="data:image/png;base64,' in page
    assert page.count('class="test"') == 3
