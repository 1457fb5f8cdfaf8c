"""The embedded default answerer: picks the most relevant sentences of the retrieved passages and cites them.

No model writes anything here. Every sentence of an answer is a verbatim slice of the passage its [n]
marker points to, so a citation can never be invented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..embed.base import Embedder, VectorCache
from ..schema import Citation, Draft, Passage, Question
from ..text import fold, split_sentences, tokenize
from . import messages
from .evidence import expected_answer_type, quotes_answer_type

_SENTENCE_END = re.compile(r"[。！？!?；;]|(?<![\d.])\.(?!\d)")  # "3." numbers a list, it ends nothing
_LIST_MARK = re.compile(r"^(?:[•·\-–*]\s*|\d{1,2}[.、]\s*|[一二三四五六七八九十]+、)")
MIN_SENTENCE_CHARS = {"zh": 12, "en": 40}


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: verbatim text, the passage it comes from, and its order there."""

    text: str
    passage_rank: int
    order: int


def candidate_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Sentences of the passages, line by line, with list markers trimmed and headings dropped."""
    out: list[Sentence] = []
    for rank, passage in enumerate(passages):
        lang = passage.chunk.lang
        order = 0
        for line in passage.chunk.text.split("\n"):
            if not _SENTENCE_END.search(line):
                continue  # a heading ("典型案例解剖:某医疗器械生态的蜕变之路") is not an answer
            for sentence in split_sentences(line):
                trimmed = _LIST_MARK.sub("", sentence).strip()
                if len(trimmed) < MIN_SENTENCE_CHARS[lang] or trimmed.endswith(("?", "？", ":", "：")):
                    continue  # headings, questions and list intros do not answer anything on their own
                out.append(Sentence(trimmed, rank, order))
                order += 1
    return out


class ExtractiveAnswerer:
    """Query-focused sentence selection with redundancy control (a small maximal-marginal-relevance loop)."""

    backend = "extractive"

    def __init__(self, sentence_encoder: Embedder, max_sentences: int = 3, max_per_passage: int = 2) -> None:
        self.encoder = sentence_encoder
        self.sentence_cache = VectorCache(20000)  # passages recur across questions; encode each sentence once
        self.max_sentences = max_sentences
        self.max_per_passage = max_per_passage

    def answer(self, question: Question, passages: Sequence[Passage]) -> Draft:
        """Compose a short cited answer from `passages` (best first)."""
        sentences = candidate_sentences(passages)
        if not sentences:
            return Draft("", ())
        kind = expected_answer_type(question)
        must = (lambda text: quotes_answer_type(text, kind)) if kind is not None else None
        chosen = self._select(question.text, sentences, must)
        if not chosen:
            # Asked "how many / when / who" and no relevant sentence holds a figure, a date or a name:
            # quoting loosely related sentences would look like an answer and is not one.
            return Draft("", (), refused=True)
        chosen.sort(key=lambda s: (s.passage_rank, s.order))
        numbers: dict[int, int] = {}
        parts: list[str] = []
        for sentence in chosen:
            n = numbers.setdefault(sentence.passage_rank, len(numbers) + 1)
            parts.append(f"{sentence.text}[{n}]")
        citations = tuple(Citation(n, passages[rank]) for rank, n in numbers.items())
        joiner = "" if question.lang == "zh" else " "
        text = joiner.join(parts)
        foreign = [passages[rank].chunk.lang != question.lang for rank in numbers]
        if all(foreign):
            text = f"{messages.ONLY_OTHER_LANGUAGE[question.lang]}\n\n{text}"
        elif any(foreign):
            text = f"{messages.PARTLY_OTHER_LANGUAGE[question.lang]}\n\n{text}"
        return Draft(text, citations)

    def _select(
        self, query: str, sentences: Sequence[Sentence], must: Callable[[str], bool] | None = None
    ) -> list[Sentence]:
        """The most relevant, non-redundant sentences; with `must`, at least one of them satisfies it (else none)."""
        vectors = self.sentence_cache.get_many([s.text for s in sentences], self.encoder.embed_passages)
        relevance = vectors @ self.encoder.embed_query(query)
        terms = set(tokenize(query))
        if terms:
            # Shared words are strong evidence within one language; dense similarity carries across languages.
            overlap = np.array([len(terms & set(tokenize(s.text))) / len(terms) for s in sentences])
            relevance = relevance + 0.3 * overlap
        relevance = relevance + np.array([0.15 / (1 + s.passage_rank) for s in sentences])
        chosen: list[int] = []
        per_passage: dict[int, int] = {}
        best = float(relevance.max())
        for index in np.argsort(-relevance):
            if len(chosen) >= self.max_sentences or relevance[index] < 0.6 * best:
                break
            sentence = sentences[index]
            if per_passage.get(sentence.passage_rank, 0) >= self.max_per_passage:
                continue
            if any(
                float(vectors[index] @ vectors[j]) > 0.9 or fold(sentence.text) == fold(sentences[j].text)
                for j in chosen
            ):
                continue  # near-duplicate of a sentence already chosen
            chosen.append(int(index))
            per_passage[sentence.passage_rank] = per_passage.get(sentence.passage_rank, 0) + 1
        if must is not None and not any(must(sentences[i].text) for i in chosen):
            # The asked-for kind of fact may sit in a less similar sentence. One from a passage already quoted
            # continues its thought (the figure often follows the claim) and qualifies at any similarity;
            # elsewhere the usual relevance bar applies. It takes the place of the weakest pick.
            quoted = {sentences[i].passage_rank for i in chosen}
            holders = [
                int(i)
                for i in np.argsort(-relevance)
                if must(sentences[i].text)
                and int(i) not in chosen
                and (sentences[i].passage_rank in quoted or relevance[i] >= 0.6 * best)
            ]
            if not holders:
                return []
            chosen = [*chosen[: self.max_sentences - 1], holders[0]]
        return [sentences[i] for i in chosen]
