"""The deterministic LLM answers each agent's prompt from the corpus: relevant and reproducible.

Prompts are built exactly as the reference server's agents build them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from flowwright_demo.corpus import Corpus
from flowwright_demo.llm import LLM, ChatTurn, DeterministicLLM, create_llm, summarise
from tests.timing import scaled

RESEARCHER = "You are a researcher. Summarise what the documents say about the question."
ANALYST = (
    "You are a policy analyst. Apply the policy to the question or post and give a conclusion."
)
HOST = "You are the host. Summarise the findings for the human in two sentences."
ASSISTANT = "You are a helpful assistant for content-moderation research."

HATE_QUESTION = "What is Meta's hate speech policy?"
HATE_SOURCE = "[Community Standard: Hate Speech (illustrative)]"
VIOLATING = {
    "rec-osb-001": "Hate Speech",
    "rec-osb-003": "Harassment and Bullying",
    "rec-osb-004": "Violent and Graphic Content",
    "rec-osb-006": "Dangerous Organisations and Individuals",
    "rec-osb-007": "Misinformation",
    "rec-tox-001": "Spam and Inauthentic Behaviour",
    "rec-tox-003": "Suicide, Self-Injury and Eating Disorders",
    "rec-tox-005": "Adult Nudity and Sexual Activity",
}
BENIGN = ["rec-osb-002", "rec-osb-005", "rec-osb-008", "rec-tox-002", "rec-tox-004", "rec-tox-006"]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load()


@pytest.fixture(scope="module")
def llm(corpus: Corpus) -> DeterministicLLM:
    return DeterministicLLM(corpus)


def ask(llm: LLM, system: str, user: str) -> str:
    return llm.complete([{"role": "system", "content": system}, {"role": "user", "content": user}])


def research(llm: LLM, corpus: Corpus, question: str, post: str = "") -> str:
    docs = [hit.document for hit in corpus.search(f"{question}\n{post}".strip(), k=3)]
    listing = "\n\n".join(f"[{doc.source}] {doc.text}" for doc in docs)
    return ask(llm, RESEARCHER, f"Question: {question}\n\nDocuments:\n{listing}")


def analyse(llm: LLM, corpus: Corpus, question: str, post: str = "", findings: str = "") -> str:
    hits = corpus.search(f"{question}\n{post}".strip(), k=1, kinds=("policy",))
    policy = f"[{hits[0].document.source}] {hits[0].document.text}" if hits else "(none found)"
    return ask(
        llm,
        ANALYST,
        f"Question: {question}\n\nPost: {post}\n\nPolicy:\n{policy}\n\nResearch:\n{findings}",
    )


def chat(llm: LLM, *questions: str) -> str:
    """Ask ``questions`` in one conversation; the answer to the last one."""
    turns: list[ChatTurn] = [{"role": "system", "content": ASSISTANT}]
    answer = ""
    for question in questions:
        turns.append({"role": "user", "content": question})
        answer = llm.complete(turns)
        turns.append({"role": "assistant", "content": answer})
    return answer


def conclusion(analysis: str) -> str:
    last = analysis.splitlines()[-1]
    assert last.startswith("Conclusion: ")
    return last.removeprefix("Conclusion: ")


# --------------------------------------------------------------------------- interface


def test_deterministic_llm_satisfies_the_protocol(llm: DeterministicLLM) -> None:
    assert isinstance(llm, LLM)


def test_any_class_with_complete_is_pluggable() -> None:
    class Echo:
        def complete(self, messages: Sequence[ChatTurn]) -> str:
            return messages[-1]["content"]

    plugged: LLM = Echo()
    assert isinstance(plugged, LLM)
    assert ask(plugged, "system", "hello") == "hello"


def test_create_llm_builds_the_deterministic_model(corpus: Corpus) -> None:
    assert isinstance(create_llm("deterministic", corpus), DeterministicLLM)


def test_create_llm_rejects_unknown_names_listing_valid_ones(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="unknown LLM 'gpt-9'; valid names: deterministic"):
        create_llm("gpt-9", corpus)


def test_a_conversation_without_a_user_message_is_an_error(llm: DeterministicLLM) -> None:
    with pytest.raises(ValueError, match="no user message"):
        llm.complete([{"role": "system", "content": ASSISTANT}])


# --------------------------------------------------------------------------- summarise


TEXT = "Cats sleep a lot. Hate speech is removed. Dogs bark. Slurs are hate speech too."


def test_summarise_keeps_the_most_relevant_sentences_in_order() -> None:
    assert summarise(TEXT, "hate speech") == "Hate speech is removed. Slurs are hate speech too."


def test_summarise_respects_max_sentences() -> None:
    assert summarise(TEXT, "slurs hate speech", max_sentences=1) == "Slurs are hate speech too."


def test_summarise_falls_back_to_the_lead_when_nothing_matches() -> None:
    assert summarise(TEXT, "volcanoes") == "Cats sleep a lot. Hate speech is removed."


def test_summarise_of_empty_text_is_empty() -> None:
    assert summarise("", "hate speech") == ""


# --------------------------------------------------------------------------- researcher


def test_researcher_answers_about_the_topic_and_cites_the_policy(
    llm: DeterministicLLM, corpus: Corpus
) -> None:
    response = research(llm, corpus, HATE_QUESTION)
    assert response.startswith("On hate speech, the documents say: ")
    assert f"{HATE_SOURCE}." in response
    assert response.count("[") == 3  # one cited sentence per retrieved document


def test_researcher_is_deterministic_across_calls_and_instances(corpus: Corpus) -> None:
    first = research(DeterministicLLM(corpus), corpus, HATE_QUESTION)
    assert research(DeterministicLLM(corpus), corpus, HATE_QUESTION) == first
    assert research(DeterministicLLM(Corpus.load()), corpus, HATE_QUESTION) == first


def test_researcher_gives_different_answers_to_different_questions(
    llm: DeterministicLLM, corpus: Corpus
) -> None:
    harassment = research(llm, corpus, "How does the harassment policy treat bullying?")
    assert harassment.startswith("On harassment and bullying, the documents say: ")
    assert "[Community Standard: Harassment and Bullying (illustrative)]" in harassment
    assert harassment != research(llm, corpus, HATE_QUESTION)


def test_researcher_says_when_no_document_is_relevant(llm: DeterministicLLM) -> None:
    response = ask(llm, RESEARCHER, "Question: volcanoes?\n\nDocuments:\n[S] Cats sleep.")
    assert response == 'None of the documents address "volcanoes?".'


# --------------------------------------------------------------------------- policy analyst


@pytest.mark.parametrize(("record_id", "title"), sorted(VIOLATING.items()))
def test_analyst_finds_violating_records_violate(
    llm: DeterministicLLM, corpus: Corpus, record_id: str, title: str
) -> None:
    analysis = analyse(llm, corpus, "Does this post break the rules?", corpus.get(record_id).text)
    assert conclusion(analysis) == f"violates {title}"
    assert "Finding: the post contains " in analysis


@pytest.mark.parametrize("record_id", BENIGN)
def test_analyst_finds_benign_records_do_not_violate(
    llm: DeterministicLLM, corpus: Corpus, record_id: str
) -> None:
    analysis = analyse(llm, corpus, "Does this post break the rules?", corpus.get(record_id).text)
    assert conclusion(analysis).startswith("does not violate ")


def test_every_record_has_an_expected_verdict(corpus: Corpus) -> None:
    assert sorted([*VIOLATING, *BENIGN]) == sorted(doc.doc_id for doc in corpus.records())


def test_counter_speech_about_hate_speech_does_not_violate(
    llm: DeterministicLLM, corpus: Corpus
) -> None:
    post = corpus.get("rec-osb-002").text
    assert "hate speech" in post
    analysis = analyse(llm, corpus, "Does this post violate the hate speech policy?", post)
    assert conclusion(analysis) == "does not violate Hate Speech"


def test_analyst_names_the_policy_and_the_matching_rule(
    llm: DeterministicLLM, corpus: Corpus
) -> None:
    analysis = analyse(llm, corpus, "Is this allowed?", corpus.get("rec-osb-001").text)
    lines = analysis.splitlines()
    assert lines[0] == f"Policy: Hate Speech {HATE_SOURCE}."
    assert lines[1].startswith("Applicable rules: ")
    assert "vermin" in lines[1]
    assert '"vermin"' in lines[2]


def test_analyst_answers_a_general_question_in_one_sentence(
    llm: DeterministicLLM, corpus: Corpus
) -> None:
    findings = research(llm, corpus, HATE_QUESTION)
    analysis = analyse(llm, corpus, HATE_QUESTION, findings=findings)
    answer = conclusion(analysis)
    assert not answer.startswith(("violates", "does not violate"))
    assert "hate speech" in answer
    assert answer.count(". ") == 0
    assert "Research notes: On hate speech" in analysis


def test_analyst_without_a_policy_says_so(llm: DeterministicLLM) -> None:
    analysis = ask(llm, ANALYST, "Question: ?\n\nPost: hi\n\nPolicy:\n(none found)\n\nResearch:\n")
    assert conclusion(analysis) == "none applies."


# --------------------------------------------------------------------------- host


def test_host_summarises_in_two_sentences_ending_with_the_conclusion(
    llm: DeterministicLLM, corpus: Corpus
) -> None:
    question, post = "Is this allowed?", corpus.get("rec-osb-001").text
    analysis = analyse(llm, corpus, question, post)
    findings = f"researcher: {research(llm, corpus, question, post)}\n\npolicy_analyst: {analysis}"
    summary = ask(llm, HOST, f"Question: {question}\n\nFindings:\n{findings}")
    first, _, second = summary.partition(" Conclusion: ")
    assert second == "violates Hate Speech."
    assert first.count(". ") == 0
    assert first in findings


def test_host_without_a_conclusion_picks_the_two_most_relevant_sentences(
    llm: DeterministicLLM,
) -> None:
    summary = ask(llm, HOST, f"Question: What about hate speech?\n\nFindings:\n{TEXT}")
    assert summary == "Hate speech is removed. Slurs are hate speech too."


# --------------------------------------------------------------------------- chat assistant


def test_chat_answers_from_the_corpus_with_a_citation(llm: DeterministicLLM) -> None:
    answer = chat(llm, "What is the hate speech policy?")
    assert answer.startswith("On hate speech, the corpus says: ")
    assert HATE_SOURCE in answer


def test_chat_answers_the_last_user_message(llm: DeterministicLLM) -> None:
    answer = chat(llm, "What is the hate speech policy?", "And what about bullying?")
    assert answer.startswith("On harassment and bullying, the corpus says: ")
    assert answer == chat(llm, "And what about bullying?")


def test_chat_is_deterministic_and_different_questions_differ(corpus: Corpus) -> None:
    questions = [
        "Is graphic violence allowed?",
        "What counts as spam?",
        "Are vaccine myths removed?",
    ]
    answers = [chat(DeterministicLLM(corpus), question) for question in questions]
    assert answers == [chat(DeterministicLLM(corpus), question) for question in questions]
    assert len(set(answers)) == len(answers)


def test_chat_says_politely_when_the_corpus_has_nothing(llm: DeterministicLLM) -> None:
    answer = chat(llm, "Tell me about quantum chromodynamics")
    assert answer.startswith(
        'I could not find anything in the corpus about "Tell me about quantum chromodynamics". '
        "Try asking about hate speech, harassment and bullying,"
    )


# --------------------------------------------------------------------------- other prompts


def test_unknown_roles_get_the_sentences_most_relevant_to_the_system_prompt(
    llm: DeterministicLLM,
) -> None:
    assert ask(llm, "You are a judge of dogs.", TEXT) == "Cats sleep a lot. Dogs bark."


def test_completion_is_fast(llm: DeterministicLLM, corpus: Corpus) -> None:
    calls = 50
    start = time.perf_counter()
    for _ in range(calls):
        research(llm, corpus, HATE_QUESTION)
        chat(llm, "What is the hate speech policy?")
    assert (time.perf_counter() - start) / calls < scaled(0.010)
