"""The README's UI test passes exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowwright.web.a11y import AXE_IN_FRONTEND
from flowwright.web.screenshot import ENV_CI
from tests.web.test_browser import INI
from tests.web.test_reference_ui import BUILD

ROOT = Path(__file__).parents[2]


def readme_ui_test() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Testing the UI") :]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the README's 'Testing the UI' section has no python block"
    return found.group(1)


def test_the_readme_ui_test_passes_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert BUILD.exists(), "the UI is not built: ./dev setup builds frontend/build"
    monkeypatch.delenv(ENV_CI, raising=False)  # its first run writes its baseline
    pytester.makeini(INI)
    pytester.makepyfile(test_ui=readme_ui_test())
    axe = ROOT / AXE_IN_FRONTEND
    pytester.runpytest_subprocess("--flow-axe-script", str(axe)).assert_outcomes(passed=1)
    assert (pytester.path / "__snapshots__" / "status-completed.png").is_file()
