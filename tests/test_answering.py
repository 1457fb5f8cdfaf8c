"""Answer logic with fakes: question checks, evidence rules, sentence selection and citation numbering."""

from __future__ import annotations

import pytest

from advisor.answer.extractive import ExtractiveAnswerer
from advisor.answer.question import QuestionError, prepare_question
from advisor.embed.fake import HashEmbedder
from advisor.read.gate import ReaderGate, open_gate, question_asks, question_parts, unknown_names
from advisor.retrieve.lexical import LexicalIndex
from advisor.schema import Chunk, Passage, Retrieval


def chunk(cid: str, text: str, lang: str = "zh", doc: str = "d") -> Chunk:
    return Chunk(cid, doc, "T", lang, text, 0, "corpus/d.md", 1, 1)  # type: ignore[arg-type]


PASSAGES = [
    Passage(chunk("d:0", "产业集群是有组织的共生网络。企业之间存在稳定的产业链协作。"), 1.0),
    Passage(chunk("d:1", "产业集聚只是地理上的集中。企业之间不一定存在紧密的经济联系。"), 0.9),
    Passage(chunk("d:2", "1.如何判断生态链是否健康?\n答:需重点观察三个维度。"), 0.5),
]


def test_question_checks() -> None:
    with pytest.raises(QuestionError):
        prepare_question("  \n\t ", 100)
    with pytest.raises(QuestionError):
        prepare_question("?!?! 2024 ...", 100)
    q = prepare_question("什么是产业集群？" * 50, 100)
    assert len(q.text) == 100 and q.notices and q.lang == "zh"
    assert prepare_question("What\u200b is a cluster?\x07", 100).text == "What is a cluster?"


def test_extractive_answer_cites_the_passage_each_sentence_came_from() -> None:
    answerer = ExtractiveAnswerer(HashEmbedder(dim=256))
    question = prepare_question("产业集聚和产业集群的区别是什么？", 200)
    draft = answerer.answer(question, PASSAGES)
    assert draft.citations
    for citation in draft.citations:
        assert f"[{citation.n}]" in draft.text
    for sentence, n in __import__("re").findall(r"([^\]\n]+?)\[(\d+)\]", draft.text):
        cited = next(c for c in draft.citations if c.n == int(n))
        assert sentence.strip().removeprefix("- ") in cited.passage.chunk.text
    assert [c.n for c in draft.citations] == list(range(1, len(draft.citations) + 1))


def test_english_question_over_chinese_passages_says_so() -> None:
    draft = ExtractiveAnswerer(HashEmbedder()).answer(
        prepare_question("What is a cluster?", 100), PASSAGES[:1]
    )
    assert draft.text.startswith("The corpus covers this only in Chinese")


def _lexical() -> LexicalIndex:
    return LexicalIndex(
        [p.chunk for p in PASSAGES] + [chunk("e:0", "Clusters in Zhili and 温州 grew fast.", "en")]
    )


def test_romanised_chinese_names_count_as_known_and_figures_never_as_unknown_names() -> None:
    lexical = _lexical()
    assert lexical.knows("wenzhou") and not lexical.knows("chengdu")
    names = unknown_names(
        prepare_question("How did firms in Wenzhou and Chengdu react in 2023?", 100), lexical
    )
    assert names == ("Chengdu",)  # Wenzhou is 温州 in the corpus; 2023 is the client's own figure
    zh = unknown_names(prepare_question("我们园区去年有120家企业，成都的做法值得学吗？", 100), lexical)
    assert "成都" in zh and not any(ch.isdigit() for name in zh for ch in name)


class ScriptedReader:
    """A reader whose passage scores come from a table keyed by question text (no model)."""

    name = "scripted"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def read(self, question, passages, vocabulary):  # type: ignore[no-untyped-def]
        from advisor.schema import Reading

        return tuple(Reading(p, self.scores.get(question.text, 0.0)) for p in passages)


def _readings(reader: ScriptedReader, question: str) -> Retrieval:
    q = prepare_question(question, 200)
    return Retrieval(tuple(PASSAGES), readings=reader.read(q, PASSAGES, _lexical()))


def test_the_reader_gate_decides_from_the_reader_probability() -> None:
    reader = ScriptedReader({"产业集群是什么？": 0.8, "产业集群的税率是多少？": 0.2})
    gate = ReaderGate(reader)  # type: ignore[arg-type]
    yes = gate(prepare_question("产业集群是什么？", 100), _readings(reader, "产业集群是什么？"), _lexical())
    no = gate(
        prepare_question("产业集群的税率是多少？", 100),
        _readings(reader, "产业集群的税率是多少？"),
        _lexical(),
    )
    assert yes.sufficient and yes.answerability == 0.8
    assert not no.sufficient and no.reason == "not_answered" and no.answerability == 0.2


