"""Answer shapes of the extractive answerer, with fake passages and fake reader scores (no models)."""

from __future__ import annotations

import re

from advisor.answer.extractive import MAX_CHARS, MAX_SENTENCES, ExtractiveAnswerer
from advisor.answer.question import prepare_question
from advisor.answer.roles import clean, leans_on_previous, sentence_roles
from advisor.embed.fake import HashEmbedder
from advisor.intent import question_intent
from advisor.read.features import sentences_with_offsets
from advisor.schema import Chunk, Passage, Reading, SentenceScore
from advisor.text import simplify

MARKED = re.compile(r"([^\[\]\n]+?)\[(\d+)\]")


def passage(cid: str, text: str, lang: str = "zh") -> Passage:
    return Passage(Chunk(cid, "doc", "T", lang, text, 0, "corpus/doc.md", 1, 1), 1.0)  # type: ignore[arg-type]


def reading(p: Passage, score: float, sentence_scores: dict[str, float]) -> Reading:
    """A reading that scores each sentence by the first matching key (substring), else 0.1."""
    sentences = []
    for start, s in sentences_with_offsets(p.chunk.text):
        value = next((v for k, v in sentence_scores.items() if k in s), 0.1)
        sentences.append(SentenceScore(s, start, value))
    return Reading(p, score, tuple(sentences))


def answer(question: str, passages: list[Passage], readings: list[Reading]) -> str:
    draft = ExtractiveAnswerer(HashEmbedder()).answer(prepare_question(question, 500), passages, readings)
    for sentence, n in MARKED.findall(draft.text):
        text = re.sub(
            r"^(?:(?:结论|原因|案例|注意|Verdict|Why|Case|Caveat)[:：]\s*|\d+\.\s+|-\s+)",
            "",
            sentence.strip(),
        )
        cited = draft.citations[int(n) - 1].passage.chunk.text
        # every quoted sentence is a verbatim slice of its citation (up to the script shown)
        assert text in cited or simplify(text) in simplify(cited), (text, cited)
    return draft.text


PROBLEM = passage(
    "d:0",
    "多数人认为企业数量增加自然带来生态繁荣，但数据显示某电子制造基地在引入37家新企业后，单位产值能耗反而上升15%。"
    "我们通过绘制产业价值流图谱，精准定位缺失环节，引入3家专业数据服务商，使算法模型迭代周期从42天缩短至18天。"
    "这揭示了生态链构建需要遵循木桶理论的逆向思维。",
)
STEPS = passage(
    "d:1",
    "第一步先绘制产业基因图谱，识别出储能系统集成能力缺失。第二步关键要搭建要素流通枢纽，实现数据、技术、订单的智能匹配。"
    "第三步我们通过建立动态评估体系确保效果，某电子信息产业集群采用该体系后，企业协同创新项目存活率从41%提升至68%。",
)
INTRO = passage("d:2", "作为一名深耕产业运营领域十余年的从业者，我曾多次被问及园区产值为何上不去。")


def test_question_intent_follows_what_is_asked_in_both_languages() -> None:
    assert question_intent("我们园区企业很多但产值上不去，怎么办？", "zh") == "advice"
    assert question_intent("有没有具体例子？最好有数字。", "zh") == "case"
    assert question_intent("产业集聚和产业集群有什么区别？", "zh") == "comparison"
    assert question_intent("什么是产业生态？", "zh") == "definition"
    assert question_intent("How do I tell an agglomeration from a real cluster?", "en") == "comparison"
    assert question_intent("What should a small sensor firm do to join an EV ecosystem?", "en") == "advice"
    assert question_intent("Give me an example with figures.", "en") == "case"
    assert question_intent("When did the chain leader system start?", "en") == "fact"


def test_english_intent_cues_mirror_the_chinese_ones() -> None:
    """A client checking their own case (是不是/算不算 → "Is this really…", "Are we…"), asking what is missing
    (缺什么/问题出在哪) or for a precedent (先例, 有没有…做过 → "Has anyone…") asks for advice or a case in
    either language; a plain question stays a fact."""
    for zh, en, intent in [
        ("这到底算不算真正的集群？", "Is this really a cluster?", "advice"),
        (
            "我们是不是衡量错了指标？",
            "Our board wants more firms. Are we measuring the wrong thing?",
            "advice",
        ),
        ("我们到底缺了什么？", "Is that label accurate, and what's missing?", "advice"),
        ("问题到底出在哪？", "What's gone wrong here?", "advice"),
        ("有没有类似的先例？", "Any precedent with numbers?", "case"),
        ("有没有园区做过的例子？", "Has any zone handled a sudden exit like this?", "case"),
    ]:
        assert question_intent(zh, "zh") == intent, zh
        assert question_intent(en, "en") == intent, en
    assert question_intent("Which strategy holds up better over the long run?", "en") == "comparison"
    assert question_intent("Is there a practical model for sharing engineers?", "en") == "advice"
    assert question_intent("How many firms did the base bring in?", "en") == "fact"
    assert question_intent("Where is the cluster located?", "en") == "fact"


