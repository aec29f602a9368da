"""Configuration: base + overlay composed by deep merge; every mistake named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowwright_demo.settings import ConfigError, default_conf_dir, load_settings

OSB = """
kind: pipeline
description: d
agents:
  - {role: researcher, name: R, description: finds}
  - {role: policy_analyst, name: P, description: applies}
options: {step_delay: 0.5}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_repository_config_loads_with_and_without_the_test_overlay() -> None:
    base = load_settings(default_conf_dir())
    test = load_settings(default_conf_dir(), "test")
    assert set(base.flows) == set(test.flows) >= {"osb", "chat"}
    assert base.server.host == test.server.host == "127.0.0.1"
    assert (test.server.log_level, test.server.log_file) == ("DEBUG", None)  # debug to stderr
    assert test.server.tracing is False
    assert test.flows["osb"].agents == base.flows["osb"].agents
    assert test.flows["osb"].step_roles == ["researcher", "policy_analyst"]


def test_an_overlay_merges_key_by_key(tmp_path: Path) -> None:
    conf = write(
        tmp_path,
        {
            "flows/osb.yaml": OSB,
            "ci/server.yaml": "max_frame_bytes: 1024\n",
            "ci/flows/osb.yaml": "options: {confirm_each_step: true}\n",
            "ci/flows/extra.yaml": OSB,
        },
    )
    settings = load_settings(conf, "ci")
    assert settings.server.max_frame_bytes == 1024
    assert settings.server.log_level == "INFO"
    options = settings.flows["osb"].options
    assert (options.confirm_each_step, options.step_delay) == (True, 0.5)
    assert set(settings.flows) == {"osb", "extra"}


@pytest.mark.parametrize(
    ("files", "config", "expected"),
    [
        ({"server.yaml": "max_frame_byts: 10\n"}, None, ["server.yaml", "max_frame_byts"]),
        ({"server.yaml": "tracing: true\n"}, None, ["server.yaml", "tracing"]),
        ({"server.yaml": "- a list\n"}, None, ["server.yaml", "mapping"]),
        ({"flows/x.yaml": "kind: [\n"}, None, ["x.yaml", "YAML"]),
        ({"flows/x.yaml": OSB.replace("pipeline", "pipelin")}, None, ["x.yaml", "kind"]),
        ({"flows/x.yaml": OSB + "steps: [judge]\n"}, None, ["x.yaml", "steps", "judge"]),
        ({"flows/x.yaml": OSB.replace("researcher,", "judge,")}, None, ["x.yaml", "role"]),
        ({"flows/x.yaml": OSB + "faults: {explode: 1}\n"}, None, ["x.yaml", "explode"]),
        ({"flows/x.yaml": OSB.replace("pipeline", "chat")}, None, ["x.yaml", "one agent"]),
        ({"server.yaml": ""}, None, ["no flow definitions"]),
        ({"flows/x.yaml": OSB}, "missing", ["missing", "no such config overlay"]),
        (
            {"flows/x.yaml": OSB, "t/flows/x.yaml": "options: {step_delay: soon}\n"},
            "t",
            ["flows/x.yaml + ", "t/flows/x.yaml", "options.step_delay"],
        ),
        ({"flows/x.yaml": OSB, "t/stray.yaml": "a: 1\n"}, "t", ["stray.yaml", "unexpected"]),
    ],
)
def test_config_errors_name_the_file_and_the_key(
    tmp_path: Path, files: dict[str, str], config: str | None, expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, files), config)
    for part in expected:
        assert part in str(raised.value)
