"""What a question asks for — a case, a comparison, advice, a definition or a fact — from cue words.

Facts of Chinese and English ("怎么办" and "what should we do" ask for advice), not fitted to any question set.
The answerer shapes its answer by it; the reader uses it to tell open questions (advice, comparison, case),
which no single sentence answers, from closed ones, which a sentence does.
"""

from __future__ import annotations

import re
from typing import Literal

from .schema import Lang

Intent = Literal["advice", "comparison", "definition", "case", "fact"]
INTENTS: tuple[Intent, ...] = ("case", "comparison", "advice", "definition", "fact")  # first match wins

_INTENT_CUES: dict[Intent, dict[str, str]] = {
    "case": {
        "zh": r"案例|例子|举例|舉例|实例|實例|典型|先例|有没有.{0,6}(?:数字|数据|做法)|经验|經驗",
        # 先例 precedent; 有没有…做过 has anyone / did any … (done it)
        "en": r"\bexamples?\b|\bcases?\b|\bevidence\b|\binstances?\b|\bfigures\b|\bnumbers\b|\bproof\b|\bshow me\b|\bprecedents?\b|\b(?:has|have|did) (?:any|anyone|anybody)\b",
    },
    "comparison": {
        "zh": r"区别|區別|不同|差别|差別|差异|差異|相比|比较|比較|对比|對比|还是|還是|vs",
        # 还是 / 相比: which of two holds up better
        "en": r"\bdiffer|\bcompar|\bversus\b|\bvs\.?\b|\bdistinguish|\btell\b.{0,40}\b(?:from|apart)\b|\bwhich\b[^?]{0,40}\bbetter\b",
    },
    "advice": {
        "zh": r"怎么办|怎麼辦|如何|怎样|怎樣|怎么|怎麼|应该|應該|应当|该不该|要不要|建议|建議|办法|辦法|对策|第一步|从何|从哪|诊断|診斷|为什么|為什麼|为何|原因|问题.{0,4}在哪|出在哪|差在哪|缺(?:了)?什么|是不是|算不算|能不能|可不可以|值不值",
        # The Chinese cues in English: 是不是/算不算/能不能 a yes-or-no check of one's own case ("Is this really…",
        # "Are we…"), 问题在哪/缺什么 what's missing, 办法/对策 a way or model, 第一步/从哪 where to start.
        "en": (
            r"\bhow (?:can|do|should|could|would|to|might)\b|\bwhat (?:should|can|could|would)\b|\bshould\b"
            r"|\badvi[cs]e|\brecommend|\bsteps?\b|\bwhat'?s (?:gone )?wrong\b|\bwhy\b|\bdiagnos|\bworth\b"
            r"|\bwhere (?:do|should|can) (?:we|i) (?:start|begin)\b|\bwhat'?s (?:missing|lacking)\b"
            r"|\bwhat (?:are|am) (?:we|i) missing\b|\bwhat (?:has|needs) to (?:happen|change|be done)\b"
            r"|\bis there an? (?:\w+ ){0,2}(?:way|model|approach|method|solution)\b"
            r"|(?:^|[.?!]\s+)(?:is|are|am|can|could|do|does) (?:this|that|it|we|our|ours|i|my)\b"
        ),
    },
    "definition": {
        "zh": r"是什么|是什麼|什么是|什麼是|指什么|指的是|定义|定義|含义|含義|概念|意思",
        "en": r"\bwhat (?:is|are|does)\b|\bdefin|\bmeaning\b|\bmean\b|\brefers? to\b",
    },
}

OPEN_INTENTS: frozenset[Intent] = frozenset({"advice", "comparison", "case"})

_INTENT_COMPILED = {
    intent: {lang: re.compile(pattern, re.IGNORECASE) for lang, pattern in cues.items()}
    for intent, cues in _INTENT_CUES.items()
}


def question_intent(text: str, lang: Lang) -> Intent:
    """What the question asks for: a case, a comparison, advice (or a diagnosis), a definition, or a fact."""
    for intent in INTENTS[:-1]:
        if _INTENT_COMPILED[intent][lang].search(text):
            return intent
    return "fact"


def is_open(text: str, lang: Lang) -> bool:
    """True for a question that asks for advice, a comparison or a case: many sentences answer it together."""
    return question_intent(text, lang) in OPEN_INTENTS
