"""Configuration: YAML files composed into one validated :class:`Settings`.

A config directory has ``server.yaml`` and ``flows/<name>.yaml``; a named overlay such as
``conf/test/`` has the same layout and is deep-merged on top (the package's own configuration
is package data, ``flowwright_demo/conf``). Every problem becomes a
:class:`ConfigError` naming the file(s) and the key, because a server that starts with a
mistyped option is worse than one that refuses to start.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowwright.protocol import describe_validation_error
from flowwright_demo.faults import Faults

__all__ = [
    "AgentSpec",
    "ConfigError",
    "FlowDefinition",
    "FlowOptions",
    "Role",
    "ServerSettings",
    "Settings",
    "default_conf_dir",
    "load_settings",
    "packaged_ui_dir",
]

_M = TypeVar("_M", bound=BaseModel)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (as in ``corpus.py``): the same data, read at
every boot without PyYAML's pure-Python scanner."""

Role = Literal["researcher", "policy_analyst", "assistant"]
"""The agent roles this server implements (see ``agents.py``)."""


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in YAML must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Strict):
    """``server.yaml``: how the process runs."""

    host: str = "127.0.0.1"
    llm: str = "deterministic"
    tracing: Literal[False] = False
    """Buttermilk's key, kept for compatibility: this server has no tracing backend."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: str | None = None
    """Relative paths are resolved against the storage directory."""
    storage: str | None = None
    """Where session transcripts go; ``None`` means a fresh temporary directory."""
    max_frame_bytes: int = Field(default=64 * 1024, gt=0)
    resume_buffer: int = Field(default=1000, gt=0)
    """How many of its most recent messages a session keeps for clients that reconnect."""
    resume_grace_seconds: float = Field(default=30.0, ge=0)
    """How long a session's flow outlives its last socket, waiting for a reconnect."""
    max_sessions: int = Field(default=1000, gt=0)
    """Live sessions at most (lowered to fit the process's open-file limit); a socket that
    would start one more is refused at its handshake with HTTP 503."""
    max_sockets_per_session: int = Field(default=8, gt=0)
    """Sockets open at once on one session at most; one more is refused at its handshake with
    HTTP 503, except a resume (``?resume_after=``), which replaces the oldest (close 1008)."""
    allow_faults: bool = False
    """Whether clients may inject faults (``run_flow`` ``fault``, flow YAML ``faults:``): one
    can end the server process, so only test servers allow them (``--allow-faults``)."""
    allowed_origins: list[str] = Field(default_factory=list)
    """Web pages (``scheme://host[:port]``, ``:*`` for any port, ``*`` for any origin) that
    may open sockets and call the API, besides the server's own and loopback pages."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """``Host`` header values (``name`` or ``name:port``, ``name:*``, ``*``) accepted besides
    loopback names and the bind address: a guard against DNS rebinding."""
    ui: bool = True
    """Whether the UI is served at ``/`` (behind every API route)."""
    ui_dir: str | None = None
    """A built UI of your own to serve; ``None``: the package's own (:func:`packaged_ui_dir`).
    A relative path is resolved against the server's working directory."""

    @property
    def ui_path(self) -> Path | None:
        """The directory served at ``/``, or ``None`` when ``ui`` is off."""
        if not self.ui:
            return None
        return Path(self.ui_dir).resolve() if self.ui_dir else packaged_ui_dir()


class AgentSpec(_Strict):
    """One agent of a flow, as the flow's YAML describes it."""

    role: Role
    name: str
    description: str


class FlowOptions(_Strict):
    """Per-flow behaviour; each can be overridden by a ``run_flow`` parameter of the same name."""

    confirm_each_step: bool = False
    step_delay: float = Field(default=0.0, ge=0, le=60)
    max_turns: int | None = Field(default=None, gt=0)


