"""Follow-up questions ("那第二种呢？", "and what about small firms?") made standalone before retrieval.

With an LLM configured, the model rewrites the question from the conversation (prompts/condense.*.j2).
Otherwise — or when the model fails — a heuristic does: a short or anaphoric follow-up gets the key terms
of the previous (itself made standalone) question put in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..schema import Question, Turn
from ..text import EN_STOPWORDS, ZH_STOPWORDS, cjk_count, detect_lang, word_class, words

Rewrite = Callable[[Question, Sequence[Turn]], "str | None"]

_ZH_FOLLOW_UP = re.compile(
    r"^(?:那|那么|这|这个|这些|它|它们|其|该|还有|另外|此外|如果|要是|同样|以及|和|而)|"
    r"第[一二三四五六七八九十\d]+[种个点条类步项]|前者|后者|上述|上面|刚才|呢[？?！!。]*$"
)
_EN_FOLLOW_UP = re.compile(
    r"^(?:and|but|so|also|then|what about|how about|and what|what if|same|it|its|they|their|that|this|those|these)\b|"
    r"\b(?:the (?:first|second|third|fourth|last|former|latter|other) (?:one|kind|type|point|step)s?|"
    r"the former|the latter|mentioned|above|it|its|they|them|their|those|these)\b",
    re.IGNORECASE,
)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z\-']+")
MAX_TERMS = 6


def is_follow_up(question: Question) -> bool:
    """A question that refers back ("那第二种呢？", "and for small firms?"), or one too bare to stand alone.

    Shortness alone is not enough: "What is an industrial ecosystem?" is short but complete, and treating it
    as a follow-up searched for the previous question's terms. A short question counts only when it has no
    content words of its own ("为什么？", "How so?").
    """
    text = question.text.strip()
    if question.lang == "zh":
        refers_back, short = bool(_ZH_FOLLOW_UP.search(text)), cjk_count(text) <= 8
    else:
        refers_back, short = bool(_EN_FOLLOW_UP.search(text)), len(_EN_WORD.findall(text)) <= 5
    return refers_back or (short and not key_terms(text))


def key_terms(text: str) -> list[str]:
    """Content words of a question, in order: Chinese nouns/verbs via jieba, English words minus stopwords."""
    terms: list[str] = []
    if cjk_count(text):
        run: list[str] = []  # adjacent content words make one term: 产业 + 集群 → 产业集群
        for word in [*words(text), "。"]:
            content = len(word) >= 2 and word_class(word) != "other" and word not in ZH_STOPWORDS
            if content and (not word.isascii() or word.lower() not in EN_STOPWORDS):
                run.append(word)
            elif run:
                terms.append("".join(run))
                run = []
    else:
        terms = [w for w in _EN_WORD.findall(text) if len(w) >= 3 and w.lower() not in EN_STOPWORDS]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def heuristic_standalone(question: Question, history: Sequence[Turn]) -> str:
    """The follow-up with the previous question's key terms in front; unchanged when it stands alone."""
    if not history or not is_follow_up(question):
        return question.text
    previous_q = history[-1][0]
    previous = heuristic_standalone(Question(previous_q, detect_lang(previous_q)), history[:-1])
    own = {t.lower() for t in key_terms(question.text)}
    terms = [t for t in key_terms(previous) if t.lower() not in own]
    if not terms:
        return question.text
    return f"{' '.join(terms)} {question.text}"


def standalone_question(question: Question, history: Sequence[Turn], rewrite: Rewrite | None = None) -> str:
    """The question to retrieve with: the model's rewrite when it gives a usable one, else the heuristic's."""
    if not history:
        return question.text
    if rewrite is not None:
        limit = 2 * (len(question.text) + len(history[-1][0])) + 20
        rewritten = clean_rewrite(rewrite(question, history) or "", limit)
        if rewritten:
            return rewritten
    return heuristic_standalone(question, history)


def clean_rewrite(text: str, limit: int) -> str:
    """The first line of a model's rewrite, without quotes or labels; empty when it is unusable.

    Too long, or carrying citation markers, it is an answer rather than a question: not used.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = re.sub(r"^(?:standalone question|question|问题|独立问题)\s*[:：]\s*", "", lines[0], flags=re.I)
    line = line.strip().strip("\"'“”‘’「」")
    if not line or len(line) > limit or re.search(r"[\[【]\d", line):
        return ""
    return line
