"""Bad input is answered, never met with silence or a dropped socket."""

from __future__ import annotations

import pytest

from flowwright.conformance.checker import Checker

__all__: list[str] = []  # checks: pytest collects them, nobody imports them

pytestmark = pytest.mark.asyncio  # whatever asyncio_mode the running suite has


@pytest.mark.conformance("bad-json")
async def test_a_frame_that_is_not_json_is_answered(conformance: Checker) -> None:
    async with conformance.client() as client:
        frame = '{"type": "run_flow", "flow":'
        await conformance.expect_error(client, frame, "a frame that is not JSON")


@pytest.mark.conformance("unknown-type")
async def test_an_unknown_message_type_is_answered(conformance: Checker) -> None:
    async with conformance.client() as client:
        frame = conformance.frame({"type": "flowwright_conformance_dance"})
        await conformance.expect_error(client, frame, "a message of an unknown type")


@pytest.mark.conformance("unknown-flow")
async def test_an_unknown_flow_is_answered(conformance: Checker) -> None:
    async with conformance.client() as client:
        frame = conformance.frame(
            {"type": "run_flow", "flow": "no-such-flow-conformance", "prompt": conformance.prompt}
        )
        await conformance.expect_error(client, frame, "run_flow for an unknown flow")


@pytest.mark.conformance("missing-fields")
async def test_a_run_flow_without_its_flow_is_answered(conformance: Checker) -> None:
    async with conformance.client() as client:
        frame = conformance.frame({"type": "run_flow", "prompt": conformance.prompt})
        await conformance.expect_error(client, frame, "run_flow without a flow")


@pytest.mark.conformance("oversize-frame")
async def test_an_oversize_frame_is_answered(conformance: Checker) -> None:
    size = conformance.oversize_bytes
    async with conformance.client() as client:
        padding = "x" * size
        frame = conformance.frame({"type": "flowwright_conformance_oversize", "padding": padding})
        await conformance.expect_error(client, frame, f"a frame of {len(frame)} bytes")
