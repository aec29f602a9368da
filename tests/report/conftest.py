"""Fixtures of the report tests: a pytester suite with the plugin's ini."""

from __future__ import annotations

import pytest

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester
