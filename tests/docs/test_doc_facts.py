"""The docs' most drift-prone facts are the code's: options, marker arguments, fixtures,
command-line flags, links between pages, and the repository's paths.

Prose is not run like the samples are (tests/docs/test_doc_samples.py), so an option renamed
in a plugin, or a heading reworded, leaves the pages wrong without a failure. These checks
read the pages and ask the code itself — the plugins' ``pytest_addoption`` (through every
``pytest11`` entry point of the distribution), the registered ``flow`` marker, the plugins'
fixtures, each command's ``--help`` — all in this process, in well under a second.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from flowwright import cli
from flowwright.conformance.rules import RULES
from flowwright.report import __main__ as report_main
from flowwright_demo import __main__ as demo_main
from flowwright_demo.settings import ServerSettings

ROOT = Path(__file__).parents[2]
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROSE = [page for page in GUIDES if page.name != "api.md"]  # api.md is generated
PAGES = [*GUIDES, ROOT / "examples" / "tutorial" / "README.md"]
PLUGIN_OPTION = re.compile(r"--(?:flow|conformance)-[a-z][a-z-]*[a-z]|--shard|--update-snapshots")


def prose(page: Path) -> Iterator[tuple[int, str]]:
    """A page's lines outside fenced blocks, numbered from 1."""
    fenced = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield number, line


def everything(pages: Sequence[Path]) -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


# ---------------------------------------------------------------------------- links


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose(page):
        if match := re.match(r"#{1,6} (.+)", line):
            anchor = slug(match[1])
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in PAGES:
        for number, line in prose(page):
            for target in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:: not ours to check
                    continue
                path, _, anchor = target.partition("#")
                destination = (page.parent / path).resolve() if path else page
                where = f"{page.relative_to(ROOT)}:{number}: {target}"
                if not destination.exists():
                    broken.append(f"{where}: no such file")
                elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                    broken.append(f"{where}: no heading #{anchor} in {destination.name}")
    assert not broken, "broken links:\n  " + "\n  ".join(broken)


def test_the_slug_is_githubs() -> None:
    assert slug("Dialects: what your server's messages mean") == (
        "dialects-what-your-servers-messages-mean"
    )
    assert slug("`run_flow` — start a flow") == "run_flow--start-a-flow"
    assert slug("`flowwright.dialect`") == "flowwrightdialect"


# -------------------------------------------------------------------------- options


@dataclass
class _Group:
    parser: _Parser

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.parser.flags.update({name: kwargs.get("dest") for name in names})


