"""Answer or refuse from the reader's own probability, and say which parts of a question go unanswered.

No threshold here is fitted to a corpus: the reader's probability is 0.5 at the operating point its training
chose (training/reader/train.py). The only rules are facts of language: a question made of several
questions ("是什么？怎么做？") is read part by part, so a partly covered question gets a partial answer that
says what the documents leave out.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..schema import Question, Reader, Retrieval, Verdict, Vocabulary
from ..text import cjk_count, fold, tokenize

DECISION = 0.5  # the reader's probability at its operating point
_PARTS = re.compile(r"(?<=[？?])\s*|(?<=[；;])\s*")
_MIN_PART = {"zh": 4, "en": 3}  # characters / words: below this a "part" is a fragment, not a question
# Names in an English question: capitalised words not at the start of a sentence, or runs of them.
_EN_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def question_parts(question: Question) -> list[str]:
    """The separate questions inside one question; one part when it asks one thing."""
    parts = [p.strip() for p in _PARTS.split(question.text) if p and p.strip()]
    if question.lang == "zh":
        parts = [p for p in parts if cjk_count(p) >= _MIN_PART["zh"]]
    else:
        parts = [p for p in parts if len(p.split()) >= _MIN_PART["en"]]
    return parts if len(parts) > 1 else [question.text]


@lru_cache(maxsize=512)
def _tagged(text: str) -> tuple[tuple[str, str], ...]:
    import jieba.posseg as pseg

    return tuple((w, f) for w, f in pseg.lcut(text))


def unknown_names(question: Question, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Names in the question that occur nowhere in the corpus (for a notice; never the question's figures)."""
    names: list[str] = []
    if cjk_count(question.text):
        names += [w for w, flag in _tagged(question.text) if flag in ("nr", "ns", "nt", "nz") and len(w) >= 2]
    names += [m.group(0) for m in _EN_NAME.finditer(question.text)]
    unknown = []
    for name in dict.fromkeys(names):
        if any(ch.isdigit() for ch in name):
            continue
        parts = tokenize(name)
        if parts and not any(vocabulary.knows(p) for p in parts) and not vocabulary.knows(fold(name)):
            unknown.append(name)
    return tuple(unknown)


def knows_none(question: Question, retrieval: Retrieval, vocabulary: Vocabulary) -> bool:
    """True when the corpus is written in the question's language and holds not one of its words (its own
    figures aside): "What was the GDP of Hefei in 2023?" over documents that never say GDP or Hefei.

    A fact of the data, not a threshold. A corpus in the other language only is left to the reader: there an
    English question shares no words with Chinese passages, and the encoders bridge it.
    """
    words = [t for t in tokenize(question.text) if not any(ch.isdigit() for ch in t)]
    same_language = any(p.chunk.lang == question.lang for p in retrieval.passages)
    return bool(words) and same_language and not any(vocabulary.knows(t) for t in words)


class ReaderGate:
    """The gate stage with a reader: refuse when no passage answers, answer in part when only some parts do."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __call__(self, question: Question, retrieval: Retrieval, vocabulary: Vocabulary) -> Verdict:
        names = unknown_names(question, vocabulary)
        if not retrieval.readings:
            return Verdict(False, "low_similarity", names, answerability=0.0)
        if knows_none(question, retrieval, vocabulary):
            return Verdict(False, "unknown_words", names, answerability=0.0)
        whole = max(r.score for r in retrieval.readings)
        parts = question_parts(question)
        if len(parts) == 1:
            verdict = whole >= DECISION
            return Verdict(verdict, "" if verdict else "not_answered", names, answerability=whole)
        passages = [r.passage for r in retrieval.readings]
        scores = []
        for part in parts:
            readings = self.reader.read(Question(part, question.lang), passages, vocabulary)
            scores.append(max((r.score for r in readings), default=0.0))
        covered = [p for p, s in zip(parts, scores, strict=True) if s >= DECISION]
        missing = tuple(p for p, s in zip(parts, scores, strict=True) if s < DECISION)
        best = max(whole, *scores)
        if not covered and whole < DECISION:
            return Verdict(False, "not_answered", names, answerability=best)
        return Verdict(True, "", names, answerability=best, not_covered=missing if covered else ())


def open_gate(question: Question, retrieval: Retrieval, vocabulary: Vocabulary) -> Verdict:
    """The gate without a reader (custom encoders, `reader = "none"`): answer whatever was retrieved, unless
    not one word of the question occurs in the corpus. It cannot tell an on-topic question the documents do
    not answer; the reader can (it needs the bundled encoders)."""
    names = unknown_names(question, vocabulary)
    tokens = tokenize(question.text)
    if not retrieval.passages or not any(vocabulary.knows(t) for t in tokens):
        return Verdict(False, "low_similarity", names)
    return Verdict(True, "", names)
