"""The reference server's documents: illustrative policies, fictional cases and records to assess.

The data ships as YAML beside this module (``corpus/``) so it can be read and edited as prose;
it is validated on load so a typo fails loudly, naming the file and the entry, not mid-flow.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flowwright_demo.retrieval import BM25Index, Hit, tokenize

__all__ = ["DEFAULT_CORPUS_DIR", "Corpus", "CorpusError", "Document", "Kind"]

DEFAULT_CORPUS_DIR = Path(__file__).with_name("corpus")

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the same data, 40 times faster than the pure
Python one, whose parse of the corpus was a tenth of the server's boot."""

Kind = Literal["policy", "case", "record"]


class CorpusError(ValueError):
    """The corpus data is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable document. ``source`` is how answers cite it."""

    doc_id: str
    kind: Kind
    title: str
    text: str
    source: str
    dataset: str | None = None
    """The dataset a record belongs to; ``None`` for policies and cases."""
    indicators: tuple[str, ...] = ()
    """For policies: words or phrases whose presence in a post signals a violation."""


# --------------------------------------------------------------------------- file schemas


class _Entry(BaseModel):
    """One YAML entry; each file's subclass adds its fields and builds the :class:`Document`."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _one_line(cls, text: str) -> str:
        return " ".join(text.split())

    @abstractmethod
    def to_document(self) -> Document:
        """The document this entry describes."""


class _PolicyEntry(_Entry):
    id: str = Field(pattern=r"^policy-[a-z0-9-]+$")
    title: str = Field(min_length=1)
    indicators: tuple[str, ...] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _searchable(cls, indicators: tuple[str, ...]) -> tuple[str, ...]:
        for indicator in indicators:
            if not tokenize(indicator):
                raise ValueError(f"indicator {indicator!r} has no searchable words")
        return indicators

    def to_document(self) -> Document:
        return Document(
            doc_id=self.id,
            kind="policy",
            title=self.title,
            text=self.text,
            source=f"Community Standard: {self.title} (illustrative)",
            indicators=self.indicators,
        )


class _CaseEntry(_Entry):
    id: str = Field(pattern=r"^case-\d{4}-\d{3}$")
    title: str = Field(min_length=1)

    def to_document(self) -> Document:
        number = self.id.removeprefix("case-")
        return Document(
            doc_id=self.id,
            kind="case",
            title=self.title,
            text=self.text,
            source=f"Oversight Board-style case {number} (fictional): {self.title}",
        )


class _RecordEntry(_Entry):
    id: str = Field(pattern=r"^rec-[a-z0-9-]+$")
    name: str = Field(min_length=1)
    dataset: str = Field(pattern=r"^[a-z0-9-]+$")

    def to_document(self) -> Document:
        return Document(
            doc_id=self.id,
            kind="record",
            title=self.name,
            text=self.text,
            source=f"Record {self.id} ({self.dataset})",
            dataset=self.dataset,
        )


_FILES: Mapping[Kind, tuple[str, type[_Entry]]] = MappingProxyType(
    {
        "policy": ("policies.yaml", _PolicyEntry),
        "case": ("cases.yaml", _CaseEntry),
        "record": ("records.yaml", _RecordEntry),
    }
)


def _describe(errors: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'entry'}: {error['msg']}"
        for error in errors.errors()
    )


def _read_entries(path: Path) -> list[Any]:
    if not path.is_file():
        raise CorpusError(f"{path}: file not found (a corpus directory needs {_file_names()})")
    try:
        entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # a safe loader
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(entries, list):
        raise CorpusError(f"{path}: expected a list of entries, got {type(entries).__name__}")
    return entries


def _load_file(path: Path, schema: type[_Entry]) -> list[Document]:
    documents = []
    for number, raw in enumerate(_read_entries(path), start=1):
        label = f"entry #{number}"
        if isinstance(raw, dict) and "id" in raw:
            label += f" (id {raw['id']!r})"
        try:
            entry = schema.model_validate(raw)
        except ValidationError as exc:
            raise CorpusError(f"{path}: {label}: {_describe(exc)}") from exc
        documents.append(entry.to_document())
    return documents


def _file_names() -> str:
    return ", ".join(name for name, _ in _FILES.values())


# --------------------------------------------------------------------------- corpus


class Corpus:
    """An immutable set of documents with a search index, built once."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self._documents = tuple(documents)
        self._by_id: dict[str, Document] = {}
        for doc in self._documents:
            if doc.doc_id in self._by_id:
                raise CorpusError(f"duplicate document id {doc.doc_id!r}")
            self._by_id[doc.doc_id] = doc
        self._index = BM25Index(self._documents)

    @classmethod
    def load(cls, path: Path | None = None) -> Corpus:
        """Load and validate ``policies.yaml``, ``cases.yaml`` and ``records.yaml`` from ``path``.

        ``path`` defaults to the corpus shipped with the package. Raises :class:`CorpusError`.
        """
        directory = DEFAULT_CORPUS_DIR if path is None else path
        if not directory.is_dir():
            raise CorpusError(f"{directory}: corpus directory not found")
        return cls(
            doc for name, schema in _FILES.values() for doc in _load_file(directory / name, schema)
        )

    @property
    def documents(self) -> tuple[Document, ...]:
        """All documents: policies, then cases, then records, each in file order."""
        return self._documents

    def get(self, doc_id: str) -> Document:
        """The document with ``doc_id``; :class:`KeyError` if there is none."""
        try:
            return self._by_id[doc_id]
        except KeyError:
            first_of_kind = {doc.kind: doc.doc_id for doc in reversed(self._documents)}
            examples = ", ".join(repr(first_of_kind[kind]) for kind in sorted(first_of_kind))
            raise KeyError(
                f"no document {doc_id!r} in the corpus of {len(self._documents)} documents "
                f"(ids look like {examples})"
            ) from None

    def datasets(self) -> list[str]:
        """The names of the record datasets, sorted."""
        return sorted({doc.dataset for doc in self._documents if doc.dataset is not None})

    def records(self, dataset: str | None = None) -> list[Document]:
        """All records, or those of one ``dataset`` (:class:`KeyError` if it does not exist)."""
        if dataset is not None and dataset not in self.datasets():
            raise KeyError(f"no dataset {dataset!r}; datasets: {', '.join(self.datasets())}")
        return [
            doc
            for doc in self._documents
            if doc.kind == "record" and (dataset is None or doc.dataset == dataset)
        ]

    def search(
        self, query: str, k: int = 3, kinds: Collection[str] = ("policy", "case")
    ) -> list[Hit]:
        """The ``k`` documents of the given ``kinds`` most relevant to ``query``, best first."""
        unknown = set(kinds) - set(get_args(Kind))
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; kinds: {', '.join(get_args(Kind))}")
        return self._index.search(query, k, kinds)
