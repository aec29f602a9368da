"""Open the reference server's MCP side over any of the three transports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flowwright.mcp import FlowMCPClient
from flowwright_demo.corpus import Corpus
from flowwright_demo.engine import FlowEngine
from flowwright_demo.llm import create_llm
from flowwright_demo.mcp_server import create_mcp_server
from flowwright_demo.settings import default_conf_dir, load_settings

TRANSPORTS = ["stdio", "http", "memory"]
STDIO_COMMAND = [sys.executable, "-m", "flowwright_demo", "--mcp-stdio", "--config", "test"]


@pytest.fixture(params=TRANSPORTS)
def reference(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    mcp_stdio: Callable[..., FlowMCPClient],
    mcp_http: Callable[..., FlowMCPClient],
    mcp_memory: Callable[..., FlowMCPClient],
) -> FlowMCPClient:
    """An unopened client of the reference server over one transport."""
    if request.param == "stdio":
        return mcp_stdio(STDIO_COMMAND, env={"FLOWWRIGHT_STORAGE": str(tmp_path)})
    if request.param == "http":
        return mcp_http()
    settings = load_settings(default_conf_dir(), "test")
    corpus = Corpus.load()
    engine = FlowEngine(settings, corpus, create_llm(settings.server.llm, corpus))
    return mcp_memory(create_mcp_server(engine, tmp_path))
