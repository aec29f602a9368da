"""The HTTP endpoints: health, sessions, and the REST shapes Buttermilk's UI calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from flowwright.runner import TestFlowRunner


@pytest.fixture
def http(demo_server: TestFlowRunner) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.base_url, timeout=5) as client:
        yield client


def test_health_reports_the_sessions_and_their_limit(http: httpx.Client) -> None:
    health = http.get("/health").json()
    assert health["status"] == "ok"
    assert 0 <= health["sessions"] <= health["max_sessions"] == 1000


def test_session_ids_are_fresh_uuid4s_with_their_own_tokens(http: httpx.Client) -> None:
    first, second = (http.get("/api/session").json() for _ in range(2))
    assert set(first) == {"session_id", "session_token"}
    assert uuid.UUID(first["session_id"]).version == 4
    assert first["session_id"] != second["session_id"]
    assert first["session_token"] != second["session_token"]
    assert len(first["session_token"]) >= 32


def test_flow_choices(http: httpx.Client) -> None:
    assert sorted(http.get("/api/flows").json()["flow_choices"]) == ["chat", "osb"]


def test_flow_info(http: httpx.Client) -> None:
    info = http.get("/api/flows/osb/info").json()
    assert set(info) == {"criteria", "models", "datasets"}
    assert "hate speech" in info["criteria"]
    assert info["models"] == ["deterministic"]
    assert "osb-sample" in info["datasets"]


def test_records_of_a_dataset(http: httpx.Client) -> None:
    records = http.get("/api/flows/osb/datasets/osb-sample/records").json()
    assert {"record_id": "rec-osb-001", "name": "Veldorian neighbours"} in records
    assert all(set(record) == {"record_id", "name"} for record in records)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/flows/nope/info", "unknown flow 'nope' (available: chat, osb)"),
        ("/api/flows/nope/datasets/osb-sample/records", "unknown flow 'nope'"),
        ("/api/flows/osb/datasets/nope/records", "unknown dataset 'nope'"),
        # A client's text is repeated cut, with its length, however long it was.
        ("/api/flows/" + "n" * 3000 + "/info", "unknown flow '" + "n" * 100 + "'... (3000 ch"),
    ],
)
def test_unknown_names_are_a_404_that_says_why(
    http: httpx.Client, path: str, expected: str
) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert expected in response.json()["error"]
