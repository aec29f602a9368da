"""The LLM seam for the reference server's agents, and a deterministic model behind it.

Agents only call :meth:`LLM.complete`, so a real model can be plugged in later. Until then
:class:`DeterministicLLM` answers from the corpus by extracting the sentences that share the most
terms with the question: relevant, cited, reproducible, and fast enough for any test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Literal, Protocol, TypedDict, get_args, runtime_checkable

from flowwright_demo.corpus import Corpus
from flowwright_demo.retrieval import tokenize

__all__ = ["LLM", "ChatTurn", "DeterministicLLM", "create_llm", "summarise"]


class ChatTurn(TypedDict):
    """One message of a conversation, in the shape chat-completion APIs use."""

    role: Literal["system", "user", "assistant"]
    content: str


@runtime_checkable
class LLM(Protocol):
    """Anything that turns a conversation into the next assistant message."""

    def complete(self, messages: Sequence[ChatTurn]) -> str:
        """The assistant's reply to ``messages`` (system prompt first, then the turns)."""
        ...


# --------------------------------------------------------------------------- extraction

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”])\s+|\n+")
_CITED = re.compile(r"\[(?P<source>[^\]]+)\]\s*(?P<text>.*)", re.DOTALL)
_BLANK_LINE = re.compile(r"\n\s*\n")


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if part.strip()]


def _overlaps(sentences: Sequence[str], query: str) -> list[int]:
    """How many distinct query terms each sentence contains."""
    terms = set(tokenize(query))
    return [len(terms.intersection(tokenize(sentence))) for sentence in sentences]


def _pick(sentences: Sequence[str], query: str, count: int) -> list[str]:
    """The ``count`` sentences sharing the most distinct terms with ``query``, in text order.

    Ties go to the earlier sentence, so with no overlap at all this is the text's lead.
    """
    overlaps = _overlaps(sentences, query)
    ranked = sorted(range(len(sentences)), key=lambda index: (-overlaps[index], index))
    return [sentences[index] for index in sorted(ranked[:count])]


def _best_match(text: str, query: str) -> str | None:
    """The sentence of ``text`` sharing the most terms with ``query``; None if none shares any."""
    sentences = _sentences(text)
    overlaps = _overlaps(sentences, query)
    best = max(range(len(sentences)), key=lambda index: (overlaps[index], -index), default=None)
    return sentences[best] if best is not None and overlaps[best] > 0 else None


def summarise(text: str, query: str, max_sentences: int = 2) -> str:
    """An extractive summary of ``text`` focused on ``query``: its most relevant sentences.

    Pure and deterministic; sentences keep their original order.
    """
    return " ".join(_pick(_sentences(text), query, max_sentences))


def _cite(sentence: str, source: str) -> str:
    body = sentence.rstrip(".!?")
    return f"{body} [{source}]{sentence[len(body) :] or '.'}"


def _terminated(sentence: str) -> str:
    return sentence if sentence.endswith((".", "!", "?", '"', "”")) else f"{sentence}."


def _split_citation(block: str) -> tuple[str, str] | None:
    """``"[source] text"`` as ``(source, text)``; None if the block does not start with one."""
    match = _CITED.match(block.strip())
    return (match["source"], match["text"].strip()) if match else None


def _sections(prompt: str, headings: Sequence[str]) -> dict[str, str]:
    """Split a prompt laid out as ``Heading: content`` blocks, headings expected in this order.

    Each heading is looked for after the previous one, so content that happens to contain a
    later heading's word cannot cut an earlier section short.
    """
    found: list[tuple[str, int, int]] = []
    position = 0
    for heading in headings:
        match = re.compile(rf"^{heading}:", re.MULTILINE).search(prompt, position)
        if match:
            found.append((heading, match.start(), match.end()))
            position = match.end()
    ends = [start for _, start, _ in found[1:]] + [len(prompt)]
    return {
        heading: prompt[begin:end].strip()
        for (heading, _, begin), end in zip(found, ends, strict=True)
    }


def _host_summary(prompt: str) -> str:
    """Two sentences: the finding most relevant to the question, then the conclusion if any.

    Findings that merely repeat the conclusion are skipped, so the two sentences say two things.
    """
    parts = _sections(prompt, ("Question", "Findings"))
    sentences = _sentences(parts.get("Findings", prompt))
    question = parts.get("Question", "")
    conclusion = next((s for s in reversed(sentences) if s.startswith("Conclusion:")), None)
    if conclusion is None:
        picked = _pick(sentences, question, 2)
    else:
        claim = conclusion.removeprefix("Conclusion:").strip().rstrip(".")
        others = [s for s in sentences if s != conclusion and claim not in s]
        picked = [*_pick(others, question, 1), conclusion]
    return " ".join(_terminated(s) for s in picked) or "There are no findings to summarise."


