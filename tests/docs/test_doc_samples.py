"""Every ```python block of the README, docs/ and the tutorial is run or at least compiled.

A block that defines ``test_`` functions is run as a test module in a fresh pytest (pytester,
a subprocess with pytest-asyncio's auto mode) and must pass — or, after a
``<!-- fails: TEXT -->`` line, must fail with TEXT in its output. A block after
``<!-- file: NAME -->`` must equal that file (relative to the page). Other blocks must
compile, top-level ``await`` allowed. Blocks that are not Python use another fence language.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
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
    start, body = 0, []
    for number, line in enumerate(lines, 1):
        if fence is None and line.startswith("```"):
            fence, start, body = line[3:].strip(), number, []
        elif fence is not None and line.startswith("```"):
            if fence == "python":
                marker = MARKER.fullmatch(lines[start - 2]) if start >= 2 else None
                code = "\n".join(body) + "\n"
                found.append(Sample(page, start, code, marker.groups() if marker else None))
            fence = None
        elif fence is not None:
            body.append(line)
    return found


SAMPLES = [sample for page in PAGES for sample in samples(page)]


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_sample(sample: Sample, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    if sample.marker and sample.marker[0] == "file":
        copy = sample.page.parent / sample.marker[1]
        assert sample.code == copy.read_text(encoding="utf-8"), (
            f"{sample.name} differs from {copy.relative_to(ROOT)}: keep them identical"
        )
    if not sample.is_test:
        compile(sample.code, sample.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    if re.search(r"\b(flow_page|ui_flow)\b", sample.code) and not UI_BUILD.exists():
        pytest.skip("the UI is not built: ./dev setup builds it")
    monkeypatch.delenv(ENV_CI, raising=False)  # a first screenshot writes its baseline
    monkeypatch.delenv(ENV_AXE_SCRIPT, raising=False)  # the web extra's axe-core
    pytester.makeini(INI)
    pytester.makepyfile(test_sample=sample.code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)
    output = result.stdout.str()
    if sample.marker and sample.marker[0] == "fails":
        assert result.parseoutcomes().get("failed") == 1, output
        assert sample.marker[1] in output, output
    else:
        assert result.ret == 0, f"the sample at {sample.name} failed:\n{output}"


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
