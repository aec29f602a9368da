"""docs/api.md is generated from the docstrings, is up to date, and every public name has one."""

from __future__ import annotations

from scripts import api_docs


def test_every_public_name_has_a_docstring() -> None:
    missing = api_docs.undocumented()
    assert not missing, "public names without a docstring:\n  " + "\n  ".join(missing)


def test_the_api_reference_is_up_to_date() -> None:
    written = api_docs.OUTPUT.read_text(encoding="utf-8")
    assert written == api_docs.render(), (
        "docs/api.md is out of date: run `python scripts/api_docs.py` (or `./dev docs`)"
    )


def test_it_documents_every_public_name_of_every_module() -> None:
    text = api_docs.render()
    for module_name in api_docs.MODULES:
        assert f"## `{module_name}`" in text
        for name in __import__(module_name, fromlist=["__all__"]).__all__:
            assert f"### `{name}" in text or f"### `class {name}" in text, (module_name, name)