def test_sentence_roles_labels_and_references() -> None:
    assert {"case", "figure"} <= sentence_roles(
        "某医疗器械产业基地初期尝试大而全的招商策略，导致产品同质化率高达63%。", "zh"
    )
    assert "remedy" in sentence_roles("建议采用3+30+90学习路径。", "zh")
    assert "question" in sentence_roles("为何我们的产业园区入驻企业数量持续增长？”", "zh")
    assert "intro" in sentence_roles("作为一名深耕产业运营领域十余年的从业者，我曾多次被问及。", "zh")
    # the author's set-up reads as one in either language (这让我… / This made me…, 我们是否… / Have we…)
    for zh, en in [
        (
            "这让我意识到，生态链正在成为核心命题。",
            "This made me realize that the ecosystem chain is a core question.",
        ),
        (
            "我们是否忽略了节点间的价值传导机制？",
            "Have we overlooked the value transmission between the nodes?",
        ),
    ]:
        assert "intro" in sentence_roles(zh, "zh") and "intro" in sentence_roles(en, "en")
    assert "intro" not in sentence_roles("This builds a closed-loop value circulation system.", "en")
    # the English cues translate the Chinese ones: 启动 launch, 引入 bring in, 导致 lead to, 条件 conditions
    for zh, en, role in [
        (
            "当合规度低于标准时启动合规改造。",
            "When compliance falls short, launch a compliance overhaul.",
            "remedy",
        ),
        ("园区引入专业服务商。", "The park brought in specialist service providers.", "action"),
        ("企业各自为战导致园区空置。", "Firms working alone led to empty parks.", "cause"),
        ("满足两个条件才能成功。", "Success takes two conditions.", "caveat"),
    ]:
        assert role in sentence_roles(zh, "zh") and role in sentence_roles(en, "en"), en
    assert clean("答:用我们研发的三阶定位法。") == "用我们研发的三阶定位法。"
    assert clean("2. 建立联合研发基金。") == "建立联合研发基金。"
    assert leans_on_previous("该企业通过该方案使质量追溯效率提升40倍。", "zh")
    assert leans_on_previous("This builds a tightly coupled ecosystem.", "en")
    assert not leans_on_previous("某钢铁企业转型实践为例。", "zh")


def test_advice_answer_has_a_verdict_numbered_remedies_and_a_case_with_figures() -> None:
    passages = [PROBLEM, STEPS, INTRO]
    readings = [
        reading(PROBLEM, 0.8, {"多数人": 0.7, "我们通过": 0.6, "这揭示": 0.5}),
        reading(STEPS, 0.7, {"第一步": 0.5, "第二步": 0.5, "第三步": 0.45}),
        reading(INTRO, 0.6, {"作为": 0.9}),
    ]
    text = answer("我们园区企业很多但产值上不去，怎么办？", passages, readings)
    assert text.startswith("结论：") and "\n行动建议：\n1. " in text
    assert re.search(r"^1\. .+\[\d\]$", text, re.M) and re.search(r"^2\. ", text, re.M)
    assert "作为一名" not in text  # the author's introduction is never the answer
    assert "第一步" in text and "第二步" in text  # remedies over problem statements
    sentences = MARKED.findall(text)
    assert len(sentences) <= MAX_SENTENCES and sum(len(s) for s, _ in sentences) <= MAX_CHARS
    # "这揭示了…" leans on the sentence before it: it is never quoted without it.
    if "这揭示" in text:
        assert text.index("我们通过") < text.index("这揭示")


def test_a_case_answer_carries_every_figure_of_its_passage() -> None:
    case = passage(
        "d:3",
        "某医疗器械产业基地初期尝试大而全的招商策略，导致产品同质化率高达63%。调整聚焦细分领域生态构建后，重点培育内窥镜产业链，引入光学镜头、图像处理等6类配套企业。"
        "通过建立联合研发基金，推动3家企业共同攻克微型摄像头技术，使产品分辨率从4K提升至8K。值得注意的是，该生态链在2023年实现专利交叉许可收入1.2亿元。",
    )
    readings = [reading(case, 0.9, {"某医疗器械": 0.8}), reading(STEPS, 0.5, {})]
    text = answer("有没有医疗器械生态的案例？要有具体数字。", [case, STEPS], readings)
    for figure in ("63%", "6类", "3家", "8K", "2023", "1.2亿元"):
        assert figure in text, figure


def test_simplified_question_on_a_traditional_passage_is_shown_in_simplified() -> None:
    traditional = passage("d:4", "產業集聚是「地理上的集中」，而產業集群是「有組織的共生」。")
    text = answer("产业集聚和产业集群有什么区别？", [traditional], [reading(traditional, 0.9, {"產業": 0.9})])
    assert "产业集聚" in text and "產業" not in text


