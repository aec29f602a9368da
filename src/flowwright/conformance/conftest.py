"""The suite's one fixture: a :class:`Checker` on the server under test, for the check's rule."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
import pytest_asyncio

from flowwright.conformance.checker import Checker
from flowwright.conformance.plugin import options_key, rule_of
from flowwright.context import current
from flowwright.server import FlowServer

__all__ = ["conformance"]

_flow_key = pytest.StashKey[str]()


@pytest_asyncio.fixture
async def conformance(request: pytest.FixtureRequest) -> Checker:
    """The check's :class:`Checker`: the server, its dialect, the flow to run, the limits."""
    rule = rule_of(request.node)
    assert rule is not None, "the conformance fixture is for checks marked with their rule"
    settings = current().settings
    if settings.server is None:
        raise pytest.UsageError("the conformance suite needs the flowwright pytest plugin")
    server: FlowServer = await asyncio.to_thread(settings.server)
    options = request.config.stash[options_key]
    if _flow_key not in request.config.stash:
        flow = options.flow
        if not flow:
            flow = await asyncio.to_thread(_default_flow, server, settings.dialect.flows_path)
        request.config.stash[_flow_key] = flow
    return Checker(
        rule_id=rule.id,
        server=server,
        dialect=settings.dialect,
        flow=request.config.stash[_flow_key],
        prompt=options.prompt,
        answer_time=options.answer_time,
        oversize_bytes=options.oversize_bytes,
    )


def _default_flow(server: FlowServer, path: str | None) -> str:
    """``osb`` if the server lists it (or cannot say), else the first flow it lists."""
    if path is None:
        return "osb"
    try:
        with urllib.request.urlopen(server.base_url + path, timeout=10) as response:
            flows = json.loads(response.read()).get("flow_choices") or []
    except (OSError, ValueError, AttributeError):
        return "osb"
    if "osb" in flows or not flows or not isinstance(flows[0], str):
        return "osb"
    return str(flows[0])
