"""Parallel runs: concurrent sessions never see each other; pytest -n gives each worker a server."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from flowwright import FlowTestClient, ResponseSimulator

QUESTIONS = {
    "hate": "What is the hate speech policy?",
    "spam": "What is the spam policy?",
    "nudity": "What is the adult nudity policy?",
    "harass": "What is the harassment policy?",
}


async def test_concurrent_flows_never_see_each_others_messages() -> None:
    async def run(question: str) -> FlowTestClient:
        async with FlowTestClient.create() as client:
            await client.converse(ResponseSimulator(), flow="osb", prompt=question)
        return client

    clients = await asyncio.gather(*(run(q) for q in QUESTIONS.values()))
    ids = [
        {m.envelope.message_id for m in c.collector if m.envelope and m.direction == "received"}
        for c in clients
    ]
    assert sum(len(s) for s in ids) == len(set().union(*ids))  # no message reached two sessions
    for client, (topic, question) in zip(clients, QUESTIONS.items(), strict=True):
        prompts = client.collector.filter(category="prompt")
        assert [question in p.content for p in prompts] == [True]
        others = [q for q in QUESTIONS.values() if q != question]
        assert not any(q in m.raw for m in client.collector for q in others)
        research = client.collector.filter(category="result", agent="researcher")[0]
        assert topic in research.content.lower()


def test_pytest_xdist_gives_each_worker_its_own_server(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        f"""
        import json, os
        import pytest
        from flowwright import FlowTestClient, ResponseSimulator

        @pytest.mark.parametrize("n", range(6))
        async def test_flow(n, flow_server):
            async with FlowTestClient.create() as client:
                talk = await client.converse(
                    ResponseSimulator(), flow="osb", prompt=f"Question {{n}} on spam?")
            assert talk.completed
            record = {{"worker": os.environ["PYTEST_XDIST_WORKER"], "pid": flow_server.pid,
                       "log": str(flow_server.log_path), "session": client.session_id}}
            with open({str(tmp_path / "runs.jsonl")!r}, "a") as out:
                out.write(json.dumps(record) + "\\n")
        """
    )
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=6)
    runs = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    by_worker: dict[str, set[int]] = {}
    for run in runs:
        by_worker.setdefault(run["worker"], set()).add(run["pid"])
    assert len(by_worker) == 2
    assert all(len(pids) == 1 for pids in by_worker.values())  # one server per worker
    assert len(set().union(*by_worker.values())) == 2  # and not the same one
    assert len({run["log"] for run in runs}) == 2  # separate logs (and storage) per server
    assert len({run["session"] for run in runs}) == 6
    # Each worker's workdir was inside the run's, and a passing run leaves none of them.
    found = re.search(r"; workdir (\S+)", result.stdout.str())
    assert found is not None
    workdir = Path(found.group(1))
    assert {Path(run["log"]).parents[1] for run in runs} == {workdir / "gw0", workdir / "gw1"}
    assert not workdir.exists()
