"""Answer logic with fakes: question checks, evidence rules, sentence selection and citation numbering."""

from __future__ import annotations

import pytest

from advisor.answer.evidence import Thresholds, check_evidence, specific_terms
from advisor.answer.extractive import ExtractiveAnswerer
from advisor.answer.question import QuestionError, prepare_question
from advisor.embed.fake import HashEmbedder
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


def test_fact_question_about_an_unknown_name_is_refused() -> None:
    retrieval = Retrieval(tuple(PASSAGES), {"e5": 0.95, "use": 0.9})
    refused = check_evidence(prepare_question("合肥的产业集群有多少家企业？", 100), retrieval, _lexical())
    assert not refused.sufficient and refused.reason == "unknown_terms"
    advice = check_evidence(
        prepare_question("合肥的产业集群怎样建立产业链协作？", 100), retrieval, _lexical()
    )
    assert advice.sufficient


def test_romanised_chinese_names_count_as_known() -> None:
    terms = dict(specific_terms(prepare_question("How did firms in Wenzhou and Chengdu react?", 100)))
    assert {"Wenzhou", "Chengdu"} <= set(terms)
    lexical = _lexical()
    assert lexical.knows("wenzhou") and not lexical.knows("chengdu")


def test_low_similarity_is_refused_per_language_threshold() -> None:
    t = Thresholds(en_min_cosine=0.8, zh_min_cosine=0.9, zh_min_support=0.5)
    en = prepare_question("How do clusters grow?", 100)
    assert check_evidence(en, Retrieval(tuple(PASSAGES), {"e5": 0.81}), _lexical(), t).sufficient
    assert (
        check_evidence(en, Retrieval(tuple(PASSAGES), {"e5": 0.79}), _lexical(), t).reason == "low_similarity"
    )
    zh = prepare_question("产业集群是什么？", 100)
    assert not check_evidence(zh, Retrieval(tuple(PASSAGES), {"e5": 0.85}), _lexical(), t).sufficient
    assert not check_evidence(zh, Retrieval((), {"e5": 0.99}), _lexical(), t).sufficient


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


def test_off_vocabulary_and_unknown_person_names_are_refused() -> None:
    retrieval = Retrieval(tuple(PASSAGES), {"e5": 0.95, "use": 0.9})
    garbage = check_evidence(prepare_question("asdfgh qwerty zxcvbn uiop", 100), retrieval, _lexical())
    assert not garbage.sufficient
    porter = check_evidence(
        prepare_question("What does Michael Porter's diamond model say about clusters?", 100),
        retrieval,
        _lexical(),
    )
    assert not porter.sufficient and porter.reason == "unknown_terms"
    assert any("Porter" in term for term in porter.unknown_terms)
    known = check_evidence(prepare_question("How did clusters in Zhili grow?", 100), retrieval, _lexical())
    assert known.sufficient


def test_inflected_english_words_match_the_stemmed_vocabulary() -> None:
    lexical = LexicalIndex([chunk("r:0", "The Harbor Lane robotics park trains welding technicians.", "en")])
    retrieval = Retrieval((Passage(chunk("r:0", "x", "en"), 1.0),), {"e5": 0.95})
    q = prepare_question("How many technicians does the Harbor Lane Robotics Park train?", 200)
    assert check_evidence(q, retrieval, lexical).sufficient
