"""Accessibility checks: axe-core run inside the page, every violation named in the failure.

axe-core is Deque's JavaScript engine, not a Python port: the same rules a front-end team runs
in its own tooling. It is injected into the page under test as a script and run there against
the live DOM, so what is checked is what the browser rendered. The script comes with the
``web`` extra, from the PyPI package ``axe-playwright-python``, which ships axe-core's
``axe.min.js`` (MPL-2.0, its notice at the top of the file): no npm needed. A script of your
own (another axe-core version) wins when named.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowwright.errors import AxeNotFoundError
from flowwright.web.config import web_settings

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = [
    "AXE_PACKAGE",
    "ENV_AXE_SCRIPT",
    "Violation",
    "assert_accessible",
    "check_accessibility",
    "find_axe_script",
]

ENV_AXE_SCRIPT = "FLOWWRIGHT_AXE_SCRIPT"
AXE_PACKAGE = "axe_playwright_python"
"""The package of the ``web`` extra that ships axe-core's ``axe.min.js`` (as a data file of the
package: read with importlib.resources, none of its code is run; tested with 0.1.8, which
ships axe-core 4.12.1)."""

DEFAULT_TAGS = ("wcag2a", "wcag2aa")


@dataclass(frozen=True)
class Violation:
    """One axe rule the page breaks, and where."""

    rule: str
    impact: str | None
    help: str
    help_url: str
    targets: tuple[str, ...]
    """A CSS selector for each offending element (``iframe >>> element`` inside frames)."""

    def __str__(self) -> str:
        lines = [f"  {self.rule} [{self.impact or 'unknown impact'}] {self.help}"]
        lines.append(f"    {self.help_url}")
        lines.extend(f"    - {target}" for target in self.targets)
        return "\n".join(lines)


def find_axe_script(axe_script: str | os.PathLike[str] | None = None) -> Path:
    """axe-core's script: the argument, else the option, else the env var, else the one the
    ``web`` extra installs (:data:`AXE_PACKAGE`).

    Raises :class:`AxeNotFoundError` naming each place looked and how to get axe-core.
    """
    given = axe_script or web_settings.axe_script or os.environ.get(ENV_AXE_SCRIPT)
    if given:
        path = Path(given)
        if not path.is_file():
            raise AxeNotFoundError(
                f"axe-core script {str(path)!r} is not a file; give the path of axe.min.js "
                f"(npm install axe-core puts it in node_modules/axe-core/axe.min.js), or name "
                f'none and use the one the "web" extra installs'
            )
        return path
    shipped: Path | None
    try:
        shipped = Path(str(resources.files(AXE_PACKAGE).joinpath("axe.min.js")))
    except ModuleNotFoundError:
        shipped = None
    if shipped is None or not shipped.is_file():
        raise AxeNotFoundError(
            f"no axe-core script: the package {AXE_PACKAGE.replace('_', '-')!r} that brings it "
            'is not installed (pip install "flowwright[web]"), and neither --flow-axe-script '
            f"(ini flow_axe_script) nor {ENV_AXE_SCRIPT} names one"
        )
    return shipped


async def check_accessibility(
    page: Page,
    *,
    tags: Iterable[str] = DEFAULT_TAGS,
    rules: Mapping[str, bool] | None = None,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    axe_script: str | os.PathLike[str] | None = None,
) -> list[Violation]:
    """Run axe-core in ``page``; the violations of the rules tagged ``tags``.

    ``rules`` switches single rules on or off on top of the tags (``{"color-contrast":
    False}``); ``include`` / ``exclude`` are CSS selectors limiting the part of the page
    checked.
    """
    if not await page.evaluate("typeof window.axe === 'object'"):
        source = find_axe_script(axe_script).read_text(encoding="utf-8")
        await page.add_script_tag(content=source)
    options: dict[str, Any] = {"runOnly": {"type": "tag", "values": list(tags)}}
    if rules:
        options["rules"] = {rule: {"enabled": enabled} for rule, enabled in rules.items()}
    context: dict[str, Any] = {}
    if include:
        context["include"] = _selectors(include)
    if exclude:
        context["exclude"] = _selectors(exclude)
    result = await page.evaluate(
        "([context, options]) => axe.run(Object.keys(context).length ? context : document,"
        " options)",
        [context, options],
    )
    return [
        Violation(
            rule=found["id"],
            impact=found.get("impact"),
            help=found["help"],
            help_url=found["helpUrl"],
            targets=tuple(_target(node["target"]) for node in found["nodes"]),
        )
        for found in result["violations"]
    ]


async def assert_accessible(
    page: Page,
    *,
    tags: Iterable[str] = DEFAULT_TAGS,
    rules: Mapping[str, bool] | None = None,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    axe_script: str | os.PathLike[str] | None = None,
) -> None:
    """Fail, listing each violation (rule, impact, selectors, help URL) and the axe-core
    version that found them, unless axe finds none.

    The arguments are :func:`check_accessibility`'s; by default WCAG 2 A and AA rules.
    """
    __tracebackhide__ = True
    tags = tuple(tags)
    violations = await check_accessibility(
        page, tags=tags, rules=rules, include=include, exclude=exclude, axe_script=axe_script
    )
    if violations:
        version = await page.evaluate("axe.version")
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {page.url} "
            f"(axe-core {version}, tags {', '.join(tags)}):\n" + "\n".join(map(str, violations))
        )


def _selectors(value: str | Sequence[str]) -> list[list[str]]:
    return [[value]] if isinstance(value, str) else [[selector] for selector in value]


def _target(target: list[Any]) -> str:
    """axe's target: a selector per frame level (shadow DOM levels are lists themselves)."""
    return " >>> ".join(
        " >> ".join(part) if isinstance(part, list) else str(part) for part in target
    )
