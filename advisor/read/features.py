"""What a feature reader sees of a (question, passage) pair: a few numbers that mean the same on any corpus.

Every feature is either a similarity the bundled encoders compute, or a statistic of the indexed corpus itself
(how specific a word is), never a constant fitted to one corpus. The same functions build the training rows
(training/reader/) and the rows read at question time, so the model sees at run time what it learned from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..schema import Passage, Question, Vocabulary
from ..text import general_specificity, split_sentences, tokenize

PASSAGE_FEATURES = (
    "cos_e5",  # passage cosine, bundled e5 (raw)
    "cos_use",  # passage cosine, multilingual USE (raw)
    "gap_e5",  # this passage's e5 cosine minus the best among the passages read
    "top_e5",  # the best e5 cosine among the passages read (the question's overall closeness)
    "spread_e5",  # best minus worst e5 cosine among the passages read: does one stand out?
    "z_e5",  # how far the passage's e5 cosine stands out of the question's background, in its language
    "z_use",  # the same for USE
    "sent_use",  # best sentence of the passage, USE cosine
    "lex",  # share of the question's specificity (idf) whose words the passage holds
    "lex_window",  # the same, in the best sentence and its neighbours
    "lex_best",  # the same, in the sentence window (a sentence and its neighbours) that holds most of it
    "miss",  # idf of the most specific question word the passage lacks
    "miss2",  # mean idf of the two most specific question words the passage lacks
    "absent",  # share of the question's specificity in words the whole corpus lacks (never its figures)
    "numbers",  # share of the question's figures the passage holds
    "has_numbers",  # the question carries figures at all
    "rank",  # 1 / (1 + retrieval rank)
    "bias",
)
SENTENCE_FEATURES = (
    "s_use",  # sentence cosine, USE
    "s_gap",  # this sentence's USE cosine minus the passage's best
    "s_lex",  # share of the question's specificity in the sentence
    "s_lex_window",  # ... in the sentence and its neighbours
    "s_numbers",  # question figures in the sentence
    "s_has_digit",  # the sentence states a figure
    "s_len",  # log length in tokens
    "p_logit",  # the passage model's logit for the sentence's passage
    "bias",
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class PassageText:
    """A passage cut into sentences with their offsets, and its tokens (shown side and translation)."""

    sentences: tuple[tuple[int, str], ...]
    sentence_tokens: tuple[frozenset[str], ...]
    tokens: frozenset[str]


def sentences_with_offsets(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) for every sentence of every line, each a verbatim slice of `text`."""
    out: list[tuple[int, str]] = []
    cursor = 0
    for line in text.split("\n"):
        for sentence in split_sentences(line):
            at = text.find(sentence, cursor)
            if at >= 0:
                out.append((at, sentence))
                cursor = at + len(sentence)
    return out


def passage_text(passage: Passage) -> PassageText:
    """The passage's sentences; its tokens include the parallel translation's, so either side can match."""
    sentences = tuple(sentences_with_offsets(passage.chunk.text))
    sentence_tokens = tuple(frozenset(tokenize(s)) for _, s in sentences)
    tokens = frozenset().union(*sentence_tokens) if sentence_tokens else frozenset()
    if passage.parallel_text:
        tokens |= frozenset(tokenize(passage.parallel_text))
    return PassageText(sentences, sentence_tokens, tokens)


def _weighted_share(query: dict[str, float], tokens: frozenset[str]) -> float:
    total = sum(query.values())
    return sum(w for t, w in query.items() if t in tokens) / total if total > 0 else 0.0


def _numbers(text: str) -> set[str]:
    return {m.group(0).replace(",", "") for m in _NUMBER.finditer(text)}


def cosine(passage: Passage, encoder: str) -> float:
    """The raw cosine the retriever saw for this passage (0 when that encoder did not rank it)."""
    return float(passage.scores.get(f"cos:{encoder}", 0.0))


def lift(passage: Passage, encoder: str) -> float:
    """Standard deviations above the question's background the passage stands (0 when unknown), capped."""
    return float(np.clip(passage.scores.get(f"z:{encoder}", 0.0), -5.0, 10.0)) / 5.0


