"""What part a corpus sentence plays, and whom it speaks to: cue words of each language, as data.

These are facts of Chinese and English — "怎么办" and "what should we do" ask for advice, "例如" and "for example"
introduce a case, a sentence that opens with "该"/"This" leans on the one before it — not fitted to any set of
questions. The extractive answerer uses them to shape an answer (verdict, actions, case) and to prefer remedies
and cases over problem statements and authors' introductions.
"""

from __future__ import annotations

import re
from typing import Literal

from ..schema import Lang

Role = Literal[
    "question",
    "intro",
    "definition",
    "remedy",
    "action",
    "case",
    "figure",
    "problem",
    "cause",
    "caveat",
    "contrast",
]

# The English lists translate the Chinese ones (引入 → "bring in", 启动 → "launch", 条件 → "conditions", 导致 →
# "leads to"). On the two articles translated line for line, a line's remedy role now agrees between languages on
# 19 lines against 4 that differ (was 15 against 7). Translating the case (某 → "one … firm") and problem cues
# too moved those roles toward agreement but cost a dev question its key facts, so they wait.
_ROLE_CUES: dict[Role, dict[str, str]] = {
    "intro": {
        # the author's set-up, and the sign-off (我们将持续…, 最后送各位…一句箴言, 愿您…)
        "zh": r"^(?:作为一名|作為一名|我曾|我们是否|這讓我|这让我|本文|下面|以下|我们将持续|我们将继续|最后送|愿您|愿你)|^[^，,。]{0,12}(?:我|笔者)(?:曾|认为|發現|发现)",
        # the same openings in English: 作为一名 As a, 我曾 I once, 我们是否 Have we, 这让我 This made me, 本文 This
        # article, 下面/以下 Below / The following, 我…认为/发现 I think / I found
        "en": (
            r"^(?:As a\b|I have\b|I once\b|This article\b|Below\b|In this\b|The following\b"
            r"|This (?:made|makes|led|leads) (?:me|us)\b|(?:Have|Are|Did) we\b"
            r"|We will (?:keep|continue)\b|Finally, a (?:maxim|word|motto)\b|May (?:the|your)\b)"
            r"|^(?:We|I)\b.{0,30}\b(?:asked|wondered)\b|^[^,.]{0,40}\bI (?:once|think|believe|found|realized)\b"
        ),
    },
    "definition": {
        "zh": r"是指|指的是|指在|本质|本質|实质|實質|核心是|核心在于|即[^使便]|简单来说|簡單來說|定义|定義",
        "en": r"\brefers? to\b|\bdefin|\bmeans\b|\bin essence\b|\bessentially\b|\bat (?:its|their) core\b|\bthe core (?:is|lies)\b|\bthat is,|\bi\.e\.|\bin short\b|\bsimply put\b",
    },
    # A directive: what to do. (Sentences that only report what someone did count when they are not a problem.)
    "remedy": {
        "zh": r"建议|建議|应当|應當|应该|應該|需要|需[^求]|必须|必須|务必|務必|要求|要[^素点點求]|可从|可從|可以通过|可通过|可借用|第[一二三四五六七八九]步|首先|其次|最后|最後|立即|启动|啟動",
        "en": r"\bshould\b|\bneed(?:s)? to\b|\bmust\b|\brequire|\brecommend|\bsuggest|\bstep\b|\bfirst(?:ly)?,|\bsecond(?:ly)?,|\bnext,|\bfinally\b|\blastly\b|\bstart (?:by|with|from)\b|\bimmediately\b|\blaunch|\bbe sure to\b|\bborrow",
    },
    "action": {
        "zh": r"通过|通過|建立|引入|聚焦|采用|採用|推动|推動|构建|構建|搭建|培育|强化|強化|明确|明確|嵌入|参与|參與|优化|優化|对接|對接|补链|補鏈|绘制|繪製|扶持|激活",
        "en": r"\bestablish|\bbuil[dt]\b|\bintroduc|\bbr(?:ing|ings|inging|ought) in\b|\bfocus|\badopt|\bpromot|\bdriv(?:e|es|ing)\b|\bstrengthen|\bclarif|\bembed|\bparticipat|\boptimi|\bmapp|\bset(?:s|ting)? up\b|\bcultivat|\bfoster|\bconnect|\bsupport|\bactivat|\bfill(?:s|ing)? (?:the|a) gap|\bby (?:building|introducing|establishing|focusing|creating|mapping)\b|\bthrough\b",
    },
    "case": {
        "zh": r"某|案例|例如|比如|譬如|以.{1,12}为例|以.{1,12}為例|的实践|的實踐|经验表明|調研顯示|调研显示",
        "en": r"\bfor example\b|\be\.g\.|\bfor instance\b|\bsuch as\b|\bcase\b|\bexample\b|\ba certain\b|\bone (?:park|base|cluster|zone|firm|company|enterprise)\b|\bin practice\b|\bsurvey\b",
    },
    "problem": {
        "zh": r"困境|问题|問題|却|卻|误区|誤區|停滞|停滯|不足|低下|低至|下降|断裂|斷裂|徘徊|陷入|同质化|同質化|缺乏|弱|风险|風險",
        "en": r"\bproblem|\bhowever\b|\bfail|\bstall|\black|\blow\b|\bdeclin|\bbroken\b|\bstagnat|\bdilemma\b|\bweak|\brisk|\bhomogene",
    },
    "cause": {
        "zh": r"源于|源於|因为|因為|由于|由於|导致|導致|原因|根源|在于|在於",
        "en": r"\bbecause\b|\bdue to\b|\bcaus(?:e|es|ed)\b|\breasons?\b|\bstems? from\b|\bresult of\b|\bresult(?:s|ed)? in\b|\bl(?:ead|eads|eading|ed) to\b|\broot\b|\blies in\b",
    },
    "caveat": {
        "zh": r"注意|重要提示|避免|谨慎|謹慎|前提|条件|條件|并非|並非|不一定|≠",
        "en": r"\bnote\b|\bimportant\b|\bavoid|\bcaution|\bcareful|\bprecondition|\bprerequisite|\bconditions?\b|\bprovided that\b|\bnot necessarily\b|\bnot simply\b",
    },
    "contrast": {
        "zh": r"而|vs|前者|后者|後者|相比|不同于|不同於|区别|區別|不是.{1,20}而是|与此不同|反之",
        "en": r"\bwhereas\b|\bwhile\b|\bvs\.?\b|\bthe former\b|\bthe latter\b|\bcompared|\bunlike\b|\bdiffer|\bin contrast\b|\bnot .{1,30} but\b|\brather than\b",
    },
}
_FIGURE = re.compile(r"\d")
_QUESTION_END = re.compile(r"[?？][”’\"'」』)）]*$")
# A sentence that opens with a reference or a connective continues the one before it.
_LEANS = {
    "zh": re.compile(
        r"^(?:这|這|该|該|此|其|它|其中|但|但是|因此|所以|同时|同時|此外|而且|而|然而|对此|對此|这种|這種|这一|這一|上述)"
    ),
    "en": re.compile(
        r"^(?:This|These|That|Those|It|Its|Such|However|Therefore|Thus|Hence|Also|In addition|Moreover|But|They|Their)\b"
    ),
}
# Labels and list markers at the start of a line that an answer must not repeat.
_LEADING_LABEL = re.compile(
    r"^(?:答|问|問|A|Q)\s*[:：]\s*|^(?:[•·\-–*]\s*|\d{1,2}[.、]\s*|[一二三四五六七八九十]+、\s*|\(\d+\)\s*|（\d+）\s*)"
)

