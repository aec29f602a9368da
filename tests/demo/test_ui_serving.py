"""The built UI (package data, built from frontend/) at ``/``, behind the API routes; a clear
404 when it is missing, right for a wheel as for a checkout."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

import flowwright_demo
from flowwright.runner import TestFlowRunner
from flowwright_demo.app import _UI  # the one class under test: its 404 for a UI-less wheel
from flowwright_demo.settings import ServerSettings, default_conf_dir, packaged_ui_dir
from tests.demo._client import of_type, open_client, start_server
from tests.demo._raw_http import exchange, handshake, port_of

INDEX = packaged_ui_dir() / "index.html"


def built_index() -> str:
    if not INDEX.is_file():
        pytest.fail(f"{INDEX} is missing: ./dev setup builds the UI (npm ci && npm run build)")
    return INDEX.read_text(encoding="utf-8")


@pytest.fixture
def http(demo_server: TestFlowRunner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.base_url, timeout=5) as client:
        yield client


def test_root_serves_the_built_ui_and_its_assets(http: httpx.Client) -> None:
    index = built_index()
    response = http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == index
    assert "<main" in index
    assert "<h1>flowwright reference flow</h1>" in index
    assets = re.findall(r'(?:href|import\()"\.?(/_app/[^"]+)"', index)
    assert assets, "index.html links no assets"
    for asset in assets:
        assert http.get(asset).status_code == 200, asset


def test_api_routes_win_over_the_ui(http: httpx.Client) -> None:
    assert http.get("/health").json()["status"] == "ok"
    assert "session_id" in http.get("/api/session").json()
    assert sorted(http.get("/api/flows").json()["flow_choices"]) == ["chat", "osb"]
    assert http.get("/api/flows/nope/info").status_code == 404
    assert http.get("/no/such/file").status_code == 404


async def test_the_websocket_route_wins_over_the_ui(demo_server: TestFlowRunner) -> None:
    async with open_client(demo_server) as client:
        await client.run_flow("osb", prompt="Is hate speech allowed?")
        await client.until(of_type("ui_message"))


async def test_a_websocket_to_any_other_path_is_refused_saying_where_sockets_are(
    demo_server: TestFlowRunner,
) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(f"{demo_server.ws_url}/elsewhere"):
            pass
    for path in [b"/elsewhere", b"/ws/", b"/ws/a%2Fb", b"/ws/../../etc/passwd"]:
        answer = await asyncio.to_thread(exchange, port_of(demo_server), handshake(path))
        assert answer.status == 404, (path, answer)
        assert json.loads(answer.body) == {
            "error": "no WebSocket at this path: a session's socket is /ws/{session_id}, the id "
            "one non-empty path segment"
        }


def server_with(tmp_path: Path, setting: str) -> TestFlowRunner:
    """A server whose test overlay adds ``setting`` (a copy of the package's conf/)."""
    conf = tmp_path / "conf"
    shutil.copytree(default_conf_dir(), conf)
    with (conf / "test" / "server.yaml").open("a", encoding="utf-8") as overlay:
        overlay.write(f"\n{setting}\n")
    return start_server(tmp_path, "--conf-dir", str(conf))


def test_a_missing_ui_dir_answers_404_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    server = server_with(tmp_path, f"ui_dir: {missing}")
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            for path in ("/", "/index.html"):
                response = http.get(path)
                assert response.status_code == 404
                assert response.json() == {
                    "detail": f"the UI directory {missing} (server.ui_dir) does not exist"
                }
            assert http.get("/health").json()["status"] == "ok"
    finally:
        assert server.stop() == 0


def test_a_package_without_its_ui_says_how_it_is_built_not_to_run_dev(tmp_path: Path) -> None:
    missing = tmp_path / "flowwright_demo" / "ui"
    app = Starlette(routes=[Mount("/", app=_UI(missing, packaged=True))])
    with TestClient(app) as http:
        response = http.get("/")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith(f"the reference UI is not part of this installation: {missing} ")
    assert "npm ci && npm run build in frontend/" in detail
    assert "./dev" not in detail  # advice that is wrong outside this repository


def test_ui_false_serves_no_ui(tmp_path: Path) -> None:
    server = server_with(tmp_path, "ui: false")
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            assert http.get("/").status_code == 404
            assert http.get("/").text == "Not Found"
            assert http.get("/health").json()["status"] == "ok"
    finally:
        assert server.stop() == 0


def test_the_ui_is_package_data_unless_ui_dir_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = Path(flowwright_demo.__file__).parent
    assert ServerSettings().ui_path == packaged_ui_dir() == package / "ui"
    assert ServerSettings(ui_dir=str(tmp_path)).ui_path == tmp_path
    monkeypatch.chdir(tmp_path)
    assert ServerSettings(ui_dir="built").ui_path == tmp_path / "built"
    assert ServerSettings(ui=False).ui_path is None


def test_symlinks_in_the_ui_dir_never_serve_what_is_outside_nor_fail(tmp_path: Path) -> None:
    """Links out of the directory are not followed; a link loop (``os.stat`` fails with
    ELOOP) is a 404 like any missing file, not a 500 with a traceback."""
    ui = tmp_path / "ui"
    shutil.copytree(packaged_ui_dir(), ui)
    secret = tmp_path / "secret.txt"
    secret.write_text("FLOWWRIGHT-SECRET\n", encoding="utf-8")
    (ui / "leak.txt").symlink_to(secret)
    (ui / "up").symlink_to(tmp_path)
    (ui / "loop").symlink_to(ui / "loop")
    (ui / "dangling").symlink_to(ui / "nothing")
    server = server_with(tmp_path, f"ui_dir: {ui}")
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            for path in ["/leak.txt", "/up/secret.txt", "/up/", "/loop", "/loop/x", "/dangling"]:
                response = http.get(path)
                assert (response.status_code, response.text) == (404, "Not Found"), path
            # A link that leads back inside is followed.
            assert http.get("/up/ui/index.html").text == built_index()
    finally:
        assert server.stop() == 0
    log = Path(str(server.log_path)).read_text(encoding="utf-8")
    assert "Traceback" not in log, server.describe(30)