@dataclass
class _Parser:
    """Records what a plugin's ``pytest_addoption`` declares (the calls every plugin makes)."""

    flags: dict[str, str | None] = field(default_factory=dict)  # flag -> dest (the ini name)
    ini: set[str] = field(default_factory=set)

    def getgroup(self, name: str, description: str = "") -> _Group:
        return _Group(self)

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.flags.update({name: kwargs.get("dest") for name in names})

    def addini(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.ini.add(name)


def flowwright_plugins() -> list[ModuleType]:
    """The modules of every ``pytest11`` entry point of the flowwright distribution."""
    plugins = [
        entry.load()
        for entry in entry_points(group="pytest11")
        if entry.dist is not None and entry.dist.name == "flowwright"
    ]
    assert len(plugins) >= 6, plugins
    return plugins


def declared() -> _Parser:
    """Every option of every pytest plugin the flowwright distribution registers."""
    parser = _Parser()
    for plugin in flowwright_plugins():
        addoption: Callable[[Any], None] | None = getattr(plugin, "pytest_addoption", None)
        if addoption is not None:
            addoption(parser)
    return parser


def test_every_option_the_docs_name_exists() -> None:
    options = declared()
    unknown = []
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for flag in PLUGIN_OPTION.findall(line):
                if flag not in options.flags:
                    unknown.append(f"{page.relative_to(ROOT)}:{number}: {flag}")
            # `--flow-x` (`flow_x`): the ini name given beside a flag is the flag's
            for flag, ini in re.findall(r"`(--[a-z-]+)[^`]*` \(`([a-z_]+)`\)", line):
                if flag in options.flags and (options.flags[flag] != ini or ini not in options.ini):
                    unknown.append(
                        f"{page.relative_to(ROOT)}:{number}: {flag}'s ini name is "
                        f"{options.flags[flag]}, not {ini}"
                    )
    assert not unknown, "options the plugins do not declare:\n  " + "\n  ".join(unknown)


def test_every_option_the_plugins_declare_is_documented() -> None:
    text = everything(PROSE)
    missing = [
        flag for flag in declared().flags if not re.search(re.escape(flag) + r"(?![\w-])", text)
    ]
    assert not missing, f"options named in no page of README.md or docs/: {missing}"


# ----------------------------------------------------------------- marker, fixtures


def test_the_flow_markers_arguments_are_the_documented_ones(pytestconfig: pytest.Config) -> None:
    [line] = [line for line in pytestconfig.getini("markers") if line.startswith("flow(")]
    registered = set(re.findall(r"(\w+)=", line.split(")")[0]))
    assert "timeout" in registered, line
    used: set[str] = set()
    for page in PAGES:
        for call in re.findall(r"mark\.flow\(([^)]*)\)", page.read_text(encoding="utf-8")):
            used.update(re.findall(r"(\w+)=", call))
    assert used <= registered, f"documented but not taken by the marker: {used - registered}"
    assert registered <= used, f"taken by the marker but not documented: {registered - used}"


def plugin_fixtures() -> list[str]:
    """The public fixtures the distribution's pytest plugins define."""
    names = []
    for plugin in flowwright_plugins():
        for node in ast.parse(inspect.getsource(plugin)).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                names.append(node.name)
    return [name for name in names if not name.startswith("_")]


def test_every_fixture_of_the_plugins_is_documented() -> None:
    fixtures = plugin_fixtures()
    assert {"flow_client", "flow_server", "flow_page", "flow_proxy", "mcp_stdio"} <= set(fixtures)
    text = everything(PROSE)
    missing = [name for name in fixtures if f"`{name}`" not in text and f"{name}(" not in text]
    assert not missing, f"fixtures named in no page of README.md or docs/: {missing}"


# ------------------------------------------------------------------ command lines


def help_flags(main: Callable[[list[str]], object], argv: list[str]) -> set[str]:
    """The flags a command's ``--help`` lists."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([*argv, "--help"])
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out.getvalue()))


def commands() -> dict[str, set[str]]:
    """Each command the docs show, by how it is written, with the flags it takes."""
    demo = help_flags(demo_main.main, [])
    conformance = help_flags(cli.main, ["conformance"]) | set(declared().flags)  # to pytest
    return {
        "flowwright proxy": help_flags(cli.main, ["proxy"]),
        "flowwright conformance": conformance,
        "flowwright replay": help_flags(cli.main, ["replay"]),
        "python -m flowwright.report merge": help_flags(report_main.main, ["merge"]),
        "flowwright-demo-server": demo,
        "python -m flowwright_demo": demo,
    }


def command_lines(text: str, command: str) -> Iterator[str]:
    """What follows ``command`` on its line (continuations joined): in quotes, up to the
    closing quote; else up to a comment or the end of inline code, quoted words left out."""
    text = text.replace("\\\n", " ")
    for match in re.finditer(re.escape(command) + r"(?![\w.-])", text):
        before = text[match.start() - 1] if match.start() else ""
        rest = text[match.end() :].split("\n", 1)[0]
        if before in "\"'":
            yield rest.split(before, 1)[0]
        else:
            yield re.sub(r"\"[^\"]*\"|'[^']*'", "", re.split(r"`|\s#", rest, maxsplit=1)[0])


def test_every_flag_given_to_a_command_in_the_docs_exists() -> None:
    unknown = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for command, flags in commands().items():
            for line in command_lines(text, command):
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line):
                    if flag not in flags:
                        unknown.append(f"{page.relative_to(ROOT)}: {command} ... {flag}")
    assert not unknown, "flags the commands do not take:\n  " + "\n  ".join(unknown)


def test_the_commands_are_found() -> None:
    """The check above sees the commands the docs show (else it would pass on nothing)."""
    text = everything(PAGES)
    for command in commands():
        assert any(command_lines(text, command)), command


def test_every_repository_path_the_docs_name_exists() -> None:
    """A file or directory of this repository named in backticks (a glob is skipped)."""
    repository = r"`((?:src|tests|bench|examples|scripts|frontend|\.ci)/[^`\s]*)`"
    missing = [
        f"{page.relative_to(ROOT)}:{number}: {path}"
        for page in PAGES
        for number, line in prose(page)
        for path in re.findall(repository, line)
        if "*" not in path and not (ROOT / path.rstrip("/")).exists()
    ]
    assert not missing, "paths that do not exist:\n  " + "\n  ".join(missing)


def test_every_server_setting_the_docs_name_exists() -> None:
    """`server.max_sessions`, `server.ui: false`: keys of the reference server's server.yaml."""
    unknown = [
        f"{page.relative_to(ROOT)}:{number}: server.{key}"
        for page in PAGES
        for number, line in prose(page)
        for key in re.findall(r"`server\.([a-z_]+)", line)
        if key not in ServerSettings.model_fields and key not in ("yaml", "py")  # file names
    ]
    assert not unknown, "settings the reference server does not have:\n  " + "\n  ".join(unknown)


def test_the_readme_counts_the_conformance_rules() -> None:
    """The README's row says how many rules there are (docs/conformance.md's table is
    checked rule by rule in tests/conformance/test_rules.py)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{len(RULES)} protocol rules" in text, len(RULES)
