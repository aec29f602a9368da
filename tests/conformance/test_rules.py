"""Every rule is documented as it is stated, and every check is one rule's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import flowwright.conformance
from flowwright.conformance import RULES, rule

DOC = Path(__file__).parents[2] / "docs" / "conformance.md"
CHECKS = Path(flowwright.conformance.__file__).parent


def test_the_docs_table_states_each_rule_as_the_suite_does() -> None:
    rows = re.findall(r"^\| `([a-z][a-z-]+)` \| (.+?) \|$", DOC.read_text(encoding="utf-8"), re.M)
    assert dict(rows) == {rule_id: found.statement for rule_id, found in RULES.items()}


def test_each_rule_has_exactly_one_check() -> None:
    marked = []
    for module in sorted(CHECKS.glob("test_*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.mark.conformance":
                marked.append(ast.literal_eval(node.args[0]))
    assert sorted(marked) == sorted(RULES)


def test_an_unknown_rule_is_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no conformance rule 'halt-endz'; rules: bad-json, "):
        rule("halt-endz")
