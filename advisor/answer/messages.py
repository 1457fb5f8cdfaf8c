"""Fixed user-facing sentences in both languages; prompts and surfaces take them from here."""

from __future__ import annotations

REFUSAL = {
    "zh": "抱歉，现有资料库没有涵盖这个问题，我无法给出有出处的回答。",
    "en": "Sorry — the corpus does not cover this question, so I cannot give a grounded answer.",
}
RELATED_READING = {"zh": "相关阅读", "en": "Related reading"}
ONLY_OTHER_LANGUAGE = {
    "zh": "资料库中只有英文资料涉及这一点，以下摘录保留原文：",
    "en": "The corpus covers this only in Chinese sources; the passages below are quoted in the original:",
}
TRUNCATED = {
    "zh": "问题过长，只使用了前 {limit} 个字符。",
    "en": "The question was too long; only its first {limit} characters were used.",
}
UNKNOWN_TERMS = {
    "zh": "资料库中找不到这些名称：{terms}。以下回答只基于资料中的一般性内容。",
    "en": "Not found in the corpus under these names: {terms}. The answer below rests on its general content only.",
}
EMPTY_QUESTION = "请输入一个问题。/ Please enter a question."
NO_WORDS = "这看起来不是一个问题：没有可识别的文字。/ That does not look like a question: it has no words to search for."