def _last_user_message(messages: Sequence[ChatTurn]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    raise ValueError("the conversation has no user message to respond to")


# --------------------------------------------------------------------------- the model

_Role = Literal["policy analyst", "researcher", "host", "assistant"]
"""The agent roles the deterministic model recognises in a system prompt, first match wins."""

_ROLE_PATTERNS = tuple(
    (role, re.compile(rf"\b{role}\b", re.IGNORECASE)) for role in get_args(_Role)
)

_RESEARCH_DOCUMENTS = 3
_CHAT_DOCUMENTS = 2


def _role(system_prompt: str) -> _Role | None:
    return next((role for role, pattern in _ROLE_PATTERNS if pattern.search(system_prompt)), None)


class DeterministicLLM:
    """A stand-in LLM that answers from the corpus by extraction; same prompt, same answer.

    It recognises its task from the role named in the system prompt: ``researcher``
    (summarise the cited documents), ``policy analyst`` (apply a policy, ending with a
    ``Conclusion:`` line), ``host`` (two-sentence summary) and ``assistant`` (answer the last
    user message from the corpus). Any other system prompt gets the user message's sentences
    most relevant to the system prompt. Pure: no randomness, clock or mutable state.
    """

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus
        self._by_source = {doc.source: doc for doc in corpus.documents}
        self._topics = [doc.title.lower() for doc in corpus.documents if doc.kind == "policy"]

    def complete(self, messages: Sequence[ChatTurn]) -> str:
        """Reply to ``messages``; ValueError if there is no user message."""
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        prompt = _last_user_message(messages)
        match _role(system):
            case "researcher":
                return self._research(prompt)
            case "policy analyst":
                return self._analyse(prompt)
            case "host":
                return _host_summary(prompt)
            case "assistant":
                return self._chat(prompt)
            case None:
                return summarise(prompt, system)

    def _cited_answer(self, question: str, passages: Sequence[tuple[str, str]], says: str) -> str:
        """``On <topic>, <says>: <best sentence> [source] ...``; "" if no passage is relevant."""
        cited = [
            _cite(sentence, source)
            for source, text in passages
            if (sentence := _best_match(text, question)) is not None
        ]
        if not cited:
            return ""
        return f"On {self._topic(source for source, _ in passages)}, {says}: " + " ".join(cited)

    def _topic(self, sources: Iterable[str]) -> str:
        """The title of the first policy cited, lowercased: what the answer is about."""
        documents = (self._by_source.get(source) for source in sources)
        return next(
            (doc.title.lower() for doc in documents if doc is not None and doc.kind == "policy"),
            "this question",
        )

    def _research(self, prompt: str) -> str:
        parts = _sections(prompt, ("Question", "Documents"))
        question = parts.get("Question", prompt)
        blocks = _BLANK_LINE.split(parts.get("Documents", ""))
        passages = [cited for block in blocks if (cited := _split_citation(block)) is not None]
        answer = self._cited_answer(question, passages[:_RESEARCH_DOCUMENTS], "the documents say")
        return answer or f'None of the documents address "{question}".'

    def _chat(self, question: str) -> str:
        hits = self._corpus.search(question, k=_CHAT_DOCUMENTS)
        passages = [(hit.document.source, hit.document.text) for hit in hits]
        answer = self._cited_answer(question, passages, "the corpus says")
        return answer or (
            f'I could not find anything in the corpus about "{question}". '
            f"Try asking about {', '.join(self._topics)}."
        )

    def _analyse(self, prompt: str) -> str:
        parts = _sections(prompt, ("Question", "Post", "Policy", "Research"))
        question, post = parts.get("Question", ""), parts.get("Post", "")
        cited = _split_citation(parts.get("Policy", ""))
        if cited is None:
            return "No policy was given, so there is no rule to apply.\nConclusion: none applies."
        source, text = cited
        policy = self._by_source.get(source)
        title = policy.title if policy is not None else source
        if post:
            indicators = policy.indicators if policy is not None else ()
            analysis, conclusion = _assess_post(post, question, title, text, indicators)
        else:
            analysis, conclusion = _answer_question(question, text)
        research = parts.get("Research", "")
        notes = [f"Research notes: {summarise(research, question, 1)}"] if research else []
        lines = [f"Policy: {title} [{source}].", *analysis, *notes, f"Conclusion: {conclusion}"]
        return "\n".join(lines)


def _contains_phrase(words: list[str], phrase: list[str]) -> bool:
    width = len(phrase)
    return any(words[i : i + width] == phrase for i in range(len(words) - width + 1))


def _matched_indicators(post: str, indicators: Sequence[str]) -> list[str]:
    """The policy's indicators found in the post, compared as stemmed term sequences."""
    words = tokenize(post)
    return [indicator for indicator in indicators if _contains_phrase(words, tokenize(indicator))]


def _assess_post(
    post: str, question: str, title: str, policy_text: str, indicators: Sequence[str]
) -> tuple[list[str], str]:
    """Analysis lines for a post (rules, finding) and the conclusion: (does not) violate."""
    matched = _matched_indicators(post, indicators)
    rules = summarise(policy_text, " ".join([question, post, *matched]), 2)
    if matched:
        signs = ", ".join(f'"{indicator}"' for indicator in matched)
        finding = (
            f"Finding: the post contains {signs}, which the policy lists as signs of a violation."
        )
        verdict = "violates"
    else:
        finding = "Finding: the post contains none of the signs of a violation the policy lists."
        verdict = "does not violate"
    return [f"Applicable rules: {rules}", finding], f"{verdict} {title}"


def _answer_question(question: str, policy_text: str) -> tuple[list[str], str]:
    """Analysis lines for a general question (supporting rules) and the one-sentence answer."""
    sentences = _sentences(policy_text)
    best = _pick(sentences, question, 1)
    supporting = _pick([s for s in sentences if s not in best], question, 2)
    lines = [f"Applicable rules: {' '.join(supporting)}"] if supporting else []
    return lines, " ".join(best)


# --------------------------------------------------------------------------- factory

_MODELS: Mapping[str, Callable[[Corpus], LLM]] = MappingProxyType(
    {"deterministic": DeterministicLLM}
)


def create_llm(name: str, corpus: Corpus) -> LLM:
    """The LLM called ``name``; ValueError listing the valid names if there is none."""
    try:
        factory = _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown LLM {name!r}; valid names: {', '.join(_MODELS)}") from None
    return factory(corpus)
