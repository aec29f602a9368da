"""The server boots without what it may never need: the MCP SDK and the BM25 index come on
first use (``mcp_endpoint.py``, ``retrieval.py``), and still work when they do.

No timing here (the bench measures boot time): these tests check what is imported, and that
the lazily built parts behave as the eager ones did.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from flowwright.runner import TestFlowRunner
from flowwright_demo.corpus import Corpus
from tests.demo._client import TIMEOUT, mcp_initialize, open_client, start_server


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


BOOT = (
    "import flowwright_demo.__main__\n"
    "from flowwright_demo.corpus import Corpus\n"
    "from flowwright_demo.llm import create_llm\n"
    "create_llm('deterministic', Corpus.load())"
)


def test_booting_imports_neither_the_mcp_sdk_nor_numpy() -> None:
    loaded = {name.partition(".")[0] for name in imported_after(BOOT)}
    assert "flowwright_demo" in loaded  # the probe itself worked
    assert not loaded & {"mcp", "mcp_types", "numpy", "rank_bm25"}


def test_booting_takes_only_the_wire_protocol_from_the_framework() -> None:
    """The server speaks the protocol: the test client, websockets' client and pytest (which
    the client's test scope needs) stay out of it."""
    loaded = imported_after(BOOT)
    framework = {name for name in loaded if name.partition(".")[0] == "flowwright"}
    assert "flowwright.protocol" in framework  # the probe itself worked
    assert framework <= {
        "flowwright",
        "flowwright.category",
        "flowwright.errors",
        "flowwright.extras",
        "flowwright.loopback",
        "flowwright.protocol",
    }
    assert not loaded & {"pytest", "websockets.asyncio.client"}


def test_the_index_is_built_on_the_first_search_and_ranks_as_before() -> None:
    corpus = Corpus.load()
    first = corpus.search("hate speech against migrants", k=3)
    assert any("hate speech" in hit.document.text.lower() for hit in first), first
    assert corpus.search("hate speech against migrants", k=3) == first
    assert corpus.search("the a of", k=3) == [], "a query of stopwords finds nothing"


INITIALIZE = mcp_initialize("test_fast_boot")
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def test_concurrent_first_mcp_requests_all_succeed(tmp_path: Path) -> None:
    server: TestFlowRunner = start_server(tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as http:
            answers = await asyncio.gather(
                *(http.post("/mcp", json=INITIALIZE, headers=HEADERS) for _ in range(3))
            )
            for answer in answers:
                assert answer.status_code == 200, answer.text
                assert '"serverInfo"' in answer.text
                assert "flowwright-demo" in answer.text
            sessions = {answer.headers.get("mcp-session-id") for answer in answers}
            assert len(sessions) == 3, "each client got a session of its own"
            # the WebSocket side is unaffected by the MCP server starting
            async with open_client(server) as client:
                await client.run_flow("osb", prompt="Is hate speech allowed?")
                await client.prompt()
    finally:
        code = server.stop()
    assert code == 0, server.describe(30)
