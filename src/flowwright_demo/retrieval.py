"""Real retrieval for the reference server: a BM25 index over the corpus.

Agents must find documents by relevance, not by lookup tables, so that a question about hate
speech returns hate-speech documents. The tokenizer is small and deterministic on purpose: the
same text always gives the same terms, so rankings are reproducible.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rank_bm25 import BM25Okapi

    from flowwright_demo.corpus import Document

__all__ = ["BM25Index", "Hit", "stem", "tokenize"]

_WORD = re.compile(r"[a-z0-9]+")

# Prose, not 120 quoted strings: easier to read and to edit.
_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves
    """.split()  # noqa: SIM905
)

_PLURALS = (("sses", "ss"), ("ies", "y"), ("s", ""))
_SUFFIXES = (("ence", "ent"), ("ment", ""), ("ied", "y"), ("ing", ""), ("ful", ""), ("ed", ""))
_MIN_STEM = 3


class Hit(NamedTuple):
    """One search result: a document and its BM25 score (always positive)."""

    document: Document
    score: float


def _replace_suffix(token: str, rules: Sequence[tuple[str, str]]) -> str:
    for suffix, replacement in rules:
        stem = token.removesuffix(suffix)
        if stem != token and len(stem) >= _MIN_STEM:
            return stem + replacement
    return token


def stem(token: str) -> str:
    """Reduce a lowercase word to a crude stem, so "harassing" and "harassment" meet.

    Strips one plural ending, then one common suffix, then a final "e".
    """
    if not token.endswith(("ss", "us", "is")):
        token = _replace_suffix(token, _PLURALS)
    token = _replace_suffix(token, _SUFFIXES)
    return _replace_suffix(token, (("e", ""),))


def tokenize(text: str) -> list[str]:
    """The searchable terms of ``text``, in order: lowercased, stopwords dropped, stemmed."""
    words = _WORD.findall(text.lower())
    return [stem(word) for word in words if len(word) > 1 and word not in _STOPWORDS]


class BM25Index:
    """A BM25 (Okapi) index over documents' titles and texts.

    Ties are broken by ``doc_id`` and documents that share no term with the query are never
    returned, so results are deterministic and always at least loosely relevant.

    Built on the first search, not on creation: ``rank_bm25`` brings numpy, whose import
    would otherwise be a good part of the server's boot.
    """

    def __init__(self, documents: Sequence[Document]) -> None:
        self._documents = tuple(documents)
        self._bm25: BM25Okapi | None = None
        self._lock = threading.Lock()  # agents search from the event loop and from threads

    def _index(self) -> BM25Okapi:
        with self._lock:
            if self._bm25 is None:
                from rank_bm25 import BM25Okapi  # here, not at the top: see the docstring

                tokenized = [tokenize(f"{doc.title}\n{doc.text}") for doc in self._documents]
                self._bm25 = BM25Okapi(tokenized)
            return self._bm25

    def search(self, query: str, k: int, kinds: Collection[str] | None = None) -> list[Hit]:
        """The ``k`` best documents for ``query``, optionally only of the given ``kinds``."""
        terms = tokenize(query)
        if not self._documents or not terms:
            return []
        scores = self._index().get_scores(terms)
        hits = [
            Hit(doc, float(score))
            for doc, score in zip(self._documents, scores, strict=True)
            if score > 0 and (kinds is None or doc.kind in kinds)
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.document.doc_id))
        return hits[:k]
