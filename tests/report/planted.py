"""A suite whose flows carry planted markup, for the report's escaping and rendering tests."""

from __future__ import annotations

import struct
import zlib

PLANT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
"""Markup that would run if the report did not escape agent output."""


def png(width: int = 4, height: int = 3) -> bytes:
    """A valid solid-colour PNG, made here so the tests need no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x20\x80\xe0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


REPORTED_SUITE = f"""
import pytest
from flowwright import FlowTestClient
from flowwright.report import attach

PLANT = {PLANT!r}

async def test_planted_markup_in_every_message():
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", PLANT)
        await client.wait_for_ui_message()
        await client.send_manager_response("Yes, please proceed")
        await client.wait_for_completion()
    attach("screenshot", {png()!r})
    attach("axe", [{{"id": "color-contrast", "impact": "serious", "help": PLANT,
                     "nodes": [{{"target": ["#send"], "html": PLANT}}]}}])

async def test_waits_for_what_never_comes():
    async with FlowTestClient.create() as client:
        await client.start_flow("osb", "What is the hate speech policy?")
        await client.wait_for_agent_results(["researcher"], timeout=0.5)

def test_skipped():
    attach("check", [{{"check": "skipped-one", "evidence": PLANT}}], summary="checks")
    pytest.skip("not today")
"""
