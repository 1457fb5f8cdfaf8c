"""The strings of the tools around the chat, in Chinese and English: the citation reader, the retrieval
inspector, saved conversations, suggestions, login and knowledge bases. `i18n.t` reads them with the rest.
"""

from __future__ import annotations

TOOL_STRINGS: dict[str, dict[str, str]] = {
    # --- the citation reader -----------------------------------------------------------------------
    "reader_title": {"zh": "原文", "en": "The source"},
    "reader_prev": {"zh": "← 上一处", "en": "← Previous"},
    "reader_next": {"zh": "下一处 →", "en": "Next →"},
    "reader_close": {"zh": "返回出处列表", "en": "Back to the sources"},
    "reader_of": {"zh": "第 {n} 处，共 {total} 处", "en": "Citation {n} of {total}"},
    "reader_hint": {
        "zh": "点击回答中的 [n] 可在原文中查看该出处。",
        "en": "Click a [n] in the answer to read it where it stands in its document.",
    },
    "page": {"zh": "第 {page} 页", "en": "p. {page}"},
    # --- the retrieval inspector -------------------------------------------------------------------
    "tab_inspect": {"zh": "检索测试", "en": "Inspect"},  # not "…诊断": the diagnosis tab is 诊断
    "inspect_hint": {
        "zh": "查看一个问题的检索过程：每个检索通道（两个向量模型、BM25）的排序、融合后的排序、阅读模型的打分，"
        "以及是否回答的判断和理由。用于排查某个问题为什么答不好。",
        "en": "See how a question is retrieved: the ranking of every channel (each dense encoder, BM25), the "
        "fused ranking, the reader's scores, and the gate's verdict with its reasons — to find out why a "
        "question failed.",
    },
    "inspect_label": {"zh": "问题", "en": "Question"},
    "inspect_button": {"zh": "测试检索", "en": "Inspect"},
    "inspect_follow": {
        "zh": "作为当前对话的追问（先改写成独立问题）",
        "en": "As a follow-up of the current conversation (rewritten first)",
    },
    "ins_searched": {"zh": "检索语句", "en": "Searched for"},
    "ins_rewritten": {"zh": "由追问“{question}”改写而来", "en": "rewritten from the follow-up “{question}”"},
    "ins_verdict": {"zh": "判断", "en": "Verdict"},
    "ins_answer": {"zh": "回答", "en": "answer"},
    "ins_partial": {"zh": "部分回答", "en": "answer in part"},
    "ins_refuse": {"zh": "拒答（资料未覆盖）", "en": "refuse (not covered)"},
    "ins_fused": {"zh": "融合排序", "en": "Fused ranking"},
    "ins_reader": {
        "zh": "阅读模型打分（决定回答与否）",
        "en": "The reader's scores (they decide answer or refuse)",
    },
    "ins_no_reader": {"zh": "未启用阅读模型", "en": "No reader is configured"},
    "ins_channel": {
        "zh": "{source} · {language} · 权重 {weight}",
        "en": "{source} · {language} · weight {weight}",
    },
    "ins_all_langs": {"zh": "全部语言", "en": "all languages"},
    "ins_empty": {"zh": "（无结果）", "en": "(nothing)"},
    "col_rank": {"zh": "#", "en": "#"},
    "col_score": {"zh": "分数", "en": "Score"},
    "col_passage": {"zh": "段落", "en": "Passage"},
    "why_reader": {
        "zh": "阅读模型的最高概率 {p}（≥ {bar} 才回答）",
        "en": "the reader's best probability is {p} (it answers at ≥ {bar})",
    },
    "why_no_reader": {
        "zh": "未加载阅读模型（自定义编码器或 reader = none）：检索到的内容都会回答",
        "en": "no reader loaded (custom encoders or reader = none): whatever is retrieved is answered",
    },
    "why_low_similarity": {
        "zh": "没有检索到段落，或问题中没有一个词出现在资料里",
        "en": "nothing was retrieved, or not one word of the question occurs in the documents",
    },
    "why_not_answered": {"zh": "没有段落能回答这个问题", "en": "no passage answers the question"},
    "why_unknown_words": {
        "zh": "资料用问题的语言写成，却没有一个问题中的词（数字除外）",
        "en": "the documents are in the question's language but hold not one of its words (figures aside)",
    },
    "why_names": {"zh": "资料中没有的名称：{terms}", "en": "names the documents never mention: {terms}"},
    "why_parts": {"zh": "资料未回答的部分：{parts}", "en": "parts the documents do not answer: {parts}"},
    # --- saved conversations -----------------------------------------------------------------------
    "history": {"zh": "历史对话", "en": "Conversations"},
    "history_choice": {"zh": "打开一个历史对话", "en": "Open a saved conversation"},
    "history_empty": {"zh": "还没有保存的对话。", "en": "No saved conversations yet."},
    "export": {"zh": "导出当前对话", "en": "Export this conversation"},
    "export_nothing": {"zh": "当前没有可导出的对话。", "en": "There is no conversation to export yet."},
    "stop": {"zh": "停止", "en": "Stop"},
    "stopped": {"zh": "已停止", "en": "stopped"},
    "conversation_title": {"zh": "对话记录", "en": "Conversation"},
    "you_asked": {"zh": "问", "en": "Question"},
    "conversation_sources": {"zh": "出处", "en": "Sources"},
    "unknown_conversation": {"zh": "找不到这个对话。", "en": "That conversation was not found."},
    # --- suggested follow-ups ----------------------------------------------------------------------
    "suggested": {"zh": "接着问", "en": "Ask next"},
    # --- who may do what ---------------------------------------------------------------------------
    "signed_in": {"zh": "已登录：{user}", "en": "Signed in as {user}"},
    "logout": {"zh": "退出登录", "en": "Sign out"},
    "err_not_owner": {
        "zh": "{title}：只有上传者（{owner}）或管理员可以移除",
        "en": "{title}: only its uploader ({owner}) or an admin may remove it",
    },
    # --- knowledge bases ---------------------------------------------------------------------------
    "kb_label": {"zh": "知识库", "en": "Knowledge base"},
    "profile_label": {"zh": "我是", "en": "I am"},
    "profile_none": {"zh": "（按问题判断）", "en": "(as the question implies)"},
    "profile_sme": {"zh": "中小企业主", "en": "an SME owner"},
    "profile_park": {"zh": "园区运营方", "en": "a park operator"},
    "profile_official": {"zh": "县市政府官员", "en": "a county or city official"},
    "profile_consultant": {"zh": "咨询顾问", "en": "a consultant"},
    "kb_default": {"zh": "默认资料库", "en": "the bundled corpus"},
}