_COMPILED = {
    role: {lang: re.compile(pattern, re.IGNORECASE) for lang, pattern in cues.items()}
    for role, cues in _ROLE_CUES.items()
}


def sentence_roles(sentence: str, lang: Lang) -> frozenset[Role]:
    """Every part a sentence plays (a case sentence with figures is both "case" and "figure")."""
    roles: set[Role] = {role for role, cues in _COMPILED.items() if cues[lang].search(sentence)}
    if _FIGURE.search(sentence):
        roles.add("figure")
    if _QUESTION_END.search(sentence.strip()):
        roles.add("question")
    if "action" in roles and not roles & {"problem", "case", "figure"}:
        roles.add("remedy")  # a way to do it, stated without a case: what was done in a case is the case
    return frozenset(roles)


def leans_on_previous(sentence: str, lang: Lang) -> bool:
    """True when the sentence refers back ("该体系…", "This builds…") and cannot stand alone."""
    text = clean(sentence)
    # an English piece that starts in lower case is the rest of a sentence split at ";" or ":"
    return bool(_LEANS[lang].match(text)) or (lang == "en" and text[:1].islower())


def is_heading(raw: str) -> bool:
    """A line without a sentence end is a heading ("典型案例解剖:某医疗器械生态的蜕变之路"); a bracket at the end
    counts as an end only when what it closes follows one ("2.生态运营能力建设路径(实施难度:★★★☆☆)" is a heading,
    "…等行业（如纺织）。" and "(see above.)" are not)."""
    stripped = _without_trailing_brackets(raw.strip())
    return not stripped or stripped[-1] not in '。！？!?；;.”"」』%'


