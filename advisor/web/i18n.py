"""Interface strings in Chinese and English; the page follows a language switch (default: the browser's)."""

from __future__ import annotations

from typing import Literal

UiLang = Literal["zh", "en"]
LANG_CHOICES = [("中文", "zh"), ("English", "en")]

STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "产业战略顾问", "en": "Industrial Strategy Advisor"},
    "tagline": {
        "zh": "关于产业集群、产业集聚与产业生态的问答 —— 每个结论都标注出处，资料未覆盖的问题会如实说明。",
        "en": "Answers on industrial clusters, agglomeration and ecosystems — every claim cited, "
        "and a plain “not covered” when the documents do not say.",
    },
    "tab_chat": {"zh": "问答", "en": "Ask"},
    "tab_docs": {"zh": "文档", "en": "Documents"},
    "chat_label": {"zh": "对话", "en": "Conversation"},
    "placeholder": {
        "zh": "用中文或英文提问，例如：产业集聚和产业集群有什么区别？",
        "en": "Ask in English or Chinese…",
    },
    "send": {"zh": "提问", "en": "Ask"},
    "clear": {"zh": "新对话", "en": "New chat"},
    "examples": {"zh": "试试这些问题", "en": "Try one of these"},
    "sources": {"zh": "出处", "en": "Sources"},
    "sources_empty": {
        "zh": "提问后，回答所引用的原文段落会显示在这里。点击任一出处即可展开原文。",
        "en": "Ask a question: the passages the answer cites appear here. Click a source to open the passage.",
    },
    "related": {"zh": "相关阅读", "en": "Related reading"},
    "not_covered": {"zh": "资料未覆盖", "en": "Not covered by the documents"},
    "related_note": {
        "zh": "资料中没有能回答这个问题的内容。以下是检索到的最接近的段落，仅供参考：",
        "en": "The documents do not answer this question. These are the closest passages found, for reference:",
    },
    "parallel": {"zh": "对照译文", "en": "Parallel text"},
    "passage": {"zh": "原文", "en": "Passage"},
    "settings": {"zh": "设置", "en": "Settings"},
    "backend": {"zh": "回答方式", "en": "Answerer"},
    "backend_extractive": {
        "zh": "摘录式（引用原文句子，离线）",
        "en": "extractive (quotes the sources, offline)",
    },
    "backend_llm": {"zh": "大语言模型", "en": "LLM"},
    "top_k": {"zh": "检索段落数", "en": "Passages retrieved"},
    "language": {"zh": "界面语言", "en": "Language"},
    "upload_label": {
        "zh": "添加文档（.txt .md .pdf .docx .html）",
        "en": "Add documents (.txt .md .pdf .docx .html)",
    },
    "upload_button": {"zh": "加入索引", "en": "Add to the index"},
    "upload_hint": {
        "zh": "上传的文档会被转换为文本并加入检索索引，之后的提问即可引用它。单个文件上限 {mb} MB。",
        "en": "Uploaded files are converted to text and indexed; later questions can cite them. Up to {mb} MB each.",
    },
    "uploaded": {"zh": "已加入：{title}（{chunks} 个段落）", "en": "Added: {title} (passages: {chunks})"},
    "upload_failed": {"zh": "未能加入：{reason}", "en": "Not added: {reason}"},
    "no_file": {"zh": "请先选择文件。", "en": "Choose a file first."},
    "docs_list": {"zh": "索引中的文档", "en": "Documents in the index"},
    "remove_label": {"zh": "移除上传的文档", "en": "Remove an uploaded document"},
    "remove_button": {"zh": "移除", "en": "Remove"},
    "removed": {"zh": "已移除：{title}", "en": "Removed: {title}"},
    "remove_failed": {"zh": "未能移除：{reason}", "en": "Not removed: {reason}"},
    "col_title": {"zh": "标题", "en": "Title"},
    "col_lang": {"zh": "语言", "en": "Language"},
    "col_chunks": {"zh": "段落", "en": "Passages"},
    "col_file": {"zh": "文件", "en": "File"},
    "col_origin": {"zh": "来源", "en": "Origin"},
    "origin_corpus": {"zh": "资料库", "en": "corpus"},
    "origin_upload": {"zh": "上传", "en": "uploaded"},
    "thanks": {"zh": "感谢反馈，已记录。", "en": "Thanks — your feedback was recorded."},
    "stage_reading": {"zh": "读取文件", "en": "Reading the file"},
    "stage_indexing": {"zh": "建立索引", "en": "Indexing"},
    "timing": {"zh": "{backend} · {ms:.0f} 毫秒", "en": "{backend} · {ms:.0f} ms"},
    "error": {"zh": "无法回答：{reason}", "en": "Cannot answer: {reason}"},
    "thinking": {"zh": "思考中…", "en": "Thinking…"},
}

EXAMPLES: dict[str, list[str]] = {
    "zh": [
        "产业集聚和产业集群有什么区别？",
        "我们园区企业很多但产值上不去，怎么办？",
        "什么是资源循环型产业生态？",
    ],
    "en": [
        "How do I tell an agglomeration from a real cluster?",
        "What is an industrial ecosystem?",
        "How should a park operate an industrial chain?",
    ],
}


def t(lang: str, key: str, **values: object) -> str:
    """The interface string `key` in `lang` (English when the language is unknown)."""
    text = STRINGS[key]["zh" if lang == "zh" else "en"]
    return text.format(**values) if values else text


def browser_lang(accept_language: str | None) -> UiLang:
    """zh when the browser's first preferred language is Chinese, else en."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"
