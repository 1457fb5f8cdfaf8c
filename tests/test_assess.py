"""The diagnosis engine on the real corpus (hash embedder): examples, scoring rules, citations, bad input, saving, summary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from advisor.assess.answers import AnswersError, AnswerSheet, load_sheet, parse_sheet
from advisor.assess.document import report_document
from advisor.assess.framework import DEFAULT_DIR, Source, load_frameworks
from advisor.assess.report import Citer
from advisor.assess.scoring import criterion_score, diagnose
from advisor.assess.service import Assessor
from advisor.assess.store import AssessmentStore, StoreError
from advisor.export.markdown import to_markdown
from advisor.schema import Chunk, Passage

from .fakes.chat_model import scripted

EXAMPLES = sorted((DEFAULT_DIR / "examples").glob("*.yaml"))
FRAMEWORKS = load_frameworks()


@pytest.fixture
def assessor(corpus_advisor: Any, tmp_path: Path) -> Assessor:
    return Assessor(corpus_advisor, store=AssessmentStore(tmp_path / "saved"))


def test_there_is_an_example_for_every_kind() -> None:
    kinds = {load_sheet(p, FRAMEWORKS).kind for p in EXAMPLES}
    assert kinds == set(FRAMEWORKS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_each_example_gives_its_expected_stage_and_top_gaps(assessor: Assessor, path: Path) -> None:
    sheet = assessor.load(path)
    assert sheet.expect is not None, f"{path.name} says what its report must show"
    result = assessor.assess(sheet).to_dict()
    assert result["stage"]["id"] == sheet.expect.stage
    gaps = [g["id"] for g in result["gaps"]]
    assert gaps[: len(sheet.expect.top_gaps)] == list(sheet.expect.top_gaps)
    assert 3 <= len(result["actions"]) <= 7
    for action in result["actions"]:
        assert action["citations"], action["id"]
        if action["case"] is not None:
            assert action["case"]["citations"], action["id"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_report_markers_and_sources_agree_and_are_numbered_in_order(assessor: Assessor, path: Path) -> None:
    result = assessor.assess(assessor.load(path))
    markdown = to_markdown(report_document(result, png=b"png"))
    body, _, sources = markdown.partition("\n## " + ("出处" if result.lang == "zh" else "Sources"))
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", body)]
    assert sorted(set(cited)) == [c.n for c in result.citations]  # every source is cited, every [n] listed
    first_seen = list(dict.fromkeys(cited))
    assert first_seen == sorted(first_seen)  # numbered like an answer: in order of first citation
    for citation in result.citations:
        assert f"**[{citation.n}]**" in sources and citation.passage.chunk.location in sources


def test_the_same_answers_give_the_same_report(assessor: Assessor) -> None:
    sheet = assessor.load(EXAMPLES[0])
    first, second = (assessor.report_files(assessor.assess(sheet)) for _ in range(2))
    assert set(first) == {"report.md", "report.docx", "report.pdf", "radar.png"}
    assert first == second


def test_scoring_rules_follow_the_framework() -> None:
    park = FRAMEWORKS["park"].criteria_by_id
    assert criterion_score(park["chain_collaboration"], "partly") == 0.5
    assert criterion_score(park["homogeneity"], "yes") == 0.0  # a question about a weakness scores in reverse
    assert criterion_score(park["tech_substitution"], 60.0) == 1.0  # "over 60%" starts the warning
    assert criterion_score(park["tech_substitution"], 60.5) == 0.0
    assert criterion_score(park["talent_gap"], 25.0) == 0.0  # "reaches 25%" starts it
    assert (
        criterion_score(park["value_density"], 80.0) == 1.0
        and criterion_score(park["value_density"], 79.0) == 0.0
    )
    assert criterion_score(park["tech_trading"], 37.0) == pytest.approx(0.37)
    assert criterion_score(park["tech_trading"], 250.0) == 1.0  # clamped
    assert criterion_score(park["investment_strategy"], "lead_industry") == 0.5
    assert criterion_score(park["chain_collaboration"], None) is None


def test_a_skipped_question_is_not_guessed_but_reported(assessor: Assessor) -> None:
    mature = load_sheet(DEFAULT_DIR / "examples" / "park-mature-cluster.yaml", FRAMEWORKS).to_dict()
    mature["answers"].pop("chain_collaboration")
    result = assessor.assess(parse_sheet(mature, FRAMEWORKS)).to_dict()
    assert result["stage"]["id"] == "agglomeration"  # not promoted on a guess
    assert [r["rule"] for r in result["undetermined"]] and not result["blocking"]
    assert "chain_collaboration" in result["not_judged"]["questions"]
    assert result["not_judged"]["stage_rules"]


def test_a_dimension_with_under_half_its_weight_answered_is_not_scored() -> None:
    park = FRAMEWORKS["park"]
    answers = {"shared_infrastructure": "yes", "supplier_proximity": "far", "chain_collaboration": "yes"}
    diagnosis = diagnose(park, AnswerSheet("park", "zh", answers))
    scores = {d.dimension.id: d.score for d in diagnosis.dimensions}
    assert scores["spatial"] == 50.0  # 2 of 3 answered: (1 + 0) / 2
    assert scores["linkage"] is None  # weight 2 of 5 answered
    assert scores["health"] is None and park.dimensions_by_id["linkage"] in diagnosis.unjudged_dimensions


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"kind": "park", "answers": {}, "colour": "teal"}, "colour"),
        ({"kind": "park", "answers": {"no_such_question": "yes"}}, "answers.no_such_question"),
        ({"kind": "park", "answers": {"value_density": 900}}, "answers.value_density"),
        ({"kind": "park", "answers": {"value_density": -1}}, "answers.value_density"),
        ({"kind": "park", "answers": {"value_density": "high"}}, "answers.value_density"),
        ({"kind": "park", "answers": {"value_density": True}}, "answers.value_density"),
        ({"kind": "park", "answers": {"chain_collaboration": "maybe"}}, "answers.chain_collaboration"),
        ({"kind": "park", "answers": {"chain_collaboration": 3}}, "answers.chain_collaboration"),
        ({"kind": "park", "answers": {"supplier_proximity": "next door"}}, "answers.supplier_proximity"),
        ({"kind": "estate", "answers": {}}, "kind"),
        ({"kind": "park", "lang": "fr", "answers": {}}, "lang"),
        ({"kind": "park", "answers": ["yes"]}, "answers"),
        ({"kind": "park", "answers": {}, "expect": {"stage": "paradise"}}, "expect.stage"),
    ],
)
def test_bad_answers_name_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(AnswersError) as error:
        parse_sheet(data, FRAMEWORKS)
    assert str(error.value).startswith(f"{key}:"), str(error.value)


def test_answers_accept_yaml_booleans_words_in_both_languages_and_skips() -> None:
    sheet = parse_sheet(
        {
            "kind": "park",
            "answers": {
                "chain_collaboration": True,
                "homogeneity": "否",
                "tiered_structure": "P",
                "factor_hub": None,
            },
        },
        FRAMEWORKS,
    )
    assert sheet.answers == {"homogeneity": "no", "chain_collaboration": "yes", "tiered_structure": "partly"}


def test_a_parallel_document_is_cited_in_the_report_language(corpus_advisor: Any) -> None:
    quote = "集群内企业可共用交通物流、能源配套、公共检验检测平台等基础设施"
    english = corpus_advisor.locate("vcm-industrial-cluster", quote, "en")
    assert english.chunk.lang == "en" and quote in english.parallel_text
    chinese = corpus_advisor.locate("vcm-industrial-cluster", quote, "zh")
    assert quote in chinese.chunk.text and chinese.parallel_text
    assert corpus_advisor.locate("vcm-industrial-cluster", "a sentence no document holds", "zh") is None


class _Locator:
    """Chunks of a Chinese document and of its English translation, as the index will hold them."""

    def __init__(self) -> None:
        self.chunks = {
            "d": Chunk("d:0", "d", "原文", "zh", "产业集聚是集群的初级阶段。", 0, "corpus/d.md", 5, 5),
            "d-en": Chunk(
                "d-en:0",
                "d-en",
                "Original",
                "en",
                "Agglomeration is the first stage.",
                0,
                "corpus/d-en.md",
                5,
                5,
            ),
        }

    def locate(self, doc_id: str, quote: str, lang: Any = None) -> Passage | None:
        chunk = self.chunks.get(doc_id)
        return Passage(chunk, 1.0) if chunk is not None and quote in chunk.text else None


def test_an_english_report_cites_the_indexed_translation_with_the_original_beside_it() -> None:
    source = Source.model_validate(
        {"doc": "d", "quote": "初级阶段", "en": {"doc": "d-en", "quote": "first stage"}}
    )
    english = Citer(_Locator(), "en").passage(source)
    assert english.chunk.doc_id == "d-en" and english.parallel_text == "产业集聚是集群的初级阶段。"
    assert Citer(_Locator(), "zh").passage(source).chunk.doc_id == "d"
    missing = Source.model_validate(
        {"doc": "d", "quote": "初级阶段", "en": {"doc": "x-en", "quote": "first"}}
    )
    assert (
        Citer(_Locator(), "en").passage(missing).chunk.doc_id == "d"
    )  # no translation indexed: the original


def test_saved_assessments_are_listed_reopened_and_compared(assessor: Assessor, tmp_path: Path) -> None:
    low = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / "park-agglomeration.yaml"))
    high = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / "park-mature-cluster.yaml"))
    assessor.save(low, "Park A 2024", "2024-12-31T10:00:00+00:00")
    assessor.save(high, "Park A 2025", "2025-12-31T10:00:00+00:00")
    assert [r.id for r in assessor.saved()] == ["park-a-2025", "park-a-2024"]
    assert not list((tmp_path / "saved").glob("*.tmp"))  # written through a temporary file, renamed
    reopened = assessor.reopen("Park A 2024")
    assert reopened.diagnosis.verdict.stage.id == "agglomeration" and reopened.lang == "zh"
    comparison = assessor.compare("park-a-2024", "park-a-2025", lang="en")
    rows = {r.dimension: r for r in comparison.rows}
    assert rows["linkage"].a == 0.0 and rows["linkage"].b == 70.0 and rows["linkage"].change == 70.0
    header, table = comparison.table("en", "2024", "2025")
    assert header[1:3] == ("2024", "2025") and table[0][1:3] == ("Agglomeration", "Mature cluster")
    assessor.save(high, "Park A 2024", "2026-01-01T00:00:00+00:00")  # the same name replaces
    assert (
        len(assessor.saved()) == 2
        and assessor.reopen("park-a-2024").diagnosis.verdict.stage.id == "mature_cluster"
    )
    with pytest.raises(StoreError, match="park-a-2023"):
        assessor.reopen("park-a-2023")


def test_assessments_of_different_kinds_cannot_be_compared(assessor: Assessor) -> None:
    park = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / "park-agglomeration.yaml"))
    firm = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / "enterprise-bilateral.yaml"))
    assessor.save(park, "a", "2025-01-01")
    assessor.save(firm, "b", "2025-01-02")
    with pytest.raises(ValueError, match="cannot compare"):
        assessor.compare("a", "b")


def _with_model(advisor: Any, model: Any) -> None:
    advisor.chat_models["openai"] = lambda timeout: model
    advisor._llm.clear()


def test_with_an_llm_a_cited_summary_comes_first_in_the_report_numbering(
    corpus_advisor: Any, assessor: Assessor
) -> None:
    model = scripted("园区仍处于产业集聚阶段[1]。首先要补上缺失的配套环节[5]，再推行链长制[3]。")
    _with_model(corpus_advisor, model)
    sheet = assessor.load(DEFAULT_DIR / "examples" / "park-agglomeration.yaml")
    result = assessor.assess(sheet, backend="openai")
    assert result.summary is not None and result.summary.prompt.startswith("assess_summary.zh@")
    assert result.summary.text == "园区仍处于产业集聚阶段[1]。首先要补上缺失的配套环节[5]，再推行链长制[3]。"
    prompt = model.user_prompt()
    assert "<passages>" in prompt and result.citations[4].passage.chunk.text.split("\n")[0][:20] in prompt
    markdown = to_markdown(report_document(result, png=b"png"))
    assert markdown.index(result.summary.text) < markdown.index("## 阶段判断")
    assert result.to_dict()["summary"]["backend"] == "openai"


@pytest.mark.parametrize(
    "reply", ["没有任何出处的摘要，说得很长很长很长很长。", "编造的出处[99]。", ValueError("garbled")]
)
def test_an_unusable_summary_is_left_out_silently(
    corpus_advisor: Any, assessor: Assessor, reply: Any
) -> None:
    _with_model(corpus_advisor, scripted(reply, reply, reply))
    result = assessor.assess(
        assessor.load(DEFAULT_DIR / "examples" / "park-agglomeration.yaml"), backend="openai"
    )
    assert result.summary is None and result.citations


def test_without_an_llm_the_report_is_complete_from_templates(assessor: Assessor) -> None:
    result = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / "county-emerging-cluster.yaml"))
    assert result.summary is None
    markdown = to_markdown(report_document(result, png=b"png"))
    for heading in (
        "阶段判断",
        "各维度得分",
        "主要差距",
        "建议行动",
        "需要持续关注的指标",
        "无法判断的内容",
        "出处",
    ):
        assert f"## {heading}" in markdown
    assert "案例：" in markdown and "技术替代指数" in markdown


@pytest.mark.parametrize("name", ["park-agglomeration.yaml", "park-mature-cluster.yaml"])
def test_the_exported_docx_and_pdf_hold_the_verdict_and_the_citations(assessor: Assessor, name: str) -> None:
    import io

    import docx
    from pypdf import PdfReader

    result = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / name))
    files = assessor.report_files(result)
    stage = result.diagnosis.verdict.stage.name(result.lang)
    first = result.citations[0].passage.chunk
    document = docx.Document(io.BytesIO(files["report.docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert stage in text and "[1]" in text and f"[1] {first.title} — {first.location}" in text
    assert len(document.inline_shapes) == 1  # the radar chart
    pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(files["report.pdf"])).pages)
    squashed = "".join(pdf.split())
    assert "".join(stage.split()) in squashed and "[1]" in squashed and first.location in squashed
    assert files["radar.png"].startswith(b"\x89PNG") and b"](radar.png)" in files["report.md"]
