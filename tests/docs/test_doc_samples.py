"""Every ```python block of the README, docs/ and the tutorial is run or at least compiled.

A block that defines ``test_`` functions is run as a test module and must pass — or, after a
``<!-- fails: TEXT -->`` line, must fail with TEXT in its output. A block after
``<!-- file: NAME -->`` must equal that file (relative to the page). Other blocks must
compile, top-level ``await`` allowed. Blocks that are not Python use another fence language.

The test blocks run together, each as its own module, in one fresh pytest (a subprocess with
pytest-asyncio's auto mode): one pytest start and one server boot in all, not one per block.
Each block is still its own test here, judged by its module's outcome in that run's JUnit
XML, so a failure names the block and shows its own output.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flowwright.web.a11y import ENV_AXE_SCRIPT
from flowwright.web.screenshot import ENV_CI
from flowwright_demo.settings import packaged_ui_dir

ROOT = Path(__file__).parents[2]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "examples" / "tutorial" / "README.md",
]
UI_BUILD = packaged_ui_dir() / "index.html"
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
MARKER = re.compile(r"<!-- (fails|file): (.*) -->")


@dataclass(frozen=True)
class Sample:
    page: Path
    line: int  # of the opening fence
    code: str
    marker: tuple[str, str] | None  # ("fails", text) or ("file", name), from the line before

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def is_test(self) -> bool:
        return re.search(r"^(async )?def test_", self.code, re.MULTILINE) is not None


def samples(page: Path) -> list[Sample]:
    found: list[Sample] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    fence: str | None = None
    start, body = 0, list[str]()
    for number, line in enumerate(lines, 1):
        if fence is None and line.startswith("```"):
            fence, start, body = line[3:].strip(), number, []
        elif fence is not None and line.startswith("```"):
            if fence == "python":
                marker = MARKER.fullmatch(lines[start - 2]) if start >= 2 else None
                code = "\n".join(body) + "\n"
                found.append(Sample(page, start, code, (marker[1], marker[2]) if marker else None))
            fence = None
        elif fence is not None:
            body.append(line)
    return found


SAMPLES = [sample for page in PAGES for sample in samples(page)]


@dataclass
class Outcome:
    """How one sample's module fared in its page's run: counts of tests, and its output."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    output: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.output)


def _needs_ui(sample: Sample) -> bool:
    return re.search(r"\b(flow_page|ui_flow)\b", sample.code) is not None


def _outcomes(junit: Path, modules: dict[str, Sample]) -> dict[Sample, Outcome]:
    """Each sample's outcome from the run's JUnit XML (a collection error counts as a
    failure of the module that failed to import)."""
    found = {sample: Outcome() for sample in modules.values()}
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname") or case.get("name", "").removesuffix(".py")
        sample = modules.get(module.partition(".")[0])
        if sample is None:
            continue
        outcome = found[sample]
        problems = case.findall("failure") + case.findall("error")
        if problems:
            outcome.failed += 1
        elif case.find("skipped") is not None:
            outcome.skipped += 1
        else:
            outcome.passed += 1
        for part in [*problems, *case.findall("system-out"), *case.findall("system-err")]:
            outcome.output += [part.get("message") or "", part.text or ""]
    return found


def _module(sample: Sample) -> str:
    """``README.md:26`` → ``test_readme_md_l26``: a unique module name per sample."""
    page = re.sub(r"\W+", "_", str(sample.page.relative_to(ROOT)).lower())
    return f"test_{page}_l{sample.line}"


def _run_samples(directory: Path) -> dict[Sample, Outcome]:
    """Run every test sample (those that need the UI only if it is built), each as its own
    module, in one pytest in ``directory``; returns each sample's outcome."""
    (directory / "pytest.ini").write_text(INI, encoding="utf-8")
    modules: dict[str, Sample] = {}
    for sample in SAMPLES:
        if sample.is_test and (UI_BUILD.exists() or not _needs_ui(sample)):
            modules[_module(sample)] = sample
            (directory / f"{_module(sample)}.py").write_text(sample.code, encoding="utf-8")
    # A pytest of its own, not a child of this one (nor of its workers).
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop(ENV_CI, None)  # a first screenshot writes its baseline
    env.pop(ENV_AXE_SCRIPT, None)  # the web extra's axe-core
    junit = directory / "junit.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",  # a sample that fails to import stops no other
            f"--basetemp={directory / 'tmp'}",
            f"--junitxml={junit}",
            "-o",
            "junit_logging=all",
            *(f"{module}.py" for module in modules),
        ],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if not junit.exists():  # pytest itself failed: every sample shows why
        output = done.stdout + done.stderr
        return {sample: Outcome(failed=1, output=[output]) for sample in modules.values()}
    return _outcomes(junit, modules)


@pytest.fixture(scope="session")
def sample_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[Sample, Outcome]:
    """Every test sample's outcome, from one run on first use."""
    return _run_samples(tmp_path_factory.mktemp("doc-samples"))


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_sample(sample: Sample, request: pytest.FixtureRequest) -> None:
    if sample.marker and sample.marker[0] == "file":
        copy = sample.page.parent / sample.marker[1]
        assert sample.code == copy.read_text(encoding="utf-8"), (
            f"{sample.name} differs from {copy.relative_to(ROOT)}: keep them identical"
        )
    if not sample.is_test:
        compile(sample.code, sample.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    if _needs_ui(sample) and not UI_BUILD.exists():
        pytest.skip("the UI is not built: ./dev setup builds it")
    outcome = request.getfixturevalue("sample_outcomes")[sample]  # only a test sample runs them
    if sample.marker and sample.marker[0] == "fails":
        assert outcome.failed == 1, (
            f"the sample at {sample.name} did not fail once:\n{outcome.text}"
        )
        assert sample.marker[1] in outcome.text, outcome.text
    else:
        assert outcome.failed == 0, f"the sample at {sample.name} failed:\n{outcome.text}"
        assert outcome.passed > 0, f"the sample at {sample.name} ran no test:\n{outcome.text}"


def test_every_tutorial_step_is_in_the_tutorial() -> None:
    shown = {s.marker[1] for s in SAMPLES if s.marker and s.marker[0] == "file"}
    steps = {path.name for path in (ROOT / "examples" / "tutorial").glob("test_*.py")}
    assert steps
    assert steps <= shown, f"not shown in examples/tutorial/README.md: {steps - shown}"


def test_samples_are_found() -> None:
    assert sum(sample.is_test for sample in SAMPLES) >= 10


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.*)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = page.parent / path if path else page
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in _anchors(dest)):
            broken.append(target)
    assert not broken, f"broken links in {page.relative_to(ROOT)}: {broken}"
