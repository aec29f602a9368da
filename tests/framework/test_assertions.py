"""assert_result and assert_said: the match is returned; a miss lists every candidate in full."""

from __future__ import annotations

import re

import pytest

from flowwright import FlowTestClient, Message
from flowwright.assertions import assert_result, assert_said
from tests.framework.scripted import ScriptedServer, prompt, result

LONG = "The policy says: " + "hate speech is removed when it attacks people. " * 6


async def results_of(scripted: ScriptedServer) -> tuple[FlowTestClient, list[Message]]:
    scripted.handler = lambda m: [
        prompt("Shall I proceed?"),
        result("researcher", LONG),
        result("policy_analyst", "Spam is removed at once."),
    ]
    async with FlowTestClient.create(scripted.url) as client:
        await client.start_flow("osb", "q")
        results = await client.wait_for_agent_results(["researcher", "policy_analyst"])
    return client, results


async def test_assert_result_returns_the_first_match(scripted: ScriptedServer) -> None:
    _, results = await results_of(scripted)
    assert assert_result(results, contains="SPAM") is results[1]  # case-insensitive
    assert assert_result(results, agent="RESEARCHER") is results[0]
    assert assert_result(results, matches=r"removed at \w+") is results[1]
    assert (
        assert_result(results, matches=re.compile("^The policy"), agent="researcher")
        is (results[0])
    )
    assert assert_result(results) is results[0]


async def test_a_missed_result_lists_every_candidate_in_full(scripted: ScriptedServer) -> None:
    _, results = await results_of(scripted)
    with pytest.raises(AssertionError) as caught:
        assert_result(results, agent="researcher", contains="spam")
    text = str(caught.value)
    assert text.splitlines()[0] == (
        "no result from 'researcher' and contains 'spam' (2 candidate(s), 1 from 'researcher'):"
    )
    assert LONG.strip() in text  # in full, never cut
    assert "Spam is removed at once." in text
    with pytest.raises(AssertionError, match=r"no result at all \(0 candidate\(s\)\):\n  \(none\)"):
        assert_result([])


async def test_assert_said_looks_at_what_the_flow_said(scripted: ScriptedServer) -> None:
    client, results = await results_of(scripted)
    assert assert_said(client, "proceed", category="prompt").category == "prompt"
    assert assert_said(client.collector, "SPAM") == results[1]  # a collector works too
    assert assert_said(client, "removed", agent="policy_analyst") == results[1]
    with pytest.raises(AssertionError) as caught:
        assert_said(client, "harassment", category="chat", since=results[0].seq)
    text = str(caught.value)
    assert text.splitlines()[0] == "no chat message matches /harassment/ (1 candidate(s)):"
    assert "Spam is removed at once." in text
    assert "hate speech" not in text  # before `since`: not a candidate
