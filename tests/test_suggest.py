"""Suggested follow-ups: drawn from the cited documents' sections, phrased by an LLM when one is configured."""

from __future__ import annotations

from typing import Any

from advisor.answer.llm import LLMError
from advisor.answer.prompts import PromptLibrary
from advisor.answer.suggest import heading, suggest, topics
from advisor.schema import Answer, Chunk, Citation, Passage


def chunk(position: int, text: str, doc: str = "d", lang: str = "zh") -> Chunk:
    return Chunk(f"{doc}:{position}", doc, f"{doc} title", lang, text, position, f"corpus/{doc}.md", 1, 1)  # type: ignore[arg-type]


DOC = [
    chunk(0, "产业集群与产业集聚是两个密切相关但内涵不同的概念，核心区别体现在多个维度。"),
    chunk(1, "核心内涵:“物理集中” vs “生态共生”\n产业集聚是地理上的集中，产业集群是有组织的共生。"),
    chunk(2, "2.形成机制:从被动吸引到主动共生\n集群的形成动力是内生需求驱动。"),
    chunk(3, "3.功能效应\n集群形成系统竞争力。"),
    chunk(4, "结语\n判断集聚还是集群，看产业链协作与生态网络。"),
]


def cited(*chunks: Chunk, lang: str = "zh", others: tuple[Chunk, ...] = ()) -> Answer:
    passages = tuple(Passage(c, 1.0) for c in (*chunks, *others))
    citations = tuple(Citation(n, Passage(c, 1.0)) for n, c in enumerate(chunks, 1))
    return Answer("区别是什么？", lang, "……[1]", False, "extractive", citations, passages, {})  # type: ignore[arg-type]


def test_a_heading_is_a_short_first_line_without_its_numbering() -> None:
    assert heading(DOC[2]) == "形成机制:从被动吸引到主动共生"
    assert heading(DOC[1]) == "核心内涵:“物理集中” vs “生态共生”"
    assert heading(DOC[0]) is None  # running text, not a section
    assert heading(chunk(9, "One line only")) is None


def test_sections_near_the_cited_passage_come_first_then_other_documents() -> None:
    other = chunk(0, "Another document's text.", doc="other")
    found = topics(cited(DOC[2], others=(other,)), [*DOC, other])
    assert found[:3] == [
        ("section", "核心内涵:“物理集中” vs “生态共生”"),
        ("section", "功能效应"),
        ("section", "结语"),
    ]
    assert ("document", "other title") in found
    assert all(
        topic != "形成机制:从被动吸引到主动共生" for _, topic in found
    )  # the cited section itself is not


def test_without_an_llm_the_templates_phrase_them() -> None:
    questions = suggest(cited(DOC[2]), DOC)
    assert questions == (
        "关于「核心内涵:“物理集中” vs “生态共生”」，资料怎么说？",
        "关于「功能效应」，资料怎么说？",
        "关于「结语」，资料怎么说？",
    )
    assert suggest(cited(DOC[2]).__class__(**{**cited(DOC[2]).__dict__, "refused": True}), DOC) == ()


class Phrasing:
    """Just the `complete` of an LLMAnswerer: a scripted reply, or an LLMError."""

    backend = "openai"

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    def complete(self, system: str, user: str, deadline: Any = None) -> str:
        self.prompts.append(user)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_an_llm_phrases_them_and_the_templates_stand_in_when_it_fails() -> None:
    llm = Phrasing("1. 集群和集聚的内涵有何不同？\n2. 集群有哪些功能效应？\n- 结语的判断标准是什么？")
    got = suggest(cited(DOC[2]), DOC, llm, PromptLibrary())
    assert got == ("集群和集聚的内涵有何不同？", "集群有哪些功能效应？", "结语的判断标准是什么？")
    assert "功能效应" in llm.prompts[0] and "<topics>" in llm.prompts[0]
    failing = Phrasing(LLMError("timeout"))
    assert suggest(cited(DOC[2]), DOC, failing, PromptLibrary()) == suggest(cited(DOC[2]), DOC)


def test_the_core_suggests_from_its_own_index(corpus_advisor: Any) -> None:
    from advisor.schema import Verdict

    gate, corpus_advisor.gate = corpus_advisor.gate, lambda q, r, v: Verdict(True)
    try:
        answer = corpus_advisor.ask("产业生态链的演进轨迹是什么？")
    finally:
        corpus_advisor.gate = gate
    suggestions = corpus_advisor.suggest(answer)
    assert 2 <= len(suggestions) <= 3 and all(s.endswith(("？", "?")) for s in suggestions)
