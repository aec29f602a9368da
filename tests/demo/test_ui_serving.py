"""The built UI (frontend/) at ``/``, behind the API routes; a clear 404 when it is not built."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from flowwright.runner import TestFlowRunner
from flowwright_demo.settings import ServerSettings, default_conf_dir
from tests.demo._client import of_type, open_client, start_server

REPOSITORY = Path(__file__).resolve().parents[2]
INDEX = REPOSITORY / "frontend" / "build" / "index.html"
NOT_BUILT = "the UI is not built: run ./dev setup (npm ci && npm run build in frontend/)"


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


async def test_a_websocket_to_any_other_path_is_refused(demo_server: TestFlowRunner) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(f"{demo_server.ws_url}/elsewhere"):
            pass


def server_with_ui_dir(tmp_path: Path, ui_dir: str) -> TestFlowRunner:
    """A server whose test overlay sets ``ui_dir`` (a copy of the repository's conf/)."""
    conf = tmp_path / "conf"
    shutil.copytree(default_conf_dir(), conf)
    with (conf / "test" / "server.yaml").open("a", encoding="utf-8") as overlay:
        overlay.write(f"\nui_dir: {ui_dir}\n")
    return start_server(tmp_path, "--conf-dir", str(conf))


def test_a_missing_ui_dir_answers_404_saying_how_to_build_it(tmp_path: Path) -> None:
    server = server_with_ui_dir(tmp_path, str(tmp_path / "missing"))
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            for path in ("/", "/index.html"):
                response = http.get(path)
                assert response.status_code == 404
                assert response.json() == {"detail": NOT_BUILT}
            assert http.get("/health").json()["status"] == "ok"
    finally:
        assert server.stop() == 0


def test_ui_dir_null_serves_no_ui(tmp_path: Path) -> None:
    server = server_with_ui_dir(tmp_path, "null")
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            assert http.get("/").status_code == 404
            assert http.get("/health").json()["status"] == "ok"
    finally:
        assert server.stop() == 0


def test_ui_dir_is_resolved_against_the_repository(tmp_path: Path) -> None:
    assert ServerSettings().ui_path == REPOSITORY / "frontend" / "build"
    assert ServerSettings(ui_dir=str(tmp_path)).ui_path == tmp_path
    assert ServerSettings(ui_dir=None).ui_path is None
