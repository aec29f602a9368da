"""Bad input is answered with a system_error naming the problem; nothing else is disturbed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from flowwright.runner import TestFlowRunner
from tests.demo._client import DemoClient, of_type, open_client

QUESTION = "Is hate speech against migrants allowed?"


def frame(**fields: Any) -> str:
    return json.dumps(fields)


BAD_INPUT: list[tuple[str, str | bytes, list[str]]] = [
    ("bad JSON", '{"type": "run_flow", ', ["invalid JSON"]),
    ("JSON array", "[1, 2]", ["expected a JSON object", "list"]),
    ("JSON string", '"run_flow"', ["expected a JSON object", "str"]),
    ("unknown type", frame(type="dance"), ["unknown message type 'dance'", "run_flow"]),
    ("no type", frame(prompt="hi"), ["unknown message type None"]),
    ("missing flow", frame(type="run_flow", prompt="hi"), ["flow", "required"]),
    ("unknown flow", frame(type="run_flow", flow="nope"), ["unknown flow 'nope'", "osb", "chat"]),
    (
        "unknown record",
        frame(type="run_flow", flow="osb", record_id="rec-nope"),
        ["unknown record_id 'rec-nope'", "rec-osb-001"],
    ),
    (
        "a policy is not a record",
        frame(type="run_flow", flow="osb", record_id="policy-hate-speech"),
        ["unknown record_id 'policy-hate-speech'"],
    ),
    (
        "bad parameter",
        frame(type="run_flow", flow="osb", prompt="hi", step_delay="slow"),
        ["step_delay"],
    ),
    (
        "unknown fault",
        frame(type="run_flow", flow="osb", prompt="hi", fault={"explode": True}),
        ["unknown field 'explode'"],
    ),
    (
        "oversize frame",
        frame(type="run_flow", flow="osb", prompt="x" * 70_000),
        ["too large", "70", "65536"],
    ),
    (
        "unknown manager field",
        frame(type="manager_response", confrim=True),
        ["unknown field 'confrim'"],
    ),
    ("answer without a flow", frame(type="manager_response", confirm=True), ["no flow is running"]),
    ("binary frame", b"\x00\x01binary", ["binary"]),
    ("JSON null", "null", ["expected a JSON object", "NoneType"]),
    ("JSON number", "42", ["expected a JSON object", "int"]),
    ("type is an array", frame(type=[]), ["'type' must be a string, got an array"]),
    ("type is an object", frame(type={}), ["'type' must be a string, got an object"]),
    ("type is a number", frame(type=1), ["'type' must be a string, got a number"]),
    ("type is a boolean", frame(type=True), ["'type' must be a string, got a boolean"]),
    ("nested past Python's limit", "[" * 10_000 + "]" * 10_000, ["nested too deeply", "32"]),
    (
        "a valid envelope nested deep",
        '{"type": "run_flow", "flow": "osb", "prompt": "hi", "extra": '
        + ("[" * 1000 + "]" * 1000)
        + "}",
        ["nested too deeply"],
    ),
    ("nested just too deep", "[" * 33 + "]" * 33, ["nested too deeply: the limit is 32 levels"]),
    (
        "a lone surrogate",
        '{"type": "run_flow", "flow": "osb", "prompt": "\\ud800"}',
        ["invalid text: a lone surrogate"],
    ),
]


async def run_osb_to_completion(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    await client.answer(confirm=True)
    await client.until_completed()


@pytest.mark.parametrize(
    ("bad", "expected"),
    [(bad, expected) for _, bad, expected in BAD_INPUT],
    ids=[n for n, *_ in BAD_INPUT],
)
async def test_bad_input_is_answered_and_the_connection_goes_on(
    client: DemoClient, bad: str | bytes, expected: list[str]
) -> None:
    await client.send(bad)
    content = await client.error()
    for part in expected:
        assert part in content
    await run_osb_to_completion(client)


async def test_oversize_frame_states_its_size(client: DemoClient) -> None:
    bad = frame(type="run_flow", flow="osb", prompt="x" * 70_000)
    await client.send(bad)
    assert f"{len(bad.encode())} bytes" in await client.error()


async def test_answer_while_an_agent_works_is_refused(client: DemoClient) -> None:
    await client.run_flow(
        "osb", prompt=QUESTION, fault={"slow_agent": "researcher", "seconds": 0.5}
    )
    await client.prompt()
    await client.answer(confirm=True)
    await client.until(of_type("system_update", status="started", role="researcher"))
    await client.answer(confirm=True)
    assert "nothing is awaiting an answer" in await client.error()
    await client.until_completed()


async def test_run_flow_while_one_runs_is_refused(client: DemoClient) -> None:
    await client.run_flow("osb", prompt=QUESTION)
    await client.prompt()
    await client.run_flow("chat", prompt="hello")
    assert "already running" in await client.error()
    await client.answer(confirm=True)
    await client.until_completed()


async def test_a_new_run_may_start_as_soon_as_flow_completed_arrives(client: DemoClient) -> None:
    await run_osb_to_completion(client)
    await client.run_flow("chat", prompt="hello")  # the old run may still be closing
    await client.prompt()
    assert not [m for m in client.messages if of_type("system_error")(m)]


async def test_bad_input_disturbs_no_other_session(demo_server: TestFlowRunner) -> None:
    async with open_client(demo_server) as bystander, open_client(demo_server) as troublemaker:
        await bystander.run_flow("osb", prompt=QUESTION)
        await bystander.prompt()
        for _, bad, _ in BAD_INPUT:
            await troublemaker.send(bad)
            await troublemaker.error()
        await bystander.answer(confirm=True)
        await bystander.until_completed()
        assert not [m for m in bystander.messages if of_type("system_error")(m)]


async def test_nesting_up_to_the_limit_is_fine(client: DemoClient) -> None:
    await client.send("[" * 32 + "]" * 32)
    assert "expected a JSON object, got list" in await client.error()


async def test_invalid_utf8_in_a_text_frame_closes_with_1007(demo_server: TestFlowRunner) -> None:
    async with open_client(demo_server) as client:
        await client.connection.send(b'{"type": "\xff\xfe"}', text=True)
        with pytest.raises(ConnectionClosed) as caught:
            await client.until(lambda _: False)
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1007  # invalid frame payload data
    async with open_client(demo_server) as other:  # the server goes on
        await run_osb_to_completion(other)


async def test_a_frame_over_the_socket_limit_closes_with_1009(
    demo_server: TestFlowRunner,
) -> None:
    async with open_client(demo_server) as client:
        await client.send(frame(type="run_flow", flow="osb", prompt="x" * (2 << 20)))
        with pytest.raises(ConnectionClosed) as caught:
            await client.until(lambda _: False)
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1009  # message too big
    async with open_client(demo_server) as other:
        await run_osb_to_completion(other)
