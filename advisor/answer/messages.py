"""Fixed user-facing sentences in both languages; prompts and surfaces take them from here."""

from __future__ import annotations

REFUSAL = {
    "zh": "抱歉，现有资料库没有涵盖这个问题，我无法给出有出处的回答。",
    "en": "Sorry — the corpus does not cover this question, so I cannot give a grounded answer.",
}
ONLY_OTHER_LANGUAGE = {
    "zh": "资料库中只有英文资料涉及这一点，以下摘录保留原文：",
    "en": "The corpus covers this only in Chinese sources; the passages below are quoted in the original:",
}
PARTLY_OTHER_LANGUAGE = {
    "zh": "部分内容只见于英文资料，摘录保留原文：",
    "en": "Part of this is covered only in Chinese sources, quoted below in the original:",
}
# The only template text an extractive answer carries: the headings of its sections.
HEADINGS = {
    "verdict": {"zh": "结论", "en": "Verdict"},
    "why": {"zh": "原因", "en": "Why"},
    "actions": {"zh": "行动建议", "en": "Actions"},
    "case": {"zh": "案例", "en": "Case"},
    "caveat": {"zh": "注意", "en": "Caveat"},
}
HEADING_SEPARATOR = {"zh": "：", "en": ": "}
TRUNCATED = {
    "zh": "问题过长，只使用了开头和结尾共 {limit} 个字符。",
    "en": "The question was too long; only its first and last parts ({limit} characters) were used.",
}
UNKNOWN_TERMS = {
    "zh": "资料库中找不到这些名称：{terms}。以下回答只基于资料中的一般性内容。",
    "en": "Not found in the corpus under these names: {terms}. The answer below rests on its general content only.",
}
NOT_COVERED = {
    "zh": "资料只回答了问题的一部分；没有涉及：{parts}",
    "en": "The documents answer only part of the question; they do not cover: {parts}",
}
EMPTY_QUESTION = "请输入一个问题。/ Please enter a question."
NO_WORDS = "这看起来不是一个问题：没有可识别的文字。/ That does not look like a question: it has no words to search for."
LLM_FALLBACK = {
    "zh": "语言模型（{backend}）没有给出可用的回答：{reason}。以下是摘录式回答。",
    "en": "The language model ({backend}) gave no usable answer: {reason}. Showing the extractive answer instead.",
}
LLM_FALLBACK_REFUSED = {
    "zh": "语言模型（{backend}）没有给出可用的回答：{reason}。摘录式回答也找不到足够依据。",
    "en": "The language model ({backend}) gave no usable answer: {reason}. The extractive answer found too little support either.",
}
LLM_NOT_CONFIGURED = {
    "zh": "{backend} 后端尚未配置（需要 ADVISOR_LLM_MODEL，openai 还需要 ADVISOR_LLM_BASE_URL 或 API 密钥），以下是摘录式回答。",
    "en": "The {backend} backend is not configured (set ADVISOR_LLM_MODEL, and for openai ADVISOR_LLM_BASE_URL or an API key); showing the extractive answer.",
}
FALLBACK_REASONS = {
    "timeout": {"zh": "超时", "en": "it timed out"},
    "thinking_timeout": {"zh": "思考时间过长，超时", "en": "it was still thinking when time ran out"},
    "rate_limited": {
        "zh": "服务器限流，要求等待的时间超过了时限",
        "en": "the server is rate-limiting and asked to wait past the time limit",
    },
    "connection_error": {"zh": "无法连接", "en": "it could not be reached"},
    "auth_error": {"zh": "API 密钥被拒绝", "en": "the API key was rejected"},
    "empty_output": {"zh": "回复为空", "en": "its reply was empty"},
    "malformed_output": {"zh": "回复无法解析", "en": "its reply could not be read"},
    "no_valid_citations": {"zh": "回答没有有效出处", "en": "its answer cited no retrieved passage"},
    "uncited_claims": {"zh": "回答的大部分内容没有出处", "en": "most of its answer was uncited"},
}


def describe_fallback(reason: str, lang: str) -> str:
    """A fallback reason code ("timeout", "http_503", …) in words for a notice."""
    if reason.startswith("http_"):
        code = reason.removeprefix("http_")
        return f"服务器返回 HTTP {code}" if lang == "zh" else f"the server answered HTTP {code}"
    return FALLBACK_REASONS.get(reason, {}).get(lang, reason)
