"""The reference server's MCP tools, over stdio (a subprocess), Streamable HTTP (the
session's flow server at /mcp) and in memory: the same assertions on each."""

from __future__ import annotations

from flowwright import Category, FlowTimeoutError
from flowwright.mcp import FlowMCPClient, assert_tool_error, assert_tools

TOOLS = ["list_flows", "run_flow", "search_documents", "ask_agent"]
HATE_SPEECH = "What is the hate speech policy?"


async def test_tools_and_input_schemas(reference: FlowMCPClient) -> None:
    async with reference as mcp:
        await assert_tools(
            mcp,
            TOOLS,
            schemas={
                "run_flow": {
                    "type": "object",
                    "required": ["flow"],
                    "properties": {"flow": {"type": "string"}, "record_id": {}, "criteria": {}},
                },
                "search_documents": {
                    "required": ["query"],
                    "properties": {"k": {"type": "integer", "default": 3, "maximum": 20}},
                },
                "ask_agent": {"required": ["role", "question"]},
            },
        )
        flows = await mcp.call_tool("list_flows")
    assert not flows.is_error
    assert flows.structured is not None
    assert {flow["name"]: flow["agents"] for flow in flows.structured["result"]} == {
        "chat": ["assistant"],
        "osb": ["researcher", "policy_analyst"],
    }


async def test_run_flow_returns_the_transcript_with_progress(reference: FlowMCPClient) -> None:
    async with reference as mcp:
        async with mcp.expect(category="progress", pattern="policy_analyst") as last_step:
            result = await mcp.call_tool("run_flow", {"flow": "osb", "prompt": HATE_SPEECH})
        first_step = await mcp.wait_for_progress("researcher", since=0)
    assert not result.is_error
    assert "hate speech" in result.text.lower()
    transcript = result.structured
    assert transcript is not None
    assert transcript["completed"]
    assert not transcript["errors"]
    assert [r["role"] for r in transcript["results"]] == ["researcher", "policy_analyst"]
    assert "hate speech" in transcript["conclusion"].lower()
    # One progress notification per step, in order, before the result.
    assert first_step.content.endswith("1/2 researcher finished")
    assert last_step.value.content.endswith("2/2 policy_analyst finished")
    assert first_step.seq < last_step.value.seq < mcp.collector.filter(category="result")[-1].seq


async def test_unknown_flow_is_an_error_result_naming_it(reference: FlowMCPClient) -> None:
    async with reference as mcp:
        result = await assert_tool_error(
            mcp, "run_flow", {"flow": "nope", "prompt": "x"}, match="unknown flow 'nope'"
        )
    assert "available: chat, osb" in result.text
    assert mcp.collector.by_category(Category.ERROR)[-1].content.startswith("tools/call → is_error")


async def test_run_flow_without_a_question_is_an_error_result(reference: FlowMCPClient) -> None:
    # Over the WebSocket such a run asks for its question; over MCP nobody could answer.
    async with reference as mcp:
        await assert_tool_error(
            mcp, "run_flow", {"flow": "osb", "record_id": ""}, match="needs a 'prompt'"
        )


async def test_every_exchange_is_in_the_transcript(reference: FlowMCPClient) -> None:
    async with reference as mcp:
        await mcp.call_tool("search_documents", {"query": "hate speech", "k": 2})
        await mcp.call_tool("ask_agent", {"role": "researcher", "question": "Is satire allowed?"})
    requests = mcp.collector.filter(type="mcp_request", direction="sent")
    answers = mcp.collector.filter(type="mcp_response")
    # Every request the SDK sent (its handshake and tools/list too) has its answer, by method.
    assert [m.outputs["method"] for m in requests] == [m.outputs["method"] for m in answers]
    calls = [m.summary() for m in requests if m.outputs["method"] == "tools/call"]
    assert "tools/call search_documents" in calls[0]
    assert "tools/call ask_agent" in calls[1]
    jsonl = mcp.transcript()
    assert '"type": "mcp_request"' in jsonl
    assert "Is satire allowed?" in jsonl


async def test_search_and_ask(reference: FlowMCPClient) -> None:
    async with reference as mcp:
        hits = await mcp.call_tool("search_documents", {"query": "hate speech", "k": 2})
        answer = await mcp.call_tool("ask_agent", {"role": "researcher", "question": "hate?"})
        unknown = await assert_tool_error(
            mcp, "ask_agent", {"role": "judge", "question": "x"}, match="unknown agent role"
        )
    assert hits.structured is not None
    assert next(hit["doc_id"] for hit in hits.structured["result"]) == "policy-hate-speech"
    assert "hate speech" in answer.text.lower()
    assert "researcher" in unknown.text


async def test_a_timeout_explains_what_arrived(reference: FlowMCPClient) -> None:
    async with reference as mcp:
        await mcp.call_tool("run_flow", {"flow": "osb", "prompt": HATE_SPEECH})
        try:
            await mcp.wait_for_progress("no such step", timeout=0.2, since=0)
        except FlowTimeoutError as exc:
            error = exc
        else:
            raise AssertionError("the wait should have timed out")
    text = str(error)
    assert "timed out after" in text
    assert "waiting for an MCP notifications/progress matching /no such step/" in text
    assert "notifications/progress 2/2 policy_analyst finished" in text  # what did arrive
    assert "tools/call run_flow" in text  # the request, readable
    assert f"mcp client: {mcp.label} (open)" in text
