"""Every user-facing string of the page, the CLI and the file checks, in Chinese and English, in one place.

Sentences that become part of an answer (the refusal, prefaces, LLM notices) live in `answer/messages.py`
because they are the answer's text; everything a surface says around an answer lives here.
"""

from __future__ import annotations

from typing import Literal

from .i18n_tools import TOOL_STRINGS

UiLang = Literal["zh", "en"]
LANG_CHOICES = [("中文", "zh"), ("English", "en")]

STRINGS: dict[str, dict[str, str]] = {
    # --- the page ----------------------------------------------------------------------------------
    "title": {"zh": "产业战略顾问", "en": "Industrial Strategy Advisor"},
    "tagline": {
        "zh": "关于产业集群、产业集聚与产业生态的问答 —— 每个结论都标注出处，资料未覆盖的问题会如实说明。",
        "en": "Answers on industrial clusters, agglomeration and ecosystems — every claim cited, "
        "and a plain “not covered” when the documents do not say.",
    },
    "tab_chat": {"zh": "问答", "en": "Ask"},
    "tab_docs": {"zh": "文档", "en": "Documents"},
    "placeholder": {
        "zh": "用中文或英文提问，例如：产业集聚和产业集群有什么区别？",
        "en": "Ask in English or Chinese…",
    },
    "send": {"zh": "提问", "en": "Ask"},
    "new_chat": {"zh": "新对话", "en": "New chat"},
    "examples": {"zh": "试试这些问题（每个都是新问题）", "en": "Try one of these (each starts afresh)"},
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
    "searched_as": {"zh": "按此检索", "en": "searched as"},
    "parallel": {"zh": "对照译文", "en": "Parallel text"},
    "backend": {"zh": "回答方式", "en": "Answerer"},
    "backend_extractive": {
        "zh": "摘录式（引用原文句子，离线）",
        "en": "extractive (quotes the sources, offline)",
    },
    "backend_llm": {"zh": "大语言模型", "en": "LLM"},
    "top_k": {"zh": "检索段落数", "en": "Passages retrieved"},
    "timing": {"zh": "{backend} · {ms:.0f} 毫秒", "en": "{backend} · {ms:.0f} ms"},
    "index_version": {"zh": "索引版本 {version}", "en": "index version {version}"},
    "error": {"zh": "无法回答：{reason}", "en": "Cannot answer: {reason}"},
    "thinking": {"zh": "思考中…", "en": "Thinking…"},
    "thanks": {"zh": "感谢反馈，已记录。", "en": "Thanks — your feedback was recorded."},
    "internal_error": {
        "zh": "服务器出错了，错误已记录。请稍后重试。/ Something went wrong on the server; it was logged.",
        "en": "Something went wrong on the server; it was logged. Please try again. / 服务器出错了，错误已记录。",
    },
    # --- the Documents tab -------------------------------------------------------------------------
    "upload_label": {
        "zh": "添加文档（.txt .md .pdf .docx .html）",
        "en": "Add documents (.txt .md .pdf .docx .html)",
    },
    "upload_button": {"zh": "加入索引", "en": "Add to the index"},
    "upload_hint": {
        "zh": "上传的文档会被转换为文本并加入检索索引，之后的提问即可引用它。单个文件上限 {mb} MB、{passages} 个段落；"
        "原文件转换后即删除，只保存文本。",
        "en": "Uploaded files are converted to text and indexed; later questions can cite them. Up to {mb} MB "
        "and {passages} passages each; the original file is deleted once converted, only its text is kept.",
    },
    "uploaded": {"zh": "已加入：{title}（{chunks} 个段落）", "en": "Added: {title} (passages: {chunks})"},
    "upload_failed": {"zh": "未能加入：{reason}", "en": "Not added: {reason}"},
    "no_file": {"zh": "请先选择文件。", "en": "Choose a file first."},
    "no_choice": {"zh": "请先选择要移除的文档。", "en": "Choose a document to remove first."},
    "docs_list": {"zh": "索引中的文档", "en": "Documents in the index"},
    "remove_label": {"zh": "移除上传的文档", "en": "Remove an uploaded document"},
    "remove_button": {"zh": "移除…", "en": "Remove…"},
    "confirm_remove": {
        "zh": "确定要从索引中移除“{title}”吗？此操作无法撤销。",
        "en": "Remove “{title}” from the index? This cannot be undone.",
    },
    "confirm_yes": {"zh": "确定移除", "en": "Yes, remove it"},
    "cancel": {"zh": "取消", "en": "Cancel"},
    "removed": {"zh": "已移除：{title}", "en": "Removed: {title}"},
    "remove_failed": {"zh": "未能移除：{reason}", "en": "Not removed: {reason}"},
    "col_title": {"zh": "标题", "en": "Title"},
    "col_lang": {"zh": "语言", "en": "Language"},
    "col_chunks": {"zh": "段落", "en": "Passages"},
    "col_file": {"zh": "文件", "en": "File"},
    "col_date": {"zh": "日期", "en": "Date"},
    "col_size": {"zh": "大小", "en": "Size"},
    "col_origin": {"zh": "来源", "en": "Origin"},
    "origin_corpus": {"zh": "资料库", "en": "corpus"},
    "origin_upload": {"zh": "上传", "en": "uploaded"},
    "stage_reading": {"zh": "读取并转换文件", "en": "Reading and converting the file"},
    "stage_indexing": {"zh": "建立索引", "en": "Indexing"},
    "progress_passages": {
        "zh": "{done}/{total} 个段落 · 约剩 {eta}",
        "en": "{done}/{total} passages · about {eta} left",
    },
    "estimate": {"zh": "约 {passages} 个段落，预计 {eta}", "en": "about {passages} passages, about {eta}"},
    "seconds": {"zh": "{n} 秒", "en": "{n} s"},
    "minutes": {"zh": "{n} 分钟", "en": "{n} min"},
    "waiting": {
        "zh": "排队中：前面还有 {ahead} 个文档操作，完成后自动开始",
        "en": "Queued: {ahead} document change(s) ahead of this one; it starts by itself",
    },
    # --- why a file was refused (uploads and `advisor ingest` alike) -------------------------------
    "err_type": {
        "zh": "{name}：不支持的文件类型 {suffix}，请使用 {allowed}",
        "en": "{name}: unsupported file type {suffix}; use {allowed}",
    },
    "err_size": {
        "zh": "{name}：文件大小 {size} MB，超过 {limit} MB 的上限",
        "en": "{name}: {size} MB is over the {limit} MB limit",
    },
    "err_empty": {"zh": "{name}：文件是空的", "en": "{name}: the file is empty"},
    "err_no_text": {
        "zh": "{name}：文件中没有找到文字（扫描版 PDF 需要先做文字识别）",
        "en": "{name}: no text found in the file (a scanned PDF needs OCR first)",
    },
    "err_binary": {
        "zh": "{name}：这看起来是二进制文件而不是文本，请先转换为 .txt 或 .md",
        "en": "{name}: the file looks binary, not text; convert it to .txt or .md first",
    },
    "err_decode": {
        "zh": "{name}：文字无法按 UTF-8 或 GB18030 解码，请另存为 UTF-8 后重试",
        "en": "{name}: the text cannot be decoded as UTF-8 or GB18030; save it as UTF-8 and try again",
    },
    "err_text_budget": {
        "zh": "{name}：提取出的文字超过 {limit} MB 的上限，已停止读取；请拆分文件",
        "en": "{name}: the text extracted passed the {limit} MB limit, so reading stopped; split the file",
    },
    "err_pdf_pages": {
        "zh": "{name}：PDF 有 {pages} 页，超过 {limit} 页的上限",
        "en": "{name}: the PDF has {pages} pages, over the limit of {limit}",
    },
    "err_pdf_encrypted": {
        "zh": "{name}：PDF 已加密，请去掉密码后重试",
        "en": "{name}: the PDF is encrypted; remove the password and try again",
    },
    "err_pdf_unreadable": {
        "zh": "{name}：无法读取这个 PDF（文件损坏或不是 PDF）",
        "en": "{name}: the PDF cannot be read (damaged, or not a PDF)",
    },
    "err_pdf_limit": {
        "zh": "{name}：PDF 中的数据流解压后超过安全上限，已拒绝",
        "en": "{name}: a data stream in the PDF expands past the safety limit; refused",
    },
    "err_docx_unreadable": {
        "zh": "{name}：无法读取这个 Word 文件（文件损坏，或不是 .docx）",
        "en": "{name}: the Word file cannot be read (damaged, or not a .docx)",
    },
    "err_docx_bomb": {
        "zh": "{name}：Word 文件解压后超过 {limit} MB（或压缩比超过 {ratio} 倍，正常文档不会这样），已拒绝",
        "en": "{name}: the Word file unpacks to more than {limit} MB (or is compressed over {ratio}×, "
        "which no real document is); refused",
    },
    "err_html_size": {
        "zh": "{name}：网页文件 {size} MB，超过网页 {limit} MB 的上限；请把正文另存为文本",
        "en": "{name}: the web page is {size} MB, over the {limit} MB limit for HTML; save its text instead",
    },
    "err_passages": {
        "zh": "{name}：约 {passages} 个段落，单次上传最多 {limit} 个（ADVISOR_UPLOAD_MAX_PASSAGES）。"
        "请拆分文件，或由管理员用 advisor ingest 加入",
        "en": "{name}: about {passages} passages; one upload may add at most {limit} "
        "(ADVISOR_UPLOAD_MAX_PASSAGES). Split the file, or have it added with `advisor ingest`",
    },
    "err_duplicate": {
        "zh": "{name}：同样的内容已在索引中（“{title}”），没有重复加入",
        "en": "{name}: the same text is already in the index (“{title}”); not added twice",
    },
    "err_all_duplicate": {
        "zh": "{name}：每个段落都已在索引中，没有新内容可加入",
        "en": "{name}: every passage is already in the index; there is nothing new to add",
    },
    "err_index": {"zh": "{name}：文档无法加入索引", "en": "{name}: the document could not be indexed"},
    "err_gone": {
        "zh": "{name}：上传的文件已不在服务器上，请重新上传",
        "en": "{name}: the uploaded file is no longer on the server; upload it again",
    },
    "err_corpus_remove": {
        "zh": "{title}：资料库中的文档不能在这里移除",
        "en": "{title}: documents from the corpus cannot be removed here",
    },
    "err_unknown_doc": {
        "zh": "没有 id 为 {doc_id} 的上传文档",
        "en": "no uploaded document with id {doc_id}",
    },
    # --- /feedback ---------------------------------------------------------------------------------
    "feedback_rating": {
        "zh": "评价只能是 'up' 或 'down'",
        "en": "rating must be 'up' or 'down'",
    },
    "feedback_question": {"zh": "反馈需要对应的问题", "en": "feedback needs the question it is about"},
    "feedback_too_large": {
        "zh": "反馈内容过大（上限 {limit} 个字符）",
        "en": "the feedback is too large (limit: {limit} characters)",
    },
    "feedback_citations": {
        "zh": "citations 必须是 JSON 数组",
        "en": "citations must be a JSON array",
    },
    "feedback_rate": {
        "zh": "反馈太频繁，请 {seconds} 秒后再试",
        "en": "too much feedback from this client; try again in {seconds} s",
    },
    **TOOL_STRINGS,
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
    """The string `key` in `lang` (English when the language is unknown)."""
    text = STRINGS[key]["zh" if lang == "zh" else "en"]
    return text.format(**values) if values else text


class LocalizedError(ValueError):
    """An error a user can act on, said in either language; `str()` is the English text (for logs and the CLI)."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(t("en", key, **values))

    def message(self, lang: str) -> str:
        """The message in the interface language."""
        return t(lang, self.key, **self.values)
