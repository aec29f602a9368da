"""The shipped corpus is complete and well-formed, and bad corpus data fails loudly on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowwright_demo.corpus import DEFAULT_CORPUS_DIR, Corpus, CorpusError, Document

POLICY = """\
- id: policy-test
  title: Test Policy
  indicators: [forbidden phrase]
  text: We remove posts with the forbidden phrase.
"""
CASE = """\
- id: case-2024-001
  title: A test case
  text: A user posted the forbidden phrase. The removal was upheld.
"""
RECORD = """\
- id: rec-test-001
  name: A test post
  dataset: test-sample
  text: Hello world.
"""


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load()


def write_corpus(directory: Path, policies: str = POLICY, cases: str = CASE) -> Path:
    (directory / "policies.yaml").write_text(policies, encoding="utf-8")
    (directory / "cases.yaml").write_text(cases, encoding="utf-8")
    (directory / "records.yaml").write_text(RECORD, encoding="utf-8")
    return directory


# --------------------------------------------------------------------------- shipped corpus


def test_default_corpus_has_policies_cases_and_records(corpus: Corpus) -> None:
    kinds = [doc.kind for doc in corpus.documents]
    assert kinds.count("policy") >= 8
    assert kinds.count("case") >= 8
    assert kinds.count("record") >= 10
    assert Corpus.load(DEFAULT_CORPUS_DIR).documents == corpus.documents


def test_documents_are_labelled_illustrative_or_fictional(corpus: Corpus) -> None:
    for doc in corpus.documents:
        if doc.kind == "policy":
            assert doc.source == f"Community Standard: {doc.title} (illustrative)"
            assert "illustrative" in doc.text
        elif doc.kind == "case":
            assert "(fictional)" in doc.source
            assert "fictional" in doc.text


@pytest.mark.parametrize(("kind", "low", "high"), [("policy", 120, 250), ("case", 80, 160)])
def test_documents_are_short(corpus: Corpus, kind: str, low: int, high: int) -> None:
    lengths = {doc.doc_id: len(doc.text.split()) for doc in corpus.documents if doc.kind == kind}
    assert {doc_id: n for doc_id, n in lengths.items() if not low <= n <= high} == {}


def test_every_policy_has_indicators(corpus: Corpus) -> None:
    policies = [doc for doc in corpus.documents if doc.kind == "policy"]
    assert all(doc.indicators for doc in policies)


def test_hate_speech_is_covered_by_a_policy_a_case_and_a_record(corpus: Corpus) -> None:
    assert "hate speech" in corpus.get("policy-hate-speech").text.lower()
    assert "hate speech" in corpus.get("case-2024-001").text.lower()
    assert "vermin" in corpus.get("rec-osb-001").text


def test_text_is_one_line(corpus: Corpus) -> None:
    assert not [doc.doc_id for doc in corpus.documents if "\n" in doc.text]


def test_get_returns_the_document(corpus: Corpus) -> None:
    doc = corpus.get("policy-hate-speech")
    assert isinstance(doc, Document)
    assert (doc.kind, doc.title, doc.dataset) == ("policy", "Hate Speech", None)


def test_get_unknown_id_says_what_ids_look_like(corpus: Corpus) -> None:
    with pytest.raises(KeyError, match=r"no document 'policy-nope'.*'policy-hate-speech'"):
        corpus.get("policy-nope")


def test_records_are_listed_per_dataset(corpus: Corpus) -> None:
    assert corpus.datasets() == ["osb-sample", "tox-sample"]
    osb = corpus.records("osb-sample")
    tox = corpus.records("tox-sample")
    assert [doc.doc_id for doc in osb][:2] == ["rec-osb-001", "rec-osb-002"]
    assert {doc.dataset for doc in osb} == {"osb-sample"}
    assert {doc.dataset for doc in tox} == {"tox-sample"}
    assert corpus.records() == osb + tox
    assert all(doc.kind == "record" and doc.source.startswith("Record ") for doc in osb)


def test_unknown_dataset_lists_the_datasets(corpus: Corpus) -> None:
    with pytest.raises(KeyError, match="no dataset 'nope'; datasets: osb-sample, tox-sample"):
        corpus.records("nope")


def test_search_finds_policies_and_cases_by_default(corpus: Corpus) -> None:
    hits = corpus.search("What is Meta's hate speech policy?")
    assert hits[0].document.doc_id == "policy-hate-speech"
    assert len(hits) == 3
    assert {hit.document.kind for hit in hits} <= {"policy", "case"}


def test_search_can_be_limited_to_records(corpus: Corpus) -> None:
    hits = corpus.search("vermin filth", k=5, kinds=("record",))
    assert [hit.document.doc_id for hit in hits] == ["rec-osb-001"]


def test_search_rejects_unknown_kinds(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match=r"unknown kinds \['post'\]"):
        corpus.search("hate speech", kinds=("post",))


# --------------------------------------------------------------------------- bad data


def test_a_valid_custom_corpus_loads(tmp_path: Path) -> None:
    corpus = Corpus.load(write_corpus(tmp_path))
    assert [doc.doc_id for doc in corpus.documents] == [
        "policy-test",
        "case-2024-001",
        "rec-test-001",
    ]
    assert corpus.get("policy-test").indicators == ("forbidden phrase",)
    assert corpus.get("case-2024-001").source == (
        "Oversight Board-style case 2024-001 (fictional): A test case"
    )


def test_missing_field_names_file_entry_and_field(tmp_path: Path) -> None:
    cases = CASE + "- id: case-2024-002\n  title: No text\n"
    with pytest.raises(CorpusError) as info:
        Corpus.load(write_corpus(tmp_path, cases=cases))
    message = str(info.value)
    assert str(tmp_path / "cases.yaml") in message
    assert "entry #2 (id 'case-2024-002')" in message
    assert "text: Field required" in message


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    policies = POLICY + "  severity: high\n"
    with pytest.raises(CorpusError, match=r"policies\.yaml: entry #1 \(id 'policy-test'\): sev"):
        Corpus.load(write_corpus(tmp_path, policies=policies))


def test_bad_id_is_rejected(tmp_path: Path) -> None:
    cases = CASE.replace("case-2024-001", "case-one")
    with pytest.raises(CorpusError, match=r"entry #1 \(id 'case-one'\): id: String should match"):
        Corpus.load(write_corpus(tmp_path, cases=cases))


def test_indicator_without_searchable_words_is_rejected(tmp_path: Path) -> None:
    policies = POLICY.replace("[forbidden phrase]", "[forbidden phrase, 'the and of']")
    with pytest.raises(CorpusError, match="indicator 'the and of' has no searchable words"):
        Corpus.load(write_corpus(tmp_path, policies=policies))


def test_entry_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"cases\.yaml: entry #2: entry: Input should be"):
        Corpus.load(write_corpus(tmp_path, cases=CASE + "- just a string\n"))


def test_file_that_is_not_a_list_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"policies\.yaml: expected a list of entries, got dict"):
        Corpus.load(write_corpus(tmp_path, policies="id: policy-test\n"))


def test_invalid_yaml_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"cases\.yaml: not valid YAML"):
        Corpus.load(write_corpus(tmp_path, cases="- id: [unclosed\n"))


def test_missing_file_is_named(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    (tmp_path / "records.yaml").unlink()
    with pytest.raises(CorpusError, match=r"records\.yaml: file not found"):
        Corpus.load(tmp_path)


def test_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="nowhere: corpus directory not found"):
        Corpus.load(tmp_path / "nowhere")


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="duplicate document id 'case-2024-001'"):
        Corpus.load(write_corpus(tmp_path, cases=CASE + CASE))