class FlowDefinition(_Strict):
    """``flows/<name>.yaml``: which logic runs (``kind``), with which agents, in which order."""

    kind: Literal["pipeline", "chat"]
    description: str
    agents: list[AgentSpec] = Field(min_length=1)
    steps: list[str] | None = None
    """Roles in the order they run (pipeline flows); defaults to the order of ``agents``."""
    options: FlowOptions = Field(default_factory=FlowOptions)
    criteria: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    faults: Faults = Field(default_factory=Faults)

    @model_validator(mode="after")
    def _steps_name_agents(self) -> FlowDefinition:
        roles = [agent.role for agent in self.agents]
        if len(set(roles)) != len(roles):
            raise ValueError(f"agents: each role may appear once, got {roles}")
        unknown = [step for step in self.steps or [] if step not in roles]
        if unknown:
            raise ValueError(f"steps: {unknown} name no agent of this flow (agents: {roles})")
        if self.kind == "chat" and len(roles) != 1:
            raise ValueError(f"agents: a chat flow has exactly one agent, got {roles}")
        return self

    @property
    def step_roles(self) -> list[str]:
        return list(self.steps) if self.steps is not None else [a.role for a in self.agents]


class Settings(_Strict):
    """Everything the server needs, validated."""

    server: ServerSettings = Field(default_factory=ServerSettings)
    flows: dict[str, FlowDefinition]


def default_conf_dir() -> Path:
    """The configuration shipped inside this package (``flowwright_demo/conf``), found as
    package data wherever the package is installed; ``--conf-dir`` or
    ``FLOWWRIGHT_DEMO_CONF`` name another."""
    return Path(str(resources.files("flowwright_demo").joinpath("conf")))


def packaged_ui_dir() -> Path:
    """The reference UI as package data (``flowwright_demo/ui``), where the frontend's build
    writes it (``npm run build`` in ``frontend/``) and the wheel ships it."""
    return Path(str(resources.files("flowwright_demo").joinpath("ui")))


def load_settings(
    conf_dir: Path, config: str | None = None, *, allow_faults: bool = False
) -> Settings:
    """Read ``conf_dir`` and, if ``config`` is given, the overlay ``conf_dir/config/``;
    ``allow_faults`` (``--allow-faults``) turns fault injection on whatever the files say."""
    if not conf_dir.is_dir():
        raise ConfigError(f"{conf_dir}: config directory not found")
    tree, sources = _read_layer(conf_dir)
    if config:
        overlay = conf_dir / config
        if not overlay.is_dir() or config in {"flows", "."} or "/" in config:
            raise ConfigError(f"{overlay}: no such config overlay directory")
        layer, layer_sources = _read_layer(overlay)
        tree = _deep_merge(tree, layer)
        for section, files in layer_sources.items():
            sources.setdefault(section, []).extend(files)
    server = _validate(ServerSettings, tree.get("server", {}), sources.get("server", []))
    if allow_faults:
        server = server.model_copy(update={"allow_faults": True})
    if not tree.get("flows"):
        raise ConfigError(f"{conf_dir / 'flows'}: no flow definitions (*.yaml) found")
    flows = {
        name: _validate(FlowDefinition, data, sources[f"flows.{name}"])
        for name, data in sorted(tree["flows"].items())
    }
    faulty = [name for name, flow in flows.items() if flow.faults != Faults()]
    if faulty and not server.allow_faults:
        where = " + ".join(str(path) for name in faulty for path in sources[f"flows.{name}"])
        raise ConfigError(
            f"{where}: faults: fault injection is off on this server: set "
            "server.allow_faults: true (as the test configuration does) or pass --allow-faults"
        )
    return Settings(server=server, flows=flows)


def _read_layer(directory: Path) -> tuple[dict[str, Any], dict[str, list[Path]]]:
    """One config layer as a tree, with the files that fed each section (for error messages)."""
    tree: dict[str, Any] = {"flows": {}}
    sources: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*.y*ml")):
        if path.stem != "server":
            raise ConfigError(
                f"{path}: unexpected config file (expected server.yaml, flows/*.yaml)"
            )
        tree["server"] = _read_yaml(path)
        sources["server"] = [path]
    for path in sorted((directory / "flows").glob("*.y*ml")):
        tree["flows"][path.stem] = _read_yaml(path)
        sources[f"flows.{path.stem}"] = [path]
    return tree, sources


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value in ``override`` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(model: type[_M], data: Any, files: list[Path]) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = " + ".join(str(path) for path in files) or "(defaults)"
        raise ConfigError(f"{where}: {describe_validation_error(exc)}") from None