def test_a_question_of_which_the_corpus_knows_no_word_is_refused_when_it_speaks_its_language() -> None:
    zh, en = "合肥2023年的GDP是多少？", "What was the GDP of Hefei in 2023?"
    reader = ScriptedReader({zh: 0.9, en: 0.9})  # a reader fooled by the year
    gate = ReaderGate(reader)  # type: ignore[arg-type]
    refused = gate(prepare_question(zh, 100), _readings(reader, zh), _lexical())
    assert not refused.sufficient and refused.reason == "unknown_words"
    # Over Chinese passages only, an English question shares no words with them by nature: the reader decides.
    assert gate(prepare_question(en, 100), _readings(reader, en), _lexical()).sufficient


def test_a_question_of_several_questions_is_answered_in_part() -> None:
    whole = "产业集群是什么？合肥高新区的税率是多少？"
    reader = ScriptedReader({whole: 0.7, "产业集群是什么？": 0.9, "合肥高新区的税率是多少？": 0.1})
    verdict = ReaderGate(reader)(prepare_question(whole, 200), _readings(reader, whole), _lexical())  # type: ignore[arg-type]
    assert question_parts(prepare_question(whole, 200)) == ["产业集群是什么？", "合肥高新区的税率是多少？"]
    assert verdict.sufficient and verdict.not_covered == ("合肥高新区的税率是多少？",)
    assert question_parts(prepare_question("怎么办？", 100)) == ["怎么办？"]  # a fragment is not a part


def test_an_ask_is_also_read_without_the_clients_statements_before_it() -> None:
    ask = "我们这算产业集群吗？"
    whole = "我们园区有86家企业，去年产值才25亿。" + ask
    reader = ScriptedReader({whole: 0.3, ask: 0.8})  # the client's own words and figures hide the ask
    gate = ReaderGate(reader)  # type: ignore[arg-type]
    verdict = gate(prepare_question(whole, 200), _readings(reader, whole), _lexical())
    assert question_asks(prepare_question(whole, 200)) == ([ask], True)
    assert verdict.sufficient and verdict.answerability == 0.8 and verdict.not_covered == ()
    unanswered = ScriptedReader({whole: 0.3, ask: 0.2})  # neither reading answers it: refused
    assert not ReaderGate(unanswered)(
        prepare_question(whole, 200), _readings(unanswered, whole), _lexical()
    ).sufficient  # type: ignore[arg-type]
    # a statement alone, or a question with nothing stated before it, is read once, as it is
    assert question_asks(prepare_question("请介绍产业集群。", 100)) == ([], True)
    assert question_asks(prepare_question(ask, 100)) == ([ask], False)


def test_without_a_reader_only_wordless_or_empty_retrievals_are_refused() -> None:
    retrieval = Retrieval(tuple(PASSAGES))
    assert open_gate(prepare_question("产业集群是什么？", 100), retrieval, _lexical()).sufficient
    assert not open_gate(prepare_question("asdfgh qwerty zxcvbn", 100), retrieval, _lexical()).sufficient
    assert not open_gate(prepare_question("产业集群是什么？", 100), Retrieval(()), _lexical()).sufficient


def test_vector_cache_encodes_each_text_once() -> None:
    from advisor.embed.base import VectorCache

    seen: list[list[str]] = []

    def encode(texts: list[str]):  # type: ignore[no-untyped-def]
        seen.append(texts)
        return HashEmbedder().embed_passages(texts)

    cache = VectorCache(size=3)
    first = cache.get_many(["a", "b", "a"], encode)
    again = cache.get_many(["b", "a"], encode)
    assert seen == [["a", "b"]]
    assert (first[1] == again[0]).all() and (first[0] == first[2]).all()
    cache.get_many(["c", "d"], encode)  # evicts "b", the least recently used
    cache.get_many(["a", "b"], encode)
    assert seen[-1] == ["b"]


def test_truncation_keeps_a_question_asked_after_a_long_paste() -> None:
    pasted = "以下是我们园区的情况介绍。" * 200 + "请问：怎样判断我们是集聚还是集群？"
    q = prepare_question(pasted, 1000)
    assert len(q.text) <= 1000 and q.text.endswith("怎样判断我们是集聚还是集群？")
    assert q.text.startswith("以下是我们园区的情况介绍。") and q.notices


def test_english_answer_mixing_chinese_passages_says_so() -> None:
    en = Passage(
        chunk(
            "e:1", "Industrial clusters share infrastructure and cut logistics costs for firms.", "en", "e"
        ),
        1.0,
    )
    draft = ExtractiveAnswerer(HashEmbedder(dim=256)).answer(
        prepare_question("How do industrial clusters cut costs for firms? 产业集群 企业", 200),
        [en, *PASSAGES[:2]],
    )
    langs = {c.passage.chunk.lang for c in draft.citations}
    if langs == {"en", "zh"}:
        assert draft.text.startswith("Part of this is covered only in Chinese")
