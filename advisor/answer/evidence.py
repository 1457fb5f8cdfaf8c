"""Is there enough evidence to answer? Decided from raw retrieval signals, calibrated on evals/golden.jsonl.

Two ways a question goes unanswered:
* nothing in the corpus is about it (the best passage is not close enough), or
* it asks for a fact (a figure, a date, a name) about something the corpus never mentions — a city, a
  year, a company — even if the rest of the question is on topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..schema import Question, Retrieval, Verdict, Vocabulary
from ..text import fold, tokenize


@dataclass(frozen=True)
class Thresholds:
    """Evidence bars, per question language (Chinese questions score higher against this mostly-Chinese corpus).

    Calibrated on evals/golden.jsonl with the bundled models (see README, "Refusal calibration"):
    English answerable questions reach e5 ≥ 0.81, off-topic ones ≤ 0.80; Chinese answerable ones reach
    e5 ≥ 0.888 and USE + ½·coverage ≥ 0.60, off-topic ones stay below 0.872 or 0.55.
    """

    en_min_cosine: float = 0.80
    zh_min_cosine: float = 0.875
    zh_min_support: float = 0.55
    coverage_weight: float = 0.5


DEFAULT_THRESHOLDS = Thresholds()

_FACT_SEEKING = re.compile(
    r"多少|几[家个年次位名]|哪一年|哪年|何时|什么时候|是谁|谁是|排名|GDP|产值是|税率|"
    r"\bhow (?:many|much)\b|\bwhat year\b|\bwhen (?:did|was|will|is)\b|\bwho\b|\bgdp\b|"
    r"\bwhat (?:was|is) the (?:rate|number|figure|share|growth|size|value)\b|\bpercentage\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A capitalised word after a lower-case word or comma is a name; sentence-initial capitals are not.
_EN_NAME = re.compile(r"(?<=[a-z,;:] )([A-Z][a-z]{2,})(?:'s)?\b")
_EN_NAME_STOP = frozenset(
    {
        "What",
        "How",
        "Which",
        "Who",
        "When",
        "Where",
        "Why",
        "The",
        "Our",
        "Is",
        "Are",
        "Can",
        "Should",
        "Will",
        "Do",
        "Does",
        "Did",
        "As",
        "In",
        "For",
    }
)


_ZH_NAME_STOP = frozenset({"中文", "英文", "汉语", "英语", "中国"})
# Two or more capitalised words in a row ("Michael Porter", "Suzhou Industrial Park"): one proper name.
_EN_MULTIWORD_NAME = re.compile(r"\b[A-Z][a-z]+(?:'s)?(?:\s+[A-Z][a-z]+(?:'s)?)+\b")


def specific_terms(question: Question) -> list[tuple[str, bool]]:
    """(term, is_name) for what a question is about: figures and names, plus other Chinese nouns (not names)."""
    text = question.text
    terms = [(m.group(0), True) for m in _NUMBER.finditer(text) if len(m.group(0)) >= 2]
    terms += [(m.group(1), True) for m in _EN_NAME.finditer(text) if m.group(1) not in _EN_NAME_STOP]
    if re.search(r"[\u4e00-\u9fff]", text):
        terms += [
            (w, flag in ("ns", "nr", "nt", "nz"))
            for w, flag in _tagged(text)
            if flag.startswith("n") and len(w) >= 2 and not w.isascii() and w not in _ZH_NAME_STOP
        ]
    return list(dict.fromkeys(terms))


@lru_cache(maxsize=256)
def _tagged(text: str) -> tuple[tuple[str, str], ...]:
    """jieba's (word, part of speech) pairs; cached because two checks read the same question."""
    import jieba.posseg as pseg

    return tuple((w, flag) for w, flag in pseg.lcut(text))


def coverage(question: Question, lexical: Vocabulary) -> float:
    """Share of the question's tokens that occur anywhere in the corpus."""
    tokens = tokenize(question.text)
    return sum(lexical.knows(t) for t in tokens) / len(tokens) if tokens else 0.0


