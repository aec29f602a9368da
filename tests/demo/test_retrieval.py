"""Retrieval ranks by relevance: each topic's question finds that topic's policy first."""

from __future__ import annotations

import pytest

from flowwright_demo.corpus import Corpus, Document, Kind
from flowwright_demo.retrieval import BM25Index, Hit, stem, tokenize


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load()


def doc(doc_id: str, text: str, kind: Kind = "policy") -> Document:
    return Document(doc_id=doc_id, kind=kind, title=doc_id, text=text, source=doc_id)


# --------------------------------------------------------------------------- tokenizer


def test_tokenize_lowercases_and_drops_stopwords_and_punctuation() -> None:
    assert tokenize("What is Meta's HATE speech policy?") == ["meta", "hat", "speech", "policy"]


@pytest.mark.parametrize(
    ("words", "common"),
    [
        (["harassment", "harassing", "harassed", "harass"], "harass"),
        (["bullying", "bullies", "bullied", "bully"], "bully"),
        (["policies", "policy"], "policy"),
        (["hate", "hateful", "hates", "hated"], "hat"),
        (["violence", "violent"], "violent"),
    ],
)
def test_stem_brings_word_forms_together(words: list[str], common: str) -> None:
    assert {stem(word) for word in words} == {common}


@pytest.mark.parametrize("word", ["harass", "dangerous", "analysis", "is", "art"])
def test_stem_leaves_non_plurals_and_short_words_alone(word: str) -> None:
    assert stem(word) == word


# --------------------------------------------------------------------------- ranking


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is Meta's hate speech policy?", "policy-hate-speech"),
        ("How does the harassment policy treat bullying?", "policy-harassment"),
        ("Is graphic violence allowed?", "policy-violent-graphic"),
        ("Can users praise a terrorist organisation?", "policy-dangerous-orgs"),
        ("What about health misinformation on vaccines?", "policy-misinformation"),
        ("Is adult nudity allowed in art?", "policy-adult-nudity"),
        ("Selling fake followers: is that spam?", "policy-spam"),
        ("How are suicide and self-injury posts handled?", "policy-self-harm"),
    ],
)
def test_topic_question_ranks_its_policy_first(
    corpus: Corpus, question: str, expected: str
) -> None:
    assert corpus.search(question)[0].document.doc_id == expected


def test_cases_are_found_by_their_facts(corpus: Corpus) -> None:
    hits = corpus.search("Crimson Vanguard martyrs anniversary", k=1, kinds=("case",))
    assert [hit.document.doc_id for hit in hits] == ["case-2024-005"]


def test_hits_are_sorted_best_first_with_positive_scores(corpus: Corpus) -> None:
    hits = corpus.search("hate speech", k=10)
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(hit, Hit) and hit.score > 0 for hit in hits)


def test_same_query_same_ranking(corpus: Corpus) -> None:
    assert corpus.search("hate speech", k=10) == corpus.search("hate speech", k=10)
    assert Corpus.load().search("hate speech", k=10) == corpus.search("hate speech", k=10)


def test_ties_are_broken_by_doc_id() -> None:
    others = [doc(f"other-{n}", text) for n, text in enumerate(["spam", "nudity", "gore", "fraud"])]
    index = BM25Index([doc("b", "hate speech rules"), doc("a", "hate speech rules"), *others])
    hits = index.search("hate", k=3)
    assert [hit.document.doc_id for hit in hits] == ["a", "b"]
    assert hits[0].score == hits[1].score


def test_documents_sharing_no_term_are_dropped(corpus: Corpus) -> None:
    assert corpus.search("quantum chromodynamics") == []


def test_a_query_of_stopwords_finds_nothing(corpus: Corpus) -> None:
    assert corpus.search("what is it about?") == []


def test_k_limits_the_hits(corpus: Corpus) -> None:
    assert len(corpus.search("policy", k=2)) == 2


def test_kinds_filter(corpus: Corpus) -> None:
    hits = corpus.search("hate speech vermin", k=20, kinds=("record",))
    assert hits
    assert {hit.document.kind for hit in hits} == {"record"}


def test_titles_are_searchable() -> None:
    index = BM25Index(
        [
            Document("a", "policy", "Spam", "We remove it.", "a"),
            *(doc(f"other-{n}", f"rules {n}") for n in range(3)),
        ]
    )
    assert [hit.document.doc_id for hit in index.search("spam", k=3)] == ["a"]


def test_an_empty_index_finds_nothing() -> None:
    assert BM25Index([]).search("hate speech", k=3) == []
