"""FlowServer: what flowwright needs of a server; a server it did not start answers what it can."""

from __future__ import annotations

from flowwright import FlowServer, RemoteServer, TestFlowRunner
from flowwright.recording import Recording
from flowwright.replay import ReplayServer


def test_a_remote_server_is_known_by_its_url_and_no_ops_the_rest() -> None:
    server = RemoteServer("ws://127.0.0.1:8000/")
    assert (server.base_url, server.ws_url) == ("http://127.0.0.1:8000", "ws://127.0.0.1:8000")
    assert RemoteServer("https://flows.example").ws_url == "wss://flows.example"
    assert server.log_tail() == []
    assert server.wait_exited(0) is None
    called: list[int] = []
    server.on_exit(called.append)()  # subscribing and unsubscribing are harmless
    assert called == []
    assert "not started by flowwright" in server.describe(session="s")


def test_every_kind_of_server_offers_the_whole_interface() -> None:
    servers: list[FlowServer] = [
        RemoteServer("http://127.0.0.1:1"),
        TestFlowRunner(["true"]),
        ReplayServer(Recording(())),
    ]
    for server in servers:
        for name in ("base_url", "ws_url", "describe", "log_tail", "on_exit", "wait_exited"):
            assert hasattr(server, name), (type(server).__name__, name)