def check_evidence(
    question: Question,
    retrieval: Retrieval,
    lexical: Vocabulary,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Verdict:
    """Answer only when a passage is close to the question and no asked-for fact is about an unknown name."""
    unknown_all = [(t, is_name) for t, is_name in specific_terms(question) if not _known(t, lexical)]
    unknown = tuple(t for t, is_name in unknown_all if is_name)
    fact_seeking = bool(_FACT_SEEKING.search(question.text))
    cov = coverage(question, lexical)
    cosines = list(retrieval.best_cosine.values())
    if not retrieval.passages or not cosines:
        return Verdict(False, "low_similarity", unknown, fact_seeking, cov)
    primary = cosines[0]
    if question.lang == "en":
        close = primary >= thresholds.en_min_cosine
    else:
        close = primary >= thresholds.zh_min_cosine
        if len(cosines) > 1:
            close = close and cosines[1] + thresholds.coverage_weight * cov >= thresholds.zh_min_support
    if question.lang == "en" and cov == 0.0:
        close = False  # not one word of the question occurs in the corpus ("asdfgh qwerty", off-topic)
    if not close:
        return Verdict(False, "low_similarity", unknown, fact_seeking, cov)
    if unknown_all and fact_seeking:
        return Verdict(False, "unknown_terms", unknown, fact_seeking, cov)
    focus = _unknown_focus_names(question, lexical)
    if focus:
        # A question about a person or a multi-word name the corpus never mentions (Michael Porter's model).
        return Verdict(False, "unknown_terms", tuple(dict.fromkeys((*unknown, *focus))), fact_seeking, cov)
    return Verdict(True, "", unknown, fact_seeking, cov)


def _unknown_focus_names(question: Question, lexical: Vocabulary) -> list[str]:
    """Multi-word English names or Chinese person names of which no part is in the corpus."""
    names = [m.group(0) for m in _EN_MULTIWORD_NAME.finditer(question.text) if m.start() > 0]
    unknown = [n for n in names if not any(_known(w, lexical) for w in n.replace("'s", "").split())]
    if re.search(r"[\u4e00-\u9fff]", question.text):
        unknown += [
            w for w, flag in _tagged(question.text) if flag == "nr" and len(w) >= 2 and not _known(w, lexical)
        ]
    return unknown


def _known(term: str, lexical: Vocabulary) -> bool:
    folded = fold(term)
    if lexical.knows(folded) or lexical.knows(folded.removesuffix("'s")):
        return True
    # A name may be segmented differently in the corpus (高新区 → 高新/区): all its parts must be known.
    # Tokens are stemmed as the index is ("Robotics" → "robotic"), so this also catches inflected words.
    parts = tokenize(term)
    return bool(parts) and all(lexical.knows(p) for p in parts)


# What kind of fact a question asks for, so an extractive answer can check that it quotes one.
_ASKS_NUMBER = re.compile(
    r"多少|几[家个次位名项倍]|比例|占比|平均|\bhow (?:many|much)\b|\bpercentage\b|\baverage\b|\bgdp\b|"
    r"\bwhat (?:was|is) the (?:rate|number|figure|share|growth|size|value)\b",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(
    r"哪一年|哪年|何时|什么时候|\bwhat year\b|\bwhen (?:did|was|will|is)\b", re.IGNORECASE
)
_ASKS_PERSON = re.compile(r"是谁|谁是|谁提出|谁最早|\bwho\b", re.IGNORECASE)
# English number words count, except "one": "one town, one product" is no figure.
_HAS_NUMBER = re.compile(
    r"\d|[一二三四五六七八九十百千万亿两]+(?:家|个|倍|成|%|％|年|天|周|月)|"
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|dozens?|twice|triple)\b",
    re.IGNORECASE,
)
_HAS_TIME = re.compile(r"(?:19|20)\d\d|\d+\s*(?:年|月|天|周|days?|weeks?|months?|years?)", re.IGNORECASE)


def expected_answer_type(question: Question) -> str | None:
    """'number', 'time' or 'person' when the question asks for one, else None."""
    text = question.text
    if _ASKS_TIME.search(text):
        return "time"
    if _ASKS_NUMBER.search(text):
        return "number"
    if _ASKS_PERSON.search(text):
        return "person"
    return None


def quotes_answer_type(text: str, kind: str) -> bool:
    """Whether `text` contains the kind of fact asked for (a figure, a date, a person's name)."""
    if kind == "number":
        return bool(_HAS_NUMBER.search(text))
    if kind == "time":
        return bool(_HAS_TIME.search(text))
    if re.search(r"[\u4e00-\u9fff]", text) and any(flag == "nr" for _, flag in _tagged(text)):
        return True
    return bool(_EN_MULTIWORD_NAME.search(text))
