"""Answer or refuse from the reader's own probability, and say which parts of a question go unanswered.

No threshold here is fitted to a corpus: the reader's probability is 0.5 at the operating point its training
chose (training/reader/train.py). The only rules are facts of language: a question made of several
questions ("是什么？怎么做？") is read part by part, so a partly covered question gets a partial answer that
says what the documents leave out; and an ask is also read without the statements the client made before
it (who they are, their own figures), which no document holds.
"""

from __future__ import annotations

import re

from ..schema import Question, Reader, Retrieval, Verdict, Vocabulary
from ..text import cjk_count, fold, split_sentences, tokenize, word_class, words

DECISION = 0.5  # the reader's probability at its operating point
_ASK_END = ("？", "?", "；", ";")  # a sentence that ends so asks something; one that ends otherwise states
_MIN_PART = {"zh": 4, "en": 3}  # characters / words: below this a "part" is a fragment, not a question
# Names in an English question: capitalised words not at the start of a sentence, or runs of them.
_EN_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def _long_enough(part: str, lang: str) -> bool:
    return cjk_count(part) >= _MIN_PART["zh"] if lang == "zh" else len(part.split()) >= _MIN_PART["en"]


def question_asks(question: Question) -> tuple[list[str], bool]:
    """(the sentences that ask something, whether other sentences state the asker's situation).

    Clients say who they are before they ask: "我们园区有86家企业，去年产值才25亿。我们这算产业集群吗？".
    The statements are context: their words (the firm, its own figures) are rarely in any document, and
    read as part of the question they hide an ask the documents do answer. A fact of punctuation, not of
    topic. Fragments ("怎么办？") are not asks of their own.
    """
    pieces = split_sentences(question.text)
    asks = [p for p in pieces if p.endswith(_ASK_END) and _long_enough(p, question.lang)]
    stated = any(not p.endswith(_ASK_END) for p in pieces)
    return asks, stated


def question_parts(question: Question) -> list[str]:
    """The separate questions inside one question; one part when it asks one thing."""
    asks, _ = question_asks(question)
    return asks if len(asks) > 1 else [question.text]


def unknown_names(question: Question, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Names in the question that occur nowhere in the corpus (for a notice; never the question's figures)."""
    names: list[str] = []
    if cjk_count(question.text):
        names += [w for w in words(question.text) if len(w) >= 2 and word_class(w) == "name"]
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
        asks, stated = question_asks(question)
        if len(asks) < 2 and not (stated and asks):
            verdict = whole >= DECISION
            return Verdict(verdict, "" if verdict else "not_answered", names, answerability=whole)
        # Each ask is also read on its own, without the statements around it and the other asks.
        passages = [r.passage for r in retrieval.readings]
        scores = []
        for ask in asks:
            readings = self.reader.read(Question(ask, question.lang), passages, vocabulary)
            scores.append(max((r.score for r in readings), default=0.0))
        best = max(whole, *scores)
        if len(asks) == 1:  # one ask after its context: answered if either reading answers it
            verdict = best >= DECISION
            return Verdict(verdict, "" if verdict else "not_answered", names, answerability=best)
        covered = [p for p, s in zip(asks, scores, strict=True) if s >= DECISION]
        missing = tuple(p for p, s in zip(asks, scores, strict=True) if s < DECISION)
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