def _without_trailing_brackets(text: str) -> str:
    """`text` without the bracketed groups it ends with (nested ones too), unless a sentence ends inside one."""
    while text and text[-1] in ")）":
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += text[i] in ")）"
            depth -= text[i] in "(（"
            if depth == 0:
                break
        else:
            return text  # unbalanced: leave it as it is
        inner = text[i + 1 : -1].rstrip()
        if inner and inner[-1] in "。！？!?.":
            return inner  # "(…。)": the sentence ends inside the bracket
        text = text[:i].rstrip()
    return text


def is_answer_label(sentence: str) -> bool:
    """True for the opening of a Q&A answer ("答:…", "A: …")."""
    return bool(re.match(r"^\s*(?:答|A)\s*[:：]", sentence))


def clean(sentence: str) -> str:
    """The sentence without a leading "答:"/"Q:" label or list marker (still a verbatim slice of the text)."""
    previous = None
    text = sentence.strip()
    while previous != text:
        previous = text
        text = _LEADING_LABEL.sub("", text, count=1).strip()
    return text


Profile = Literal["sme", "park", "official", "consultant"]
PROFILES: tuple[Profile, ...] = ("sme", "park", "official", "consultant")
# Who is asking: the words of each language that mark a sentence as addressed to them.
_PROFILE_CUES: dict[Profile, dict[str, str]] = {
    "sme": {
        "zh": r"企业|企業|中小|厂|廠|团队|團隊|公司|供应商|供應商|订单|訂單",
        "en": r"\bfirms?\b|\bcompan(?:y|ies)\b|\benterprises?\b|\bSMEs?\b|\bstartups?\b|\bsuppliers?\b|\bteams?\b|\borders?\b",
    },
    "park": {
        "zh": r"园区|園區|开发区|開發區|产业园|產業園|基地|管委会|管委會|招商|入驻|入駐",
        "en": r"\bparks?\b|\bzones?\b|\bbases?\b|\bmanagement committee\b|\binvestment attraction\b|\btenants?\b",
    },
    "official": {
        "zh": r"政府|政策|区域|區域|地方|县|縣|市|省|规划|規劃|扶持|链长|鏈長",
        "en": r"\bgovernments?\b|\bpolic(?:y|ies)\b|\bregions?\b|\bregional\b|\bcount(?:y|ies)\b|\bcit(?:y|ies)\b|\bprovinc|\bplans?\b|\bchain leader\b",
    },
    "consultant": {
        "zh": r"评估|評估|诊断|診斷|模型|方法|指标|指標|体系|體系|图谱|圖譜",
        "en": r"\bassess|\bdiagnos|\bmodels?\b|\bmethod|\bindicators?\b|\bframework|\bsystem\b|\bmap(?:ping)?\b",
    },
}
_PROFILE_COMPILED = {
    profile: {lang: re.compile(pattern, re.IGNORECASE) for lang, pattern in cues.items()}
    for profile, cues in _PROFILE_CUES.items()
}


def addressed_to(sentence: str, lang: Lang, profile: Profile | None) -> bool:
    """True when the sentence speaks to this kind of client (their firm, their park, their region, …)."""
    return profile is not None and bool(_PROFILE_COMPILED[profile][lang].search(sentence))