def test_qa_answers_lose_their_label_and_keep_their_first_sentence() -> None:
    qa = passage(
        "d:5",
        "2.中小企业如何参与生态链建设？\n答:用我们研发的三阶定位法：每周只做核心能力评估。就像某10人规模的传感器团队，通过聚焦细分领域，年订单量从300万元跃升至2800万元。",
    )
    text = answer("小企业怎样参与生态链建设？", [qa], [reading(qa, 0.9, {"就像": 0.9})])
    assert "答:" not in text and "如何参与生态链建设？" not in text
    assert "用我们研发的三阶定位法" in text  # the answer's opening comes with the sentence chosen from it


def test_a_client_profile_puts_their_own_actions_first() -> None:
    steps = passage(
        "d:6",
        "第一步政府应当完善产业规划与扶持政策。第二步园区需要搭建公共服务平台。第三步企业需要明确自身在产业链中的定位。",
    )
    readings = [reading(steps, 0.9, {"第一步": 0.6, "第二步": 0.6, "第三步": 0.6})]
    question = "我们该怎么做才能融入产业集群？"
    plain = ExtractiveAnswerer(HashEmbedder()).answer(prepare_question(question, 200), [steps], readings).text
    sme = (
        ExtractiveAnswerer(HashEmbedder())
        .answer(prepare_question(question, 200), [steps], readings, "sme")
        .text
    )
    official = (
        ExtractiveAnswerer(HashEmbedder())
        .answer(prepare_question(question, 200), [steps], readings, "official")
        .text
    )
    first = {
        name: re.search(r"^1\. (.+)$", text, re.M)
        for name, text in [("plain", plain), ("sme", sme), ("official", official)]
    }
    assert first["sme"] and "企业" in first["sme"].group(1)
    assert first["official"] and "政府" in first["official"].group(1)


def test_headings_are_never_quoted_as_statements_but_a_case_keeps_their_figures() -> None:
    heading = "2.生态运营能力建设路径(实施难度:★★★☆☆|回报周期:612个月)"
    body = "某生物医药园区通过该路径培养的12名生态运营官，使企业间协作成功率提升57%。建议先考取产业生态运营师认证。"
    p = passage("d:5", f"{heading}\n{body}")
    readings = [reading(p, 0.9, {"生态运营能力建设路径": 0.95, "某生物医药": 0.8, "建议": 0.7})]
    for question in (
        "我们园区怎么提升生态运营能力？",
        "生态运营能力建设路径培养了几名运营官？",
    ):  # advice, a fact
        text = answer(question, [p], readings)
        assert "建设路径" not in text and "12名" in text  # the best-scored line is a title, not a statement
    case = answer("有没有园区培养生态运营官的案例？要有数字。", [p], readings)
    assert "612个月" in case and "57%" in case


def test_an_english_piece_that_starts_in_lower_case_comes_with_what_it_continues() -> None:
    assert leans_on_previous("for example, the Wenzhou garment cluster adjusts its division of labor.", "en")
    assert not leans_on_previous(
        "For example, the Wenzhou garment cluster adjusts its division of labor.", "en"
    )
    p = passage(
        "e:0",
        "Risk resilience: companies within the cluster spread risk through division of labor;"
        " for example, when overseas orders fluctuate, the Wenzhou garment cluster adjusts its internal division"
        " of labor, whereas companies in a mere agglomeration are more fragile.",
        "en",
    )
    text = answer(
        "How does a cluster resist risk?", [p], [reading(p, 0.9, {"for example": 0.9, "Risk": 0.3})]
    )
    assert text.index("Risk resilience") < text.index("for example")  # never opens mid-sentence


def test_the_authors_set_up_and_sign_off_are_never_the_advice() -> None:
    for zh, en in [
        (
            "我们将持续跟踪生态价值流动的量子纠缠效应。",
            "We will keep tracking the quantum entanglement effect of value flows.",
        ),
        (
            "最后送各位产业运营者一句箴言:生态链是养育出来的。",
            "Finally, a maxim for all of you: an ecosystem is nurtured.",
        ),
    ]:
        assert "intro" in sentence_roles(zh, "zh") and "intro" in sentence_roles(en, "en"), en
    # a paragraph the author opens with their set-up stays set-up, anecdote and all
    opening = passage(
        "d:6",
        "作为一名深耕产业运营领域十余年的从业者，我曾多次被问及这个问题。"
        "某次与某省级开发区管委会主任的对话中，他说企业间的协同效率低得惊人。",
    )
    readings = [reading(opening, 0.9, {"某次": 0.6}), reading(STEPS, 0.8, {"第二步": 0.7})]
    text = answer("我们园区企业很多但产值上不去，怎么办？", [opening, STEPS], readings)
    assert "某次与" not in text and "第二步" in text
