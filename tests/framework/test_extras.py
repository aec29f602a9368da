"""A missing extra is named (with the pip install that brings it); other import errors are not
dressed up as one. The real thing, a core-only install, is tests/install/test_wheel.py."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from flowwright import MissingExtraError, extras
from flowwright.extras import extra_for, missing_modules, needs_extra, require_extra


@pytest.fixture
def absent_extra(monkeypatch: pytest.MonkeyPatch) -> str:
    # EXTRAS is read-only: this test's own, with one more extra
    own = MappingProxyType({**extras.EXTRAS, "absent": ("json", "no_such_module_for_flowwright")})
    monkeypatch.setattr(extras, "EXTRAS", own)
    return "absent"


def test_a_missing_module_of_the_extra_names_the_extra(absent_extra: str) -> None:
    assert missing_modules(absent_extra) == ["no_such_module_for_flowwright"]
    with pytest.raises(MissingExtraError) as raised, needs_extra(absent_extra, "the feature"):
        import no_such_module_for_flowwright.sub  # type: ignore[import-not-found]  # noqa: F401
    assert str(raised.value) == (
        'the feature needs the "absent" extra, which is not installed (no module named '
        "'no_such_module_for_flowwright'): pip install \"flowwright[absent]\" (from a checkout: "
        'pip install "/path/to/flowwright[absent]")'
    )
    assert isinstance(raised.value, ImportError)
    with pytest.raises(MissingExtraError, match=r"^the server needs the \"absent\" extra"):
        require_extra(absent_extra, "the server")


def test_any_other_import_error_goes_through(absent_extra: str) -> None:
    with pytest.raises(ModuleNotFoundError) as raised, needs_extra(absent_extra, "the feature"):
        import another_missing_module  # type: ignore[import-not-found]  # noqa: F401
    assert not isinstance(raised.value, MissingExtraError)


def test_the_installed_extras_are_complete_here() -> None:
    for extra in extras.EXTRAS:
        assert missing_modules(extra) == [], extra
        require_extra(extra, "the dev environment")


def test_the_extra_of_a_module_is_found_by_its_top_level() -> None:
    assert extra_for("playwright.async_api") == "web"
    assert extra_for("PIL") == "web"
    assert extra_for("mcp") == "mcp"  # the extra of its own, not demo's
    assert extra_for("starlette") == "demo"
    assert extra_for("yaml.constructor") == "demo"
    assert extra_for("numpy") is None