def query_weights(question: Question, vocabulary: Vocabulary) -> dict[str, float]:
    """The question's words with how specific each is in the corpus; a romanised Chinese name ('Wenzhou')
    stands for the name the corpus writes in Chinese (温州), so an English question can match it; a Chinese
    word the corpus never uses weighs what it weighs in Chinese at large (`text.general_specificity`)."""
    pinyin = vocabulary.pinyin_map()
    weights: dict[str, float] = {}
    for token in tokenize(question.text):
        if not vocabulary.knows(token):
            # The corpus cannot say how specific a word it never uses is; Chinese at large can (an everyday
            # "到底" is not what a question is about, a rare term is). Else as specific as can be.
            general = general_specificity(token)
            weights[token] = general if general is not None else vocabulary.idf(token)
        elif token in pinyin:
            for name in pinyin[token][:1]:
                weights[name] = vocabulary.idf(name)
        else:
            weights[token] = vocabulary.idf(token)
    return weights


def absent_share(query: dict[str, float], vocabulary: Vocabulary) -> float:
    """How much of what the question is specifically about the corpus never mentions ('Hefei', 'rent').

    A property of the question and the indexed corpus, the same for every passage; the question's own
    figures do not count (a client's numbers are never in the documents).
    """
    total = sum(w for t, w in query.items() if not any(ch.isdigit() for ch in t))
    unknown = sum(
        w for t, w in query.items() if not any(ch.isdigit() for ch in t) and not vocabulary.knows(t)
    )
    return unknown / total if total > 0 else 0.0


def passage_rows(
    question: Question,
    passages: Sequence[Passage],
    texts: Sequence[PassageText],
    sentence_cosines: Sequence[np.ndarray],
    vocabulary: Vocabulary,
    encoders: tuple[str, str],
) -> np.ndarray:
    """One row of PASSAGE_FEATURES per passage (in order); `sentence_cosines[i]` are passage i's USE cosines."""
    query = query_weights(question, vocabulary)
    q_numbers = _numbers(question.text)
    absent = absent_share(query, vocabulary)
    e5, use = encoders
    e5_cos = [cosine(p, e5) for p in passages]
    top, low = (max(e5_cos), min(e5_cos)) if e5_cos else (0.0, 0.0)
    rows = []
    for rank, (passage, text, sims) in enumerate(zip(passages, texts, sentence_cosines, strict=True)):
        best = int(np.argmax(sims)) if len(sims) else -1
        window = (
            frozenset().union(*text.sentence_tokens[max(best - 1, 0) : best + 2])
            if best >= 0
            else frozenset()
        )
        missing = sorted((w for t, w in query.items() if t not in text.tokens), reverse=True)
        windows = [
            frozenset().union(*text.sentence_tokens[max(i - 1, 0) : i + 2])
            for i in range(len(text.sentences))
        ]
        numbers_here = _numbers(passage.chunk.text + " " + (passage.parallel_text or ""))
        rows.append(
            [
                e5_cos[rank],
                cosine(passage, use),
                e5_cos[rank] - top,
                top,
                top - low,
                lift(passage, e5),
                lift(passage, use),
                float(sims[best]) if best >= 0 else 0.0,
                _weighted_share(query, text.tokens),
                _weighted_share(query, window),
                max((_weighted_share(query, w) for w in windows), default=0.0),
                missing[0] if missing else 0.0,
                float(np.mean(missing[:2])) if missing else 0.0,
                absent,
                len(q_numbers & numbers_here) / len(q_numbers) if q_numbers else 0.0,
                1.0 if q_numbers else 0.0,
                1.0 / (1 + rank),
                1.0,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(PASSAGE_FEATURES))


def sentence_rows(
    question: Question, text: PassageText, sims: np.ndarray, passage_logit: float, vocabulary: Vocabulary
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per sentence of one passage."""
    query = query_weights(question, vocabulary)
    q_numbers = _numbers(question.text)
    best = float(sims.max()) if len(sims) else 0.0
    rows = []
    for i, (_, sentence) in enumerate(text.sentences):
        window = frozenset().union(*text.sentence_tokens[max(i - 1, 0) : i + 2])
        numbers = _numbers(sentence)
        rows.append(
            [
                float(sims[i]),
                float(sims[i]) - best,
                _weighted_share(query, text.sentence_tokens[i]),
                _weighted_share(query, window),
                len(q_numbers & numbers) / len(q_numbers) if q_numbers else 0.0,
                1.0 if numbers else 0.0,
                math.log1p(len(text.sentence_tokens[i])),
                passage_logit,
                1.0,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(SENTENCE_FEATURES))
